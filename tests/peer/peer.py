#!/usr/bin/env python3
"""Bridge from the Rust test suite to the independent PyPI implementation of the kubeseal scheme.

Reads one JSON request per line on stdin and writes one JSON answer per line on stdout, so one
process serves many calls. Secrets travel only through these pipes, never argv or files.

Request:  {"op": "encrypt", "pem": "<public key or certificate PEM>", "label": "<b64>", "data": "<b64>"}
          {"op": "decrypt", "pem": "<private key PEM>", "label": "<b64>", "data": "<b64>"}
          {"op": "encrypt_session", ..., "session": "<b64>"}: the kubeseal layout built here with
          the `cryptography` package (OpenSSL) around a given AES session key of 16, 24 or 32
          bytes, for the AES-128/192 values the controller opens but kubeseal never writes.
Answer:   {"ok": true, "data": "<b64>"}   or   {"ok": false, "error": "<exception class>"}

The peer is `aes-gcm-rsa-oaep` 0.1.0 (PyPI); it is installed in a virtualenv by .ci/setup.sh.
"""
import base64
import json
import sys

from aes_gcm_rsa_oaep import decrypt, encrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def public_key(pem: bytes):
    if b"CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def encrypt_session(data: bytes, pub, label: bytes, session: bytes) -> bytes:
    """sealed-secrets HybridEncrypt with a caller's session key (zero nonce, no AAD)."""
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    rsa_ct = pub.encrypt(session, oaep)
    return len(rsa_ct).to_bytes(2, "big") + rsa_ct + AESGCM(session).encrypt(b"\0" * 12, data, None)


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
            elif req["op"] == "encrypt_session":
                out = encrypt_session(data, public_key(pem), label, base64.b64decode(req["session"]))
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
