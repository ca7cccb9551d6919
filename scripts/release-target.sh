#!/usr/bin/env bash
# Prints the target triple of emp-seal's release build on this machine (docs/performance.md,
# "Release build"): the static musl build on Linux x86_64 and aarch64, the host's own target
# elsewhere. Used by scripts/test.sh (the suite tests the release build) and scripts/bench.sh
# (the benchmarks time it). .ci/setup.sh installs the target and musl-gcc.
#
# Falls back to the host target, with a warning, when the musl target or musl-gcc is missing;
# under CI=true that is an error instead, so CI never tests or times a different build silently.
# `--wanted` prints the target without checking that it is installed (what .ci/setup.sh installs).
set -euo pipefail
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu) want=${host%-gnu}-musl ;;
*) want=$host ;;
esac
if [ "${1:-}" = --wanted ] || [ "$want" = "$host" ]; then
    echo "$want"
    exit 0
fi
if rustup target list --installed 2>/dev/null | grep -qx "$want" && command -v musl-gcc >/dev/null; then
    echo "$want"
    exit 0
fi
if [ "${CI:-}" = true ]; then
    echo "release-target.sh: the release target $want or musl-gcc is missing (bash .ci/setup.sh installs both)" >&2
    exit 1
fi
echo "release-target.sh: $want or musl-gcc missing; using $host (bash .ci/setup.sh installs them)" >&2
echo "$host"
