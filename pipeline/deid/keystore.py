"""The key: pseudonym -> real value, per project, encrypted at rest.

Stored as ``<keys>/crosswalk.enc``: AES-256-GCM under a key derived from a
passphrase with scrypt. The key is read and written under a file lock, so batch
workers share it safely. It is never written to outputs or logs.

The passphrase is kept apart from the key, so whoever copies ``var/keys`` does
not have both. It is looked for, in order, in:

1. ``QSCRIBE_PASSPHRASE`` (a lab server sets it in its service environment);
2. ``deid.passphrase_file`` when one is configured (a file the admin chose; a
   ``var/keys/passphrase`` made by earlier versions still works, with a warning to
   move it: ``qscribe key rotate`` does that);
3. the OS keyring through the ``keyring`` library, where a usable backend exists
   (service ``qscribe``, one entry per project);
4. a file outside the project tree: ``$QSCRIBE_SECRETS_DIR`` or
   ``~/.config/qscribe/<project>.passphrase`` (0600 in a 0700 folder).

A new key gets a random passphrase in 3, else 4 (never in a configured file, which
is only read); putting it in a file says so once, when the file is made.
``rotate`` re-encrypts the key under a new passphrase without a moment where a
crash could leave a key that no stored passphrase opens.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import PipelineError
from pipeline.workdir import RESTRICTED_DIR, atomic_path, make_dir, write_json, write_text

logger = logging.getLogger(__name__)

PASSPHRASE_VAR = "QSCRIBE_PASSPHRASE"
#: The new passphrase for ``rotate`` when the current one comes from the environment.
NEW_PASSPHRASE_VAR = "QSCRIBE_NEW_PASSPHRASE"
#: Where passphrase files outside the project go (default ~/.config/qscribe).
SECRETS_DIR_VAR = "QSCRIBE_SECRETS_DIR"
#: Set to 0 to never use the OS keyring.
KEYRING_VAR = "QSCRIBE_KEYRING"
KEYRING_SERVICE = "qscribe"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
#: Legacy passphrase files already warned about in this process.
_warned: set[str] = set()


# -- where the passphrase lives ------------------------------------------------------


def project_id(keys_dir: Path) -> str:
    """A short id of the project (its key folder), naming its keyring entry and file."""
    return hashlib.sha256(str(Path(keys_dir).resolve()).encode()).hexdigest()[:16]


def secrets_dir() -> Path:
    if os.environ.get(SECRETS_DIR_VAR):
        return Path(os.environ[SECRETS_DIR_VAR]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "qscribe"


class Slot(Protocol):
    """A place that holds a passphrase (and, during a rotation, the next one)."""

    where: str

    def get(self, pending: bool = False) -> str | None: ...
    def put(self, value: str, pending: bool = False) -> None: ...
    def drop(self, pending: bool = False) -> None: ...


class FileSlot:
    def __init__(self, path: Path, *, legacy: bool = False) -> None:
        self.path = path
        self.legacy = legacy
        self.where = f"file {path}"

    def _path(self, pending: bool) -> Path:
        return self.path.with_name(self.path.name + ".next") if pending else self.path

    def get(self, pending: bool = False) -> str | None:
        path = self._path(pending)
        if not path.is_file():
            return None
        value = path.read_text(encoding="utf-8").strip()
        return value or None

    def put(self, value: str, pending: bool = False) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            make_dir(folder, RESTRICTED_DIR)
        write_text(self._path(pending), value + "\n")

    def drop(self, pending: bool = False) -> None:
        self._path(pending).unlink(missing_ok=True)


class KeyringSlot:
    def __init__(self, backend: Any, project: str) -> None:
        self.backend = backend
        self.project = project
        self.where = f"OS keyring ({type(backend).__name__}, service {KEYRING_SERVICE})"

    def _user(self, pending: bool) -> str:
        return f"{self.project}.next" if pending else self.project

    def get(self, pending: bool = False) -> str | None:
        value = self.backend.get_password(KEYRING_SERVICE, self._user(pending))
        return value or None

    def put(self, value: str, pending: bool = False) -> None:
        self.backend.set_password(KEYRING_SERVICE, self._user(pending), value)

    def drop(self, pending: bool = False) -> None:
        with contextlib.suppress(Exception):
            self.backend.delete_password(KEYRING_SERVICE, self._user(pending))


def keyring_backend() -> Any | None:
    """The OS keyring, when a usable one exists (not keyring's fail or null backend)."""
    if os.environ.get(KEYRING_VAR, "1").lower() in ("0", "false", "no", "off"):
        return None
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return None
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return None
        if getattr(backend, "priority", 1) <= 0:
            return None
        # A locked or unreachable store (no D-Bus session) fails here, not later.
        backend.get_password(KEYRING_SERVICE, "probe")
        return backend
    except Exception as exc:  # keyring backends raise many kinds of errors
        logger.debug("OS keyring not usable (%s)", type(exc).__name__)
        return None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def slots(keys_dir: Path, passphrase_file: Path | None) -> list[Slot]:
    """Where a stored passphrase is looked for, in order."""
    out: list[Slot] = []
    if passphrase_file is not None:
        out.append(FileSlot(passphrase_file, legacy=_inside(passphrase_file, keys_dir)))
    elif (keys_dir / "passphrase").is_file():  # where versions before 0.2 wrote it
        out.append(FileSlot(keys_dir / "passphrase", legacy=True))
    backend = keyring_backend()
    if backend is not None:
        out.append(KeyringSlot(backend, project_id(keys_dir)))
    out.append(FileSlot(secrets_dir() / f"{project_id(keys_dir)}.passphrase"))
    return out


def home_slot(keys_dir: Path, passphrase_file: Path | None) -> Slot:
    """Where a new passphrase goes: the OS keyring, else the file outside the project.

    Never a configured passphrase file: that is only read (it may sit next to the key,
    or in the project tree); an admin who wants one writes it there.
    """
    return next(s for s in slots(keys_dir, None) if not (isinstance(s, FileSlot) and s.legacy))


def _warn_legacy(slot: Slot) -> None:
    if isinstance(slot, FileSlot) and slot.legacy and str(slot.path) not in _warned:
        _warned.add(str(slot.path))
        logger.warning(
            "the key passphrase is kept next to the key (%s): whoever copies the key folder "
            "has both; run `qscribe key rotate` to move it to the OS keyring or %s",
            slot.path,
            secrets_dir(),
        )


def find_passphrase(keys_dir: Path, passphrase_file: Path | None) -> tuple[str, Slot | None] | None:
    """(passphrase, where it is stored; None for the environment), or None if none is set."""
    value = os.environ.get(PASSPHRASE_VAR)
    if value:
        return value, None
    for slot in slots(keys_dir, passphrase_file):
        found = slot.get()
        if found:
            _warn_legacy(slot)
            return found, slot
    return None


def passphrase(
    keys_dir: Path,
    passphrase_file: Path | None = None,
    *,
    key_exists: bool = False,
) -> str:
    """The key passphrase; a new one (stored apart from the key) only for a new key.

    An existing key was locked with a passphrase that a new one would not match.
    """
    found = find_passphrase(keys_dir, passphrase_file)
    if found:
        return found[0]
    if key_exists:
        raise PipelineError(
            f"The project key exists but no passphrase was given ({PASSPHRASE_VAR} is not set "
            "and none is stored in the OS keyring or the passphrase file).",
            hint=f"Set {PASSPHRASE_VAR} to the passphrase the key was made with.",
        )
    slot = home_slot(keys_dir, passphrase_file)
    value = secrets.token_urlsafe(24)
    slot.put(value)
    if isinstance(slot, FileSlot):
        logger.warning(
            "no key passphrase was set and no OS keyring is available: one was generated in "
            "%s (0600, outside the key folder); keep a copy somewhere safe (without it the key "
            "cannot be read), or set %s",
            slot.path,
            PASSPHRASE_VAR,
        )
    else:
        logger.info("a new key passphrase was stored in the %s", slot.where)
    return value


# -- encryption ----------------------------------------------------------------------


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


def export_id(crosswalk: dict[str, Any], session_id: str) -> str:
    """The random id that stands for a session's recording in what leaves the lab.

    Made once per session and kept in the key (so reruns give the same id); it is not
    derived from the recording, and only the key maps it back to the session.
    """
    ids = crosswalk.setdefault("export_ids", {})
    if session_id not in ids:
        ids[session_id] = secrets.token_hex(16)
    return str(ids[session_id])


def session_of_export_id(crosswalk: dict[str, Any], value: str) -> str | None:
    """The session an export id stands for (authorized use, with the key open)."""
    return next((sid for sid, eid in crosswalk.get("export_ids", {}).items() if eid == value), None)


# -- the key -------------------------------------------------------------------------


class KeyStore:
    """The project's encrypted crosswalk, opened for one read-modify-write at a time."""

    def __init__(self, keys_dir: Path, passphrase_file: Path | None = None) -> None:
        self.dir = make_dir(keys_dir)
        self.path = self.dir / "crosswalk.enc"
        self.passphrase_file = Path(passphrase_file) if passphrase_file else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / "crosswalk.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _unlock(self) -> tuple[str, Slot | None, dict[str, Any] | None]:
        """(passphrase, where it is kept, the decrypted key or None for a new key).

        Each stored passphrase is tried: one left pending by an interrupted rotation
        that opens the key becomes the current one; one that does not is dropped.
        """
        if not self.path.is_file():
            secret = passphrase(self.dir, self.passphrase_file)
            found = find_passphrase(self.dir, self.passphrase_file)
            return secret, found[1] if found else None, None
        box = json.loads(self.path.read_text())
        env = os.environ.get(PASSPHRASE_VAR)
        if env:
            return env, None, decrypt(box, env)
        tried = 0
        for slot in slots(self.dir, self.passphrase_file):
            pending = slot.get(pending=True)
            if pending:
                with contextlib.suppress(PipelineError):
                    data = decrypt(box, pending)
                    slot.put(pending)
                    slot.drop(pending=True)
                    logger.warning("an interrupted key rotation was completed (%s)", slot.where)
                    return pending, slot, data
                slot.drop(pending=True)  # the key was not replaced: the old one still opens it
            current = slot.get()
            if current:
                tried += 1
                with contextlib.suppress(PipelineError):
                    data = decrypt(box, current)
                    _warn_legacy(slot)
                    return current, slot, data
        if tried:
            raise PipelineError(
                "The key could not be opened: no stored passphrase opens it (wrong passphrase, "
                "or the key file is damaged).",
                hint=f"Set {PASSPHRASE_VAR} to the project's passphrase.",
            )
        passphrase(self.dir, self.passphrase_file, key_exists=True)  # raises: none is set
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def open(self) -> Iterator[dict[str, Any]]:
        """The decrypted crosswalk; changes are encrypted and saved when the block ends."""
        with self._locked():
            secret, _, opened = self._unlock()
            data = (
                opened
                if opened is not None
                else {"version": 1, "entries": {}, "index": {}, "counters": {}}
            )
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                write_json(self.path, encrypt(data, secret))

    def read(self) -> dict[str, Any]:
        with self.open() as data:
            return data

    def check(self) -> dict[str, Any]:
        """Whether the passphrase opens the key: where it came from, and counts only."""
        if not self.path.is_file():
            raise PipelineError(
                f"there is no project key yet ({self.path}).",
                hint="It is made by the first de-identification run.",
            )
        with self._locked():
            _, slot, data = self._unlock()
        assert data is not None
        return {
            "source": "environment" if slot is None else slot.where,
            "next_to_key": isinstance(slot, FileSlot) and slot.legacy,
            "pseudonyms": len(data.get("entries", {})),
            "sessions": len(data.get("sessions", {})),
        }

    def rotate(self, new: str | None = None) -> str:
        """Re-encrypt the key under a new passphrase; returns where the new one is kept.

        The new passphrase is stored as pending, the key replaced atomically, then the
        pending passphrase becomes the current one: a crash at any point leaves a key
        that a stored passphrase opens (settled on the next open). When the current
        passphrase comes from the environment, the new one must too
        (``QSCRIBE_NEW_PASSPHRASE``), and the service's environment is updated by hand.
        """
        if not self.path.is_file():
            raise PipelineError(
                f"there is no project key to rotate ({self.path}).",
                hint="It is made by the first de-identification run.",
            )
        with self._locked():
            old, old_slot, data = self._unlock()
            assert data is not None
            if old_slot is None:
                new = new or os.environ.get(NEW_PASSPHRASE_VAR)
                if not new:
                    raise PipelineError(
                        f"the passphrase comes from {PASSPHRASE_VAR}, so the new one must too.",
                        hint=f"Set {NEW_PASSPHRASE_VAR} to the new passphrase and run again.",
                    )
            new = new or secrets.token_urlsafe(24)
            if new == old:
                raise PipelineError("the new passphrase is the same as the old one.")
            target = (
                None
                if old_slot is None
                else home_slot(self.dir, self.passphrase_file)
                if isinstance(old_slot, FileSlot) and old_slot.legacy
                else old_slot
            )
            if target is not None:
                target.put(new, pending=True)
            with atomic_path(self.path) as tmp:
                tmp.write_text(json.dumps(encrypt(data, new), indent=1) + "\n")
            if target is not None:
                target.put(new)
                target.drop(pending=True)
                if old_slot is not target and old_slot is not None:
                    old_slot.drop()
            return (
                f"environment: set {PASSPHRASE_VAR} to the value of {NEW_PASSPHRASE_VAR}"
                if target is None
                else target.where
            )
