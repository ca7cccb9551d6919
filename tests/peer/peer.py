#!/usr/bin/env python3
"""Bridge from the Rust test suite to the independent PyPI implementation of the kubeseal scheme.

Reads one JSON request per line on stdin and writes one JSON answer per line on stdout, so one
process serves many calls. Secrets travel only through these pipes, never argv or files.

Request:  {"op": "encrypt", "pem": "<public key or certificate PEM>", "label": "<b64>", "data": "<b64>"}
          {"op": "decrypt", "pem": "<private key PEM>", "label": "<b64>", "data": "<b64>"}
Answer:   {"ok": true, "data": "<b64>"}   or   {"ok": false, "error": "<exception class>"}

The peer is `aes-gcm-rsa-oaep` 0.1.0 (PyPI); it is installed in a virtualenv by .ci/setup.sh.
"""
import base64
import json
import sys

from aes_gcm_rsa_oaep import decrypt, encrypt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def public_key(pem: bytes):
    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def main() -> int:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        label = base64.b64decode(req["label"])
        data = base64.b64decode(req["data"])
        pem = req["pem"].encode()
        try:
            if req["op"] == "encrypt":
                out = encrypt(data, public_key(pem), label)
            elif req["op"] == "decrypt":
                key = serialization.load_pem_private_key(pem, password=None)
                out = decrypt(data, key, label)
            else:
                raise ValueError("unknown op")
            ans = {"ok": True, "data": base64.b64encode(out).decode()}
        except Exception as exc:  # noqa: BLE001 - the test asserts on failure, not on its kind
            ans = {"ok": False, "error": type(exc).__name__}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
