#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (docs/reliability.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 seconds each, every target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and, on a stable toolchain, RUSTC_BOOTSTRAP=1
# (set here) for the sanitizer flags. Each target starts from fuzz/seeds/TARGET (tracked) and
# grows fuzz/corpus/TARGET (ignored by git). Crashes land in fuzz/artifacts/TARGET/ and stop the
# run with a non-zero exit. The last libFuzzer status line of each target (executions, cov:, ft:,
# corpus) is printed and appended to fuzz/last-run.txt (ignored by git) for docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1

secs="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }

cargo fuzz build -O >/dev/null
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  log="$(mktemp)"
  echo "== $t for ${secs}s"
  # -rss_limit_mb: the machine is shared; -max_len: 64 KiB covers the long-line and PEM cases.
  if ! cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      >"$log" 2>&1; then
    status=1
    echo "!! $t found a crash: see fuzz/artifacts/$t/" >&2
    grep -E "panicked|ERROR|SUMMARY" "$log" | head -20 >&2 || true
  fi
  final="$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1)"
  execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
  echo "$final"
  printf '%s\t%s\t%ss\texecs=%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "${execs:-?}" "$final" >>last-run.txt
  rm -f "$log"
done
exit "$status"
