"""Sealing personal data at rest with AES-GCM, and keyed hashes for matching without it.

One JSON blob per person is sealed (nonce + ciphertext); the person key and the household
address are also kept as HMACs so that duplicates and households are found without
decrypting. The key comes from KLERO_REGISTRY_ENCRYPTION_KEY; on the embedded SQLite default
a key file is generated in the data folder on first start, because a demo must run with
nothing configured while a real deployment must not silently invent its key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pathlib
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common.settings import SettingsError
from services.registry.settings import Settings

KEY_ENV = "KLERO_REGISTRY_ENCRYPTION_KEY"
KEY_FILE = "registry.key"


def _decode_key(raw: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw.strip().encode() + b"=" * (-len(raw.strip()) % 4))
    except (ValueError, TypeError):
        raise SettingsError(where, "is not URL-safe base64") from None
    if len(key) != 32:
        raise SettingsError(where, f"must decode to 32 bytes, got {len(key)}")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_key(settings: Settings) -> bytes:
    if settings.encryption_key:
        return _decode_key(settings.encryption_key, KEY_ENV)
    if not settings.database().startswith("sqlite"):
        raise SettingsError(KEY_ENV, "is required when the registry does not run embedded "
                                     "(generate one with: python -c 'import base64,os;"
                                     "print(base64.urlsafe_b64encode(os.urandom(32)).decode())')")
    path = pathlib.Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_key())
    return _decode_key(path.read_text(), str(path))


class Sealer:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)
        mac_key = hmac.new(key, b"kleroterion.registry.hmac", hashlib.sha256).digest()
        # Keyed BLAKE2b is a MAC and several times cheaper per call than hmac.new, which
        # matters for a million rows; one prepared state per purpose is copied per value.
        self._macs = {purpose: hashlib.blake2b(key=mac_key, digest_size=32,
                                               person=purpose.encode())
                      for purpose in ("person", "household")}
        self._encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def seal(self, data: dict) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, self._encode(data).encode(), b"person")

    def open(self, blob: bytes) -> dict:
        return json.loads(self._aead.decrypt(blob[:12], blob[12:], b"person"))

    def digest(self, purpose: str, value: str) -> str:
        h = self._macs[purpose].copy()
        h.update(value.encode())
        return h.hexdigest()
