"""The key's passphrase kept apart from the key; check, rotate; the random export id."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from pipeline.deid import keystore
from pipeline.deid.keystore import KeyStore, export_id
from pipeline.errors import PipelineError


class MemoryKeyring:
    """A usable keyring backend (the keyring library's interface), kept in memory."""

    priority = 5

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.store[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        self.store.pop((service, user), None)


@pytest.fixture
def no_env(tmp_path, monkeypatch):
    """No passphrase in the environment, no OS keyring, secrets under tmp_path."""
    monkeypatch.delenv("QSCRIBE_PASSPHRASE", raising=False)
    monkeypatch.delenv("QSCRIBE_NEW_PASSPHRASE", raising=False)
    monkeypatch.setenv("QSCRIBE_KEYRING", "0")
    monkeypatch.setenv("QSCRIBE_SECRETS_DIR", str(tmp_path / "home-config" / "qscribe"))
    keystore._warned.clear()
    return tmp_path / "home-config" / "qscribe"


@pytest.fixture
def memory_keyring(no_env, monkeypatch):
    ring = MemoryKeyring()
    monkeypatch.setenv("QSCRIBE_KEYRING", "1")
    monkeypatch.setattr(keystore, "keyring_backend", lambda: ring)
    return ring


def make_key(store: KeyStore) -> None:
    with store.open() as cw:
        cw["entries"]["PERSON-1"] = {"type": "PERSON", "values": ["Alan Greene"], "sessions": []}


def test_new_passphrase_goes_outside_the_project_when_no_keyring(tmp_path, no_env, caplog):
    keys = tmp_path / "project" / "var" / "keys"
    store = KeyStore(keys, keys / "passphrase")
    with caplog.at_level(logging.WARNING, logger="pipeline.deid.keystore"):
        make_key(store)
        make_key(store)
    assert not (keys / "passphrase").exists(), "never next to the key"
    files = list(no_env.glob("*.passphrase"))
    assert [f.name for f in files] == [f"{keystore.project_id(keys)}.passphrase"]
    assert oct(files[0].stat().st_mode)[-3:] == "600"
    assert oct(no_env.stat().st_mode)[-3:] == "700"
    warnings = [r for r in caplog.records if "generated" in r.getMessage()]
    assert len(warnings) == 1, "the warning is given once, when the file is made"
    assert store.read()["entries"]["PERSON-1"]["values"] == ["Alan Greene"]
    assert store.check()["source"] == f"file {files[0]}"


def test_new_passphrase_goes_to_the_os_keyring(tmp_path, memory_keyring):
    keys = tmp_path / "keys"
    store = KeyStore(keys, keys / "passphrase")
    make_key(store)
    assert list(memory_keyring.store) == [("qscribe", keystore.project_id(keys))]
    assert not (keys / "passphrase").exists()
    assert not (tmp_path / "home-config").exists()
    info = store.check()
    assert info["source"].startswith("OS keyring") and info["pseudonyms"] == 1


def test_fail_and_null_keyrings_are_not_used(monkeypatch):
    import keyring
    from keyring.backends import fail, null

    monkeypatch.setenv("QSCRIBE_KEYRING", "1")
    for backend in (fail.Keyring(), null.Keyring()):
        monkeypatch.setattr(keyring, "get_keyring", lambda b=backend: b)
        assert keystore.keyring_backend() is None
    monkeypatch.setattr(keyring, "get_keyring", MemoryKeyring)
    assert isinstance(keystore.keyring_backend(), MemoryKeyring)
    monkeypatch.setenv("QSCRIBE_KEYRING", "0")
    assert keystore.keyring_backend() is None


def test_environment_passphrase_comes_first(tmp_path, memory_keyring, monkeypatch):
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "from the service environment")
    store = KeyStore(tmp_path / "keys")
    make_key(store)
    assert memory_keyring.store == {}
    assert store.check()["source"] == "environment"
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "wrong")
    with pytest.raises(PipelineError, match="wrong passphrase"):
        store.check()


def test_passphrase_next_to_the_key_still_works_and_is_moved_by_rotate(
    tmp_path, no_env, monkeypatch, caplog
):
    keys = tmp_path / "var" / "keys"
    # As an earlier version left it: var/keys/passphrase beside var/keys/crosswalk.enc.
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "old passphrase")
    make_key(KeyStore(keys, keys / "passphrase"))
    (keys / "passphrase").write_text("old passphrase\n")
    monkeypatch.delenv("QSCRIBE_PASSPHRASE")
    store = KeyStore(keys, keys / "passphrase")
    with caplog.at_level(logging.WARNING, logger="pipeline.deid.keystore"):
        assert store.read()["counters"] == {}
        info = store.check()
    assert info["next_to_key"] is True
    moved = [r for r in caplog.records if "next to the key" in r.getMessage()]
    assert len(moved) == 1 and "qscribe key rotate" in moved[0].getMessage()
    where = store.rotate()
    assert not (keys / "passphrase").exists()
    new_file = no_env / f"{keystore.project_id(keys)}.passphrase"
    assert where == f"file {new_file}"
    assert new_file.read_text().strip() != "old passphrase"
    assert store.check()["next_to_key"] is False
    assert store.read()["entries"]["PERSON-1"]["values"] == ["Alan Greene"]
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "old passphrase")
    with pytest.raises(PipelineError, match="wrong passphrase"):
        store.read()


def test_rotate_keeps_the_store_and_needs_a_new_env_passphrase(
    tmp_path, memory_keyring, monkeypatch
):
    store = KeyStore(tmp_path / "keys")
    make_key(store)
    old = dict(memory_keyring.store)
    assert store.rotate().startswith("OS keyring")
    assert memory_keyring.store != old and len(memory_keyring.store) == 1
    assert store.read()["entries"]["PERSON-1"]["values"] == ["Alan Greene"]

    monkeypatch.setenv("QSCRIBE_PASSPHRASE", next(iter(memory_keyring.store.values())))
    with pytest.raises(PipelineError, match="QSCRIBE_NEW_PASSPHRASE"):
        store.rotate()
    monkeypatch.setenv("QSCRIBE_NEW_PASSPHRASE", "the new one")
    assert "QSCRIBE_PASSPHRASE" in store.rotate()
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "the new one")
    assert store.check()["pseudonyms"] == 1


def test_rotate_interrupted_before_the_key_is_replaced(tmp_path, no_env, monkeypatch):
    store = KeyStore(tmp_path / "keys")
    make_key(store)
    before = (tmp_path / "keys" / "crosswalk.enc").read_bytes()

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(keystore, "atomic_path", crash)
    with pytest.raises(KeyboardInterrupt):
        store.rotate()
    monkeypatch.undo()
    assert (tmp_path / "keys" / "crosswalk.enc").read_bytes() == before
    assert list(no_env.glob("*.next")), "the new passphrase was pending"
    monkeypatch.delenv("QSCRIBE_PASSPHRASE", raising=False)
    monkeypatch.setenv("QSCRIBE_KEYRING", "0")
    monkeypatch.setenv("QSCRIBE_SECRETS_DIR", str(no_env))
    assert store.read()["entries"]["PERSON-1"]["values"] == ["Alan Greene"]
    assert not list(no_env.glob("*.next")), "a pending passphrase that does not open it goes"


def test_rotate_interrupted_after_the_key_is_replaced(tmp_path, no_env, monkeypatch):
    store = KeyStore(tmp_path / "keys")
    make_key(store)
    real_put = keystore.FileSlot.put

    def put(self, value, pending=False):
        if not pending:
            raise KeyboardInterrupt  # killed right after the key was replaced
        real_put(self, value, pending)

    monkeypatch.setattr(keystore.FileSlot, "put", put)
    with pytest.raises(KeyboardInterrupt):
        store.rotate()
    monkeypatch.setattr(keystore.FileSlot, "put", real_put)
    # The old passphrase no longer opens the key; the pending one does, and becomes current.
    assert store.read()["entries"]["PERSON-1"]["values"] == ["Alan Greene"]
    assert not list(no_env.glob("*.next"))
    assert store.check()["pseudonyms"] == 1


def test_missing_passphrase_for_an_existing_key_is_a_clear_error(tmp_path, no_env, monkeypatch):
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "made with this")
    store = KeyStore(tmp_path / "keys")
    make_key(store)
    monkeypatch.delenv("QSCRIBE_PASSPHRASE")
    with pytest.raises(PipelineError, match="no passphrase was given"):
        store.check()
    assert not no_env.exists(), "no new passphrase is made for an existing key"
    with pytest.raises(PipelineError, match="no project key"):
        KeyStore(tmp_path / "other").check()


def test_export_id_is_random_stable_and_only_in_the_key(tmp_path, no_env):
    cw: dict = {}
    first = export_id(cw, "s1")
    assert len(first) == 32 and int(first, 16) >= 0
    assert export_id(cw, "s1") == first and export_id(cw, "s2") != first
    store = KeyStore(tmp_path / "keys")
    with store.open() as data:
        kept = export_id(data, "s1")
    with store.open() as data:
        assert export_id(data, "s1") == kept
    assert kept not in (tmp_path / "keys" / "crosswalk.enc").read_text()
    assert keystore.session_of_export_id(store.read(), kept) == "s1"
    assert keystore.session_of_export_id(store.read(), "0" * 32) is None


def test_deidentified_transcript_carries_the_export_id_not_the_hash():
    from pipeline.deid.apply import deidentify, turn_texts
    from pipeline.deid.pseudonyms import Pseudonymizer
    from pipeline.transcript import Segment, Source, Transcript, Word

    sha = "ab" * 32
    t = Transcript(
        session_id="s1",
        source=Source(path="/restricted/int-04.m4a", sha256=sha, duration=2.0),
        language="en",
        segments=[Segment(0, 0.0, 1.0, "fine thanks", [Word(0.0, 0.5, "fine", 0.9, "A")], "A")],
    )
    cw = {"entries": {}, "index": {}, "counters": {}}
    turns = turn_texts(t)
    runs = [
        deidentify(t, [[] for _ in turns], turns, Pseudonymizer(cw, "s1", {}, {})).transcript
        for _ in range(2)
    ]
    for out in runs:
        text = out.to_json()
        assert sha not in text and "int-04" not in text
        assert out.source.sha256 == "" and out.source.path == "s1"
        ids = [p["export_id"] for p in out.provenance if "export_id" in p]
        assert ids == [cw["export_ids"]["s1"]]
    assert runs[0].provenance == runs[1].provenance, "reruns keep the same export id"
    assert t.source.sha256 == sha, "the identified transcript keeps the hash"


def test_key_commands(tmp_path, no_env, capsys):
    from flows.cli import main

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "paths": {"keys": str(tmp_path / "keys"), "logs": str(tmp_path / "logs")},
                "deid": {"passphrase_file": str(tmp_path / "keys" / "passphrase")},
            }
        )
    )
    assert main(["--config", str(cfg), "key", "check"]) == 2
    assert "no project key" in capsys.readouterr().err
    make_key(KeyStore(tmp_path / "keys", tmp_path / "keys" / "passphrase"))
    assert main(["--config", str(cfg), "key", "check"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("ok: the passphrase opens the key (1 pseudonym(s)") and "Greene" not in out
    )
    before = json.loads((tmp_path / "keys" / "crosswalk.enc").read_text())["ciphertext"]
    assert main(["--config", str(cfg), "key", "rotate"]) == 0
    assert "re-encrypted" in capsys.readouterr().out
    assert json.loads((tmp_path / "keys" / "crosswalk.enc").read_text())["ciphertext"] != before
    assert main(["--config", str(cfg), "key", "check"]) == 0


def test_a_configured_passphrase_file_is_read_and_rotated_in_place_never_made(
    tmp_path, no_env, monkeypatch
):
    chosen = tmp_path / "etc" / "qscribe.pass"
    make_key(KeyStore(tmp_path / "new", chosen))
    assert not chosen.exists(), "a new passphrase goes to the keyring or the home file"
    monkeypatch.setenv("QSCRIBE_PASSPHRASE", "admin's passphrase")
    store = KeyStore(tmp_path / "keys", chosen)
    make_key(store)
    chosen.parent.mkdir()
    chosen.write_text("admin's passphrase\n")
    monkeypatch.delenv("QSCRIBE_PASSPHRASE")
    info = store.check()
    assert info["source"] == f"file {chosen}" and info["next_to_key"] is False
    assert store.rotate() == f"file {chosen}"
    assert chosen.read_text().strip() != "admin's passphrase"
    assert store.check()["pseudonyms"] == 1
