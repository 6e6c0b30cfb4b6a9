"""The key: pseudonym -> real value, per project, encrypted at rest.

Stored as ``<keys>/crosswalk.enc``: AES-256-GCM under a key derived from a
passphrase with scrypt. The passphrase comes from ``QSCRIBE_PASSPHRASE`` or from
``deid.passphrase_file``; on first use without either, a random passphrase is
written to that file (0600) and the RA is told to move it somewhere safe. The
key is read and written under a file lock, so batch workers share it safely.
It is never written to outputs or logs.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.workdir import make_dir, write_json, write_text

logger = logging.getLogger(__name__)

PASSPHRASE_VAR = "QSCRIBE_PASSPHRASE"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def passphrase(file: Path, key_exists: bool = False) -> str:
    """The key passphrase: the environment variable, else the passphrase file.

    A new passphrase file is made only for a new key: an existing key was locked with
    a passphrase that a new file would not match.
    """
    value = os.environ.get(PASSPHRASE_VAR)
    if value:
        return value
    if file.is_file():
        return file.read_text(encoding="utf-8").strip()
    if key_exists:
        raise PipelineError(
            f"The project key exists but no passphrase was given ({PASSPHRASE_VAR} is not set "
            f"and {file} is missing).",
            hint=f"Set {PASSPHRASE_VAR} to the passphrase the key was made with.",
        )
    make_dir(file.parent)
    passphrase = secrets.token_urlsafe(24)
    write_text(file, passphrase + "\n")
    logger.warning(
        "no key passphrase was set: one was generated in %s; keep a copy somewhere safe "
        "(without it the key cannot be read), or set %s",
        file,
        PASSPHRASE_VAR,
    )
    return passphrase


def _derive(secret: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, **SCRYPT).derive(secret.encode("utf-8"))


def encrypt(data: dict[str, Any], secret: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    blob = AESGCM(_derive(secret, salt)).encrypt(
        nonce, json.dumps(data).encode(), b"qscribe-key-v1"
    )
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return {
        "format": "qscribe-key-v1",
        "kdf": "scrypt",
        **SCRYPT,
        "salt": b64(salt),
        "nonce": b64(nonce),
        "ciphertext": b64(blob),
    }


def decrypt(box: dict[str, Any], secret: str) -> dict[str, Any]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = {k: base64.b64decode(box[k]) for k in ("salt", "nonce", "ciphertext")}
    try:
        plain = AESGCM(_derive(secret, raw["salt"])).decrypt(
            raw["nonce"], raw["ciphertext"], b"qscribe-key-v1"
        )
    except InvalidTag:
        raise PipelineError(
            "The key could not be opened: wrong passphrase, or the key file is damaged.",
            hint=f"Set {PASSPHRASE_VAR} to the project's passphrase.",
        ) from None
    return json.loads(plain)


class KeyStore:
    """The project's encrypted crosswalk, opened for one read-modify-write at a time."""

    def __init__(self, keys_dir: Path, passphrase_file: Path) -> None:
        self.dir = make_dir(keys_dir)
        self.path = self.dir / "crosswalk.enc"
        self.passphrase_file = passphrase_file

    @contextlib.contextmanager
    def open(self) -> Iterator[dict[str, Any]]:
        """The decrypted crosswalk; changes are encrypted and saved when the block ends."""
        secret = passphrase(self.passphrase_file, key_exists=self.path.is_file())
        with open(self.dir / "crosswalk.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = (
                decrypt(json.loads(self.path.read_text()), secret)
                if self.path.is_file()
                else {"version": 1, "entries": {}, "index": {}, "counters": {}}
            )
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                write_json(self.path, encrypt(data, secret))

    def read(self) -> dict[str, Any]:
        with self.open() as data:
            return data
