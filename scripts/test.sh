#!/usr/bin/env bash
# The whole test suite, as README.md documents it: installs the Python peer and tools if needed,
# then runs every Rust test (unit, integration, doc). Under CI=true nothing may be skipped.
#
# Unit and integration tests run against the release build's target (scripts/release-target.sh:
# the static musl binary on Linux x86_64/aarch64), so the binary the tests drive is the one that
# ships and that scripts/bench.sh times. Doc tests run for the host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
target=$(bash scripts/release-target.sh)
echo "test.sh: testing the $target build" >&2
cargo test --locked --all-targets --target "$target" "$@"
cargo test --locked --doc
