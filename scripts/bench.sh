#!/usr/bin/env bash
# Whole-process benchmarks behind docs/performance.md. Usage: bash scripts/bench.sh [seal|check|monorepo|all]
#
# Every tree below is a git repository with everything committed (and this repository's
# .gitignore), as a user's is: seal and check ask git about it.
# seal:  `emp-seal paper --from FILE` on a temporary copy of k8s/ with the shipped RSA-4096 demo
#        certificate: 1 key, 100 keys into the shipped file (first seal), 100 keys into a file
#        already holding 100 sealed values (reseal). Every run rewrites a freshly restored file
#        (hyperfine --prepare). Peak RSS from /usr/bin/time. kubeseal is timed alongside when it
#        is on PATH; otherwise see docs/performance.md for its reference figures.
# check: `emp-seal check` on a copy of the shipped tree and on a generated tree of 50 overlays and
#        5,000 YAML files (scripts/gen-tree.py), against `kubectl kustomize` over every overlay
#        and `detect-secrets scan --all-files` over the same tree.
# monorepo: `emp-seal check` on a generated tree of 200 overlays and 20,000 YAML files (override
#        with BENCH_MONO_OVERLAYS, BENCH_MONO_FILES), against `kubectl kustomize` over a sample of
#        20 of its overlays; prints check's and kubectl's time per overlay and their ratio.
#
# The binary is the plain release build (`cargo build --release`).
# BENCH_BASELINE=<binary> also times another emp-seal binary's seal (1 key, 100 keys) and `check`
# in the same run (a previous release, to compare against); a copy of it is timed, as of ours.
# Env: BENCH_RUNS (default 30) for the fast commands; BENCH_SLOW_RUNS (default 3) for the
# kustomize/detect-secrets sweeps over the large tree; BENCH_KEEP=1 keeps the temp directory;
# TMPDIR decides where the trees live: its disk's fsync cost is part of the seal rows (tmpfs,
# e.g. TMPDIR=/dev/shm, leaves it out); BENCH_NICE (default 0) runs hyperfine at that nice level (root only for negative values: less
# interference from concurrent jobs on a shared machine; the printed table says which was used).
# Secret values are random bytes from /dev/urandom written to 0600 temp files; never printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WHAT=${1:-all}
RUNS=${BENCH_RUNS:-30}
SLOW_RUNS=${BENCH_SLOW_RUNS:-3}
NICE=${BENCH_NICE:-0}
case "$WHAT" in seal | check | monorepo | all) ;; *)
    echo "usage: bash scripts/bench.sh [seal|check|monorepo|all]" >&2
    exit 2
    ;;
esac

install_pkg() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (apt-get)" >&2
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null; }
}
install_pkg hyperfine hyperfine
[ -x /usr/bin/time ] || install_pkg /usr/bin/time time
install_pkg git git # every tree is a git repository (commit_tree)

# The binary's path comes from cargo (it depends on CARGO_TARGET_DIR).
BIN=$(cargo build --release --locked --bin emp-seal --message-format=json-render-diagnostics |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "emp-seal" and m.get("executable"):
        print(m["executable"])')
[ -x "$BIN" ] || { echo "bench.sh: cargo built no emp-seal binary" >&2; exit 2; }

umask 077
WORK=$(mktemp -d "${TMPDIR:-/tmp}/emp-seal-bench.XXXXXX")
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "keeping $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
RESULTS=$WORK/results.tsv # name, hyperfine json, peak RSS KiB, note
# Time and measure a copy, as an installed binary would be: the file the linker has just written
# sits in the page cache in large folios that are mapped whole, which put megabytes more of the
# binary into every run's peak RSS. cp writes the copy through the page cache in ordinary pages.
cp "$BIN" "$WORK/emp-seal"
BIN=$WORK/emp-seal
if [ -n "${BENCH_BASELINE:-}" ]; then
    [ -x "$BENCH_BASELINE" ] || { echo "bench.sh: BENCH_BASELINE $BENCH_BASELINE is no executable file" >&2; exit 2; }
    cp "$BENCH_BASELINE" "$WORK/emp-seal-baseline"
    BENCH_BASELINE=$WORK/emp-seal-baseline
fi
: >"$RESULTS"

rnd() { head -c 24 /dev/urandom | base64 -w0; }

# Peak resident set (KiB), the largest of 5 runs; $1 = prepare command, rest = the command.
peak_rss() {
    local prep=$1 max=0 kib
    shift
    for _ in 1 2 3 4 5; do
        bash -c "$prep"
        /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>&1 || true
        kib=$(tail -n1 "$WORK/rss")
        [ "$kib" -gt "$max" ] && max=$kib
    done
    echo "$max"
}

# hyperfine one command: name, runs, prepare ('' for none), shell? (0/1), command...
bench() {
    local name=$1 runs=$2 prep=$3 shell=$4
    shift 4
    local json=$WORK/$(echo "$name" | tr -c 'a-zA-Z0-9' _).json
    local warm=3
    [ "$runs" -le 5 ] && warm=1
    local args=(--warmup "$warm" --runs "$runs" --export-json "$json" --style basic)
    [ "$shell" = 0 ] && args+=(-N)
    # With -N hyperfine splits --prepare into words itself: run it through bash explicitly.
    [ -n "$prep" ] && args+=(--prepare "bash -c $(printf '%q' "$prep")")
    echo "== $name" >&2
    nice -n "$NICE" hyperfine "${args[@]}" "$*" >&2
    echo "$json"
}

# Makes DIR a git repository with everything committed (and the repository's .gitignore, so
# untracked env files stay untracked), as a user's tree is: seal and check ask git about it.
commit_tree() {
    cp "$ROOT/.gitignore" "$1/.gitignore"
    git -C "$1" init -q
    git -C "$1" add -A
    git -C "$1" -c user.name=emp-seal-bench -c user.email=bench@example.invalid \
        -c commit.gpgsign=false commit -q -m "bench tree"
}

row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; }

run_seal() {
    local tree=$WORK/seal-tree
    mkdir -p "$tree"
    cp -r "$ROOT/k8s" "$tree/k8s"
    local ss=$tree/k8s/overlays/paper/sealedsecret.yaml
    cp "$ss" "$WORK/shipped.yaml"
    printf 'API_KEY=%s\n' "$(rnd)" >"$WORK/one.env"
    {
        printf 'API_KEY=%s\nPOSTGRES_PASSWORD=%s\nREDIS_PASSWORD=%s\n' "$(rnd)" "$(rnd)" "$(rnd)"
        for i in $(seq -w 1 97); do printf 'BENCH_KEY_%s=%s\n' "$i" "$(rnd)"; done
    } >"$WORK/hundred.env"
    # Declare the extra keys so the run is a plain reseal, not 97 "unknown key" warnings.
    sed 's/=.*/=/' "$WORK/hundred.env" >"$tree/k8s/overlays/paper/bench-secrets.env.example"
    commit_tree "$tree"
    "$BIN" -q -C "$tree" paper --from "$WORK/hundred.env" --no-input
    cp "$ss" "$WORK/sealed100.yaml"

    local one=("$BIN" -q -C "$tree" paper --from "$WORK/one.env" --only API_KEY --no-input)
    local hundred=("$BIN" -q -C "$tree" paper --from "$WORK/hundred.env" --no-input)
    # sync: the restore's own writes are flushed before the run, so the run's fsync waits only for
    # what emp-seal itself wrote.
    local p_shipped="cp '$WORK/shipped.yaml' '$ss' && sync" p_sealed="cp '$WORK/sealed100.yaml' '$ss' && sync"
    # The floor every row stands on: starting this binary and exiting (no work).
    row "process floor: emp-seal --version" "$(bench floor "$RUNS" '' 0 "$BIN" --version)" \
        "$(peak_rss true "$BIN" --version)" "no work; /bin/true is the machine's floor"
    row "seal 1 key (--only, RSA-4096)" "$(bench seal1 "$RUNS" "$p_shipped" 0 "${one[@]}")" \
        "$(peak_rss "$p_shipped" "${one[@]}")" "target <= 1/2 of kubeseal (docs/performance.md)"
    row "seal 1 key, --stdout (no write, no fsync)" \
        "$(bench seal1-stdout "$RUNS" "$p_shipped" 0 "${one[@]}" --stdout)" \
        "$(peak_rss "$p_shipped" "${one[@]}" --stdout)" "kubeseal also prints"
    row "seal 100 keys, first seal (3 placeholders -> 100)" \
        "$(bench seal100 "$RUNS" "$p_shipped" 0 "${hundred[@]}")" \
        "$(peak_rss "$p_shipped" "${hundred[@]}")" "target <= 1/3 of kubeseal (docs/performance.md)"
    row "seal 100 keys, reseal (100 sealed -> 100)" \
        "$(bench reseal100 "$RUNS" "$p_sealed" 0 "${hundred[@]}")" \
        "$(peak_rss "$p_sealed" "${hundred[@]}")" "target <= 1/3 of kubeseal (docs/performance.md)"
    if [ -n "${BENCH_BASELINE:-}" ]; then
        local v
        v=$("$BENCH_BASELINE" --version)
        row "baseline seal 1 key ($v)" \
            "$(bench baseline-seal1 "$RUNS" "$p_shipped" 0 "$BENCH_BASELINE" "${one[@]:1}")" \
            "$(peak_rss "$p_shipped" "$BENCH_BASELINE" "${one[@]:1}")" "BENCH_BASELINE"
        row "baseline seal 100 keys, first seal ($v)" \
            "$(bench baseline-seal100 "$RUNS" "$p_shipped" 0 "$BENCH_BASELINE" "${hundred[@]:1}")" \
            "$(peak_rss "$p_shipped" "$BENCH_BASELINE" "${hundred[@]:1}")" "BENCH_BASELINE"
    fi

    if command -v kubeseal >/dev/null 2>&1; then
        local cert=$tree/k8s/overlays/paper/sealing-cert.pem
        for n in one hundred; do
            kubectl create secret generic emp-secrets -n emp-paper --dry-run=client -o yaml \
                --from-env-file="$WORK/$n.env" >"$WORK/$n-secret.yaml"
            local ks=(bash -c "kubeseal --cert '$cert' --format yaml <'$WORK/$n-secret.yaml'")
            row "kubeseal $(kubeseal --version 2>&1 | tail -n1), $n key(s)" \
                "$(bench "kubeseal-$n" "$RUNS" '' 0 "${ks[@]}")" "$(peak_rss true "${ks[@]}")" \
                "same run"
        done
    else
        row "kubeseal (not on PATH here)" "-" "-" "reference figures: docs/performance.md"
    fi
}

run_check() {
    local small=$WORK/check-small big=$WORK/check-big
    mkdir -p "$small"
    cp -r "$ROOT/k8s" "$small/k8s"
    # dev and prod generate their Secret from an untracked `<env>-secrets.env`: give kustomize
    # the examples' placeholder values so every overlay renders.
    for ex in "$small"/k8s/overlays/*/*.env.example; do cp "$ex" "${ex%.example}"; done
    echo "generating the 50-overlay, 5,000-file tree" >&2
    python3 "$ROOT/scripts/gen-tree.py" "$big" --bin "$BIN" --overlays 50 --files 5000
    commit_tree "$small"
    commit_tree "$big"
    local ds=$ROOT/.venv-tools/bin/detect-secrets
    for t in small big; do
        local dir=${!t} runs=$RUNS label
        [ "$t" = small ] && label="shipped tree ($(find "$dir/k8s" -name '*.yaml' | wc -l) YAML, $(ls "$dir/k8s/overlays" | wc -l) overlays)"
        [ "$t" = big ] && label="generated tree (5,000 YAML, 50 overlays)" && runs=$SLOW_RUNS
        local c=("$BIN" -C "$dir" check --exit-zero)
        row "emp-seal check, $label" "$(bench "check-$t" "$RUNS" '' 0 "${c[@]}")" \
            "$(peak_rss true "${c[@]}")" "target: within 1.5x of the previous release; >= 10x faster than kubectl kustomize"
        if [ -n "${BENCH_BASELINE:-}" ]; then
            local b=("$BENCH_BASELINE" -C "$dir" check --exit-zero)
            row "baseline check ($("$BENCH_BASELINE" --version)), $label" \
                "$(bench "baseline-check-$t" "$RUNS" '' 0 "${b[@]}")" "$(peak_rss true "${b[@]}")" "BENCH_BASELINE"
        fi
        local k="for d in '$dir'/k8s/overlays/*/; do kubectl kustomize \"\$d\" >/dev/null; done"
        row "kubectl kustomize, every overlay, $label" "$(bench "kustomize-$t" "$runs" '' 1 "$k")" "-" "one process per overlay"
        if [ -x "$ds" ]; then
            local s="cd '$dir' && '$ds' scan --all-files >/dev/null"
            row "detect-secrets scan --all-files, $label" "$(bench "detect-secrets-$t" "$runs" '' 1 "$s")" "-" "$("$ds" --version)"
        else
            row "detect-secrets, $label" "-" "-" "not installed (bash .ci/setup.sh)"
        fi
    done
}

run_monorepo() {
    local big=$WORK/monorepo n=${BENCH_MONO_OVERLAYS:-200} files=${BENCH_MONO_FILES:-20000}
    echo "generating the $n-overlay, $files-file tree" >&2
    python3 "$ROOT/scripts/gen-tree.py" "$big" --bin "$BIN" --overlays "$n" --files "$files"
    commit_tree "$big"
    local label="generated tree ($files YAML, $n overlays)"
    local c=("$BIN" -C "$big" check --exit-zero)
    local cj kj sample
    cj=$(bench check-mono "$SLOW_RUNS" '' 0 "${c[@]}")
    row "emp-seal check, $label" "$cj" "$(peak_rss true "${c[@]}")" "goal: peak RSS < 100 MiB"
    # kubectl over 20 overlays spread over the tree (every (n/20)-th), one process each.
    sample=$(find "$big/k8s/overlays" -mindepth 1 -maxdepth 1 -type d | sort |
        awk -v s=$((n / 20)) '(NR - 1) % s == 0' | head -n 20 | tr '\n' ' ')
    kj=$(bench kustomize-mono "$SLOW_RUNS" '' 1 "for d in $sample; do kubectl kustomize \$d >/dev/null; done")
    row "kubectl kustomize, 20 of the $n overlays" "$kj" "-" "one process per overlay"
    python3 - "$cj" "$kj" "$n" >>"$NOTES" <<'EOF'
import json, sys
check = json.load(open(sys.argv[1]))["results"][0]["mean"] / int(sys.argv[3])
kube = json.load(open(sys.argv[2]))["results"][0]["mean"] / 20
print(f"per overlay: check {check * 1000:.2f} ms, kubectl kustomize {kube * 1000:.1f} ms: "
      f"check takes 1/{kube / check:.0f} of kubectl's time (goal: at most 1/50)")
EOF
}

NOTES=$WORK/notes
: >"$NOTES"
case "$WHAT" in
seal) run_seal ;;
check) run_check ;;
monorepo) run_monorepo ;;
all) run_seal && run_check && run_monorepo ;;
esac

python3 - "$RESULTS" <<'EOF'
import json, sys
print()
print(f"| benchmark | mean ± σ | min | median | CPU user+sys | peak RSS | note |")
print("|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    name, js, rss, note = line.rstrip("\n").split("\t")
    if js == "-":
        print(f"| {name} | – | – | – | – | – | {note} |")
        continue
    r = json.load(open(js))["results"][0]
    big = r["mean"] >= 10
    ms = lambda s: f"{s:.2f} s" if big else f"{s * 1000:.1f} ms"
    mem = f"{int(rss) / 1024:.1f} MiB" if rss != "-" else "–"
    cpu = ms(r["user"] + r["system"])
    sd = ms(r["stddev"]) if r["stddev"] is not None else "– (1 run)"  # hyperfine: null for one run
    print(f"| {name} | {ms(r['mean'])} ± {sd} | {ms(r['min'])} | {ms(r['median'])} | {cpu} | {mem} | {note} |")
EOF
cat "$NOTES"
echo
echo "machine: $(nproc) cores, TMPDIR $(df --output=fstype "$WORK" | tail -n1), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), nice $NICE, $(date -u +%Y-%m-%dT%H:%MZ), emp-seal $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml || echo +dirty)"
