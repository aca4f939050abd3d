"""Filings that waited on a device: opening what the device sealed, and the device's offline PIN (docs/OFFLINE.md).

A device that may lose the server (a kiosk, a desk tablet) keeps each filing it could not send in IndexedDB,
sealed to a public key the server gave it: ECDH-ES on P-256 with a fresh key pair per filing, HKDF-SHA256, then
AES-256-GCM over the filing's JSON with its Idempotency-Key as associated data (WebCrypto in the browser,
asm/static/offline/queue.js). The matching private key never leaves the server: it is derived here from SECRET_KEY
and the device's label, so nothing is stored, and the device cannot read back what it sealed. It sends the sealed
envelope as it is; the endpoint opens it here and reads the filing as if it had been sent in clear.

Kiosk labels contain the hash of the device credential: pairing again gives the device a new key pair.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

VERSION = 1
INFO = b"asm-offline-v1"  # HKDF info, the same in queue.js
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MAX_ENVELOPE = 1_000_000


class SealError(Exception):
    """An envelope that is not one, or that this device's key does not open (altered, another device's, an old
    pairing's)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def private_key(label: str) -> ec.EllipticCurvePrivateKey:
    """The device's private key, derived from the app's secret and the device's label (nothing stored)."""
    secret = str(current_app.secret_key).encode()
    digest = hmac.new(secret, b"asm-offline-seal|" + label.encode(), hashlib.sha512).digest()
    scalar = int.from_bytes(digest) % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def public_jwk(label: str) -> dict[str, str]:
    """What the device is given: the public half, as a JWK that WebCrypto imports."""
    numbers = private_key(label).public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32)),
        "y": b64url(numbers.y.to_bytes(32)),
        "kid": b64url(hashlib.sha256(label.encode()).digest()[:9]),
    }


def is_envelope(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"sealed"}


def open_envelope(label: str, body: Any, aad: str) -> Any:
    """The JSON the device sealed. Raises SealError."""
    try:
        sealed = body["sealed"]
        if sealed.get("v") != VERSION:
            raise SealError("version")
        epk = sealed["epk"]
        x, y = int.from_bytes(unb64url(epk["x"])), int.from_bytes(unb64url(epk["y"]))
        peer = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        iv, data = unb64url(sealed["iv"]), unb64url(sealed["ct"])
        if len(iv) != 12 or len(data) > MAX_ENVELOPE:
            raise SealError("size")
        shared = private_key(label).exchange(ec.ECDH(), peer)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(shared)
        plain = AESGCM(key).decrypt(iv, data, aad.encode())
        return json.loads(plain)
    except SealError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, InvalidTag) as exc:
        raise SealError(type(exc).__name__) from exc


# --- the kiosk's staff PIN, offline ------------------------------------------------------------------------------


def pin_material(pin: str, iterations: int) -> dict[str, Any]:
    """PBKDF2-HMAC-SHA256 of the PIN with a fresh salt, 64 bytes: the first half is the verifier the device holds,
    the second the key of the approvals it signs offline (kept by the server only, never given to the device)."""
    salt = secrets.token_bytes(16)
    derived = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations, dklen=64)
    return {
        "salt": b64url(salt),
        "iterations": iterations,
        "verifier": b64url(derived[:32]),
        "proof": b64url(derived[32:]),
    }


def proof_valid(material: dict[str, Any] | None, key: str, proof: Any) -> bool:
    """An approval made offline: HMAC-SHA256(second half of the PIN's PBKDF2, Idempotency-Key)."""
    if not material or not isinstance(proof, str) or not key:
        return False
    expected = b64url(hmac.new(unb64url(material["proof"]), key.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, proof)
