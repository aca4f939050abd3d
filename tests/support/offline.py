"""What a device does to a filing before it keeps it (asm/static/offline/queue.js `seal`), in Python for the tests:
ECDH-ES on P-256 to the device's public key, HKDF-SHA256, AES-256-GCM with the Idempotency-Key as associated data."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from asm import offline


def seal(label: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    """The envelope a device would send (call inside an app context: the server's key comes from SECRET_KEY)."""
    server = offline.private_key(label).public_key()
    mine = ec.generate_private_key(ec.SECP256R1())
    shared = mine.exchange(ec.ECDH(), server)
    aes = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=offline.INFO).derive(shared)
    iv = os.urandom(12)
    ct = AESGCM(aes).encrypt(iv, json.dumps(body).encode(), key.encode())
    numbers = mine.public_key().public_numbers()
    epk = {"x": offline.b64url(numbers.x.to_bytes(32)), "y": offline.b64url(numbers.y.to_bytes(32))}
    return {"sealed": {"v": 1, "epk": epk, "iv": offline.b64url(iv), "ct": offline.b64url(ct)}}
