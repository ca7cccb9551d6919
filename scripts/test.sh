#!/usr/bin/env bash
# The whole test suite, as README.md documents it: installs the Python peer and tools if needed,
# then runs every Rust test (unit, integration, doc) on the host target. Under CI=true nothing may
# be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
cargo test --locked --all-targets "$@"
cargo test --locked --doc
