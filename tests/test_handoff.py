"""IRB hand-off bags (BagIt, leak gate, encryption) and retention (purge, audit log)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import bagit
import pytest
import yaml

from pipeline import audit, handoff
from pipeline.deid.apply import roster_for
from pipeline.deid.gate import scan_tree
from pipeline.errors import PipelineError
from pipeline.manifest import Person
from pipeline.transcript import Segment, Source, Transcript, Word
from pipeline.workdir import SHARED_DIR, SHARED_FILE, make_dir, write_json
from pipeline.writers import write_all

ROSTER = roster_for(
    [
        Person(id="M01", name="Rosa Delgado", aliases=["Rosie"], role="member"),
        Person(id="F01", name="Dana Whitfield", role="facilitator"),
    ],
    ["Harbor Light Clubhouse"],
    [],
)
#: What may leave from each session folder, and what a bag adds.
EXPECTED = {
    "transcript.json",
    "transcript.txt",
    "transcript.vtt",
    "transcript.srt",
    "transcript.maxqda.txt",
    "transcript.docx",
    "deid_report.json",
    "project.qdpx",
    "codes.suggestions.json",
}
#: Never in a bag, whatever is lying in OUT.
FORBIDDEN = {
    "audio.wav",
    "interview.m4a",
    "passphrase",
    "crosswalk.enc",
    "roster.yaml",
    "speakers.review.yaml",
    "voice_S02.npy",
    "notes.bin",
}


def deid_transcript(
    sid: str, text: str = "I went to [ORG-1] with [PERSON-2] on [DATE]"
) -> Transcript:
    words = [Word(i * 0.4, i * 0.4 + 0.3, w, 0.9, "A") for i, w in enumerate(text.split())]
    return Transcript(
        session_id=sid,
        source=Source(path=sid, sha256="", duration=10.0),
        language="en",
        segments=[Segment(0, 0.0, words[-1].end, text, words, "A", "member")],
        speakers=[{"id": "A", "label": "MEMBER-1", "role": "member"}],
        deidentified=True,
        provenance=[
            {
                "stage": "asr",
                "engine": "faster_whisper",
                "model": "tiny.en",
                "model_sha256": "1a" * 32,
            },
            {"stage": "deid", "export_id": "0f" * 16},
        ],
    )


def export_session(out: Path, sid: str) -> Path:
    """An OUT folder as the export stage leaves it, plus things that must never leave."""
    folder = make_dir(make_dir(out, SHARED_DIR) / sid, SHARED_DIR)
    write_all(deid_transcript(sid), folder, mode=SHARED_FILE)
    write_json(
        folder / "deid_report.json", {"session_id": sid, "replaced": {"ORG": 1}}, SHARED_FILE
    )
    with zipfile.ZipFile(folder / "project.qdpx", "w") as z:
        z.writestr("project.qde", '<Project name="study"><CodeBook/></Project>')
        z.writestr("sources/s.txt", "MEMBER-1: I went to [ORG-1]")
    (folder / "codes.suggestions.json").write_text(json.dumps([{"code": "housing", "turn": 1}]))
    for name in FORBIDDEN:
        (folder / name).write_bytes(b"Rosa Delgado 555-0142")
    return folder


def work_session(work: Path, sid: str) -> Path:
    """A restricted work folder: decoded audio, identified transcript, stage records."""
    root = make_dir(work / sid)
    for stage, files in {
        "01_audio": ["audio.wav"],
        "02_asr": ["transcript.json", "piece-000.json"],
        "03_speakers": ["diarization.json"],
        "04_roles": ["transcript.json", "speakers.review.yaml"],
        "05_deid": ["transcript.json", "deid_report.json"],
    }.items():
        folder = make_dir(root / stage)
        for f in files:
            (folder / f).write_text("identified: Rosa Delgado")
        write_json(
            folder / "stage.json",
            {"stage": stage, "key": "ab" * 16, "outputs": files, "seconds": 1.5},
        )
    (root / "error.log").write_text("Traceback ... Rosa")
    return root


@pytest.fixture
def lab(tmp_path):
    out, work, logs = tmp_path / "out", tmp_path / "var" / "work", tmp_path / "var" / "logs"
    for sid in ("s1", "s2"):
        export_session(out, sid)
        work_session(work, sid)
    return {"out": out, "work": work, "logs": logs, "dest": tmp_path / "handoff", "tmp": tmp_path}


def build(lab, **kw):
    kw.setdefault("sessions", ["s1"])
    return handoff.build_bag(
        lab["out"], lab["dest"], ROSTER, logs_dir=lab["logs"], work_root=lab["work"], **kw
    )


def test_bag_holds_only_the_allowed_files_and_validates(lab):
    from pipeline.config import Settings

    result = build(lab, sessions=["s1", "s2"], cfg=Settings(), study_id="IRB-2024-117")
    bag = result.bag
    assert result.sessions == ["s1", "s2"] and bag.parent == lab["dest"]
    bagit.Bag(str(bag)).validate()
    assert scan_tree(bag, ROSTER) == []
    for sid in ("s1", "s2"):
        assert {p.name for p in (bag / "data" / sid).iterdir()} == EXPECTED
    names = {p.name for p in bag.rglob("*")}
    assert not names & FORBIDDEN
    assert result.left_out  # counted by suffix, never named
    assert sum(result.left_out.values()) == 2 * len(FORBIDDEN)
    # DOCX made from the de-identified transcript, readable by Word's library.
    import docx

    text = "\n".join(p.text for p in docx.Document(str(bag / "data/s1/transcript.docx")).paragraphs)
    assert "MEMBER-1: I went to [ORG-1]" in text
    info = bagit.Bag(str(bag)).info
    assert info["Study-Identifier"] == "IRB-2024-117"
    assert info["Qscribe-Sessions"] == "2" and len(info["Qscribe-Config-Sha256"]) == 64
    models = info["Qscribe-Model"]
    assert any(m.startswith(f"whisper tiny.en sha256:{'1a' * 32}") for m in models)
    assert any(m.startswith("campplus sha256:") for m in models)
    # The audit log: what ran when (times, counts; no stage keys), and this hand-off.
    entries = [json.loads(x) for x in (bag / "data" / "audit.jsonl").read_text().splitlines()]
    stages = [e for e in entries if e["event"] == "stage"]
    assert {e["session"] for e in stages} == {"s1", "s2"} and all("key" not in e for e in stages)
    assert entries[-1]["event"] == "handoff" and entries[-1]["sessions"] == ["s1", "s2"]
    logged = audit.read(lab["logs"])
    assert [e["event"] for e in logged] == ["handoff"] and logged[0]["bag"] == result.bag_id
    assert oct(audit.audit_path(lab["logs"]).stat().st_mode)[-3:] == "600"
    # Shared zone modes.
    assert oct(bag.stat().st_mode)[-3:] == "750"
    assert {oct(p.stat().st_mode)[-3:] for p in bag.rglob("*") if p.is_file()} == {"640"}


def test_a_planted_name_blocks_the_bag(lab):
    (lab["out"] / "s1" / "transcript.txt").write_text("MEMBER-1: and then Delgado left\n")
    with pytest.raises(PipelineError) as e:
        build(lab)
    msg = str(e.value)
    assert "leak gate blocked the hand-off" in msg and "data/s1/transcript.txt@" in msg
    assert "Delgado" not in msg and "Rosa" not in msg
    assert not lab["dest"].exists() or not any(lab["dest"].iterdir()), (
        "no bag, not even a partial one"
    )
    assert audit.read(lab["logs"]) == []


def test_a_name_only_the_key_knows_blocks_the_bag(lab):
    crosswalk = {
        "entries": {
            "PERSON-2": {"type": "PERSON", "values": ["Dr. Alan Greene"], "sessions": ["s2"]}
        }
    }
    roster = handoff.merge_rosters(ROSTER, handoff.key_roster(crosswalk))
    (lab["out"] / "s1" / "transcript.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nask Greene\n"
    )
    with pytest.raises(PipelineError, match="leak gate blocked"):
        handoff.build_bag(lab["out"], lab["dest"], roster, logs_dir=lab["logs"], sessions=["s1"])
    # "Dr." is a title, not a name: it alone blocks nothing.
    (lab["out"] / "s1" / "transcript.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nask the Dr.\n"
    )
    handoff.build_bag(lab["out"], lab["dest"], roster, logs_dir=lab["logs"], sessions=["s1"])


def test_an_unknown_file_type_inside_an_allowed_container_blocks(lab):
    with zipfile.ZipFile(lab["out"] / "s1" / "project.qdpx", "w") as z:
        z.writestr("project.qde", "<Project/>")
        z.writestr("sources/scan.png", b"\x89PNG")
    with pytest.raises(PipelineError, match=r"file type not allowed to leave \(\.png\)"):
        build(lab)


def test_identified_transcript_in_out_stops_the_handoff(lab):
    t = deid_transcript("s1")
    t.deidentified = False
    (lab["out"] / "s1" / "transcript.json").write_text(t.to_json())
    with pytest.raises(PipelineError, match="is not de-identified"):
        build(lab)
    assert audit.read(lab["logs"]) == []


def test_audio_only_when_asked(lab, tmp_path):
    from tests.test_gate import m4a

    m4a(lab["out"] / "s1" / "audio.deid.m4a", None)
    assert "audio.deid.m4a" not in {p.name for p in build(lab).bag.rglob("*")}
    bag = build(lab, audio=True).bag
    assert (bag / "data" / "s1" / "audio.deid.m4a").is_file()
    assert bagit.Bag(str(bag)).info["Qscribe-Audio"] == "de-identified audio included"


def test_unknown_session_is_a_clear_error(lab):
    with pytest.raises(PipelineError, match="no de-identified transcript for session"):
        build(lab, sessions=["s9"])


def test_encrypted_bag_round_trip(lab, tmp_path):
    result = build(lab, passphrase="correct horse battery")
    enc = result.encrypted
    assert enc is not None and enc.name == f"{result.bag_id}.tar.enc"
    assert not result.bag.exists(), "only the encrypted file is left"
    raw = enc.read_bytes()
    assert b"MEMBER-1" not in raw and b"transcript" not in raw
    import io
    import tarfile

    plain = io.BytesIO()
    with open(enc, "rb") as src:
        handoff._decrypt_stream(src, plain, "correct horse battery")
    plain.seek(0)
    with tarfile.open(fileobj=plain) as tar:
        assert {(m.uname, m.gname, m.uid) for m in tar.getmembers()} == {("", "", 0)}
    bag = handoff.decrypt_bag(enc, tmp_path / "received", "correct horse battery")
    bagit.Bag(str(bag)).validate()
    assert (bag / "data" / "s1" / "transcript.docx").is_file()
    with pytest.raises(PipelineError, match="wrong passphrase"):
        handoff.decrypt_bag(enc, tmp_path / "r2", "wrong")
    cut = tmp_path / "cut.tar.enc"
    cut.write_bytes(raw[: len(raw) - 40])
    with pytest.raises(PipelineError, match="cut short"):
        handoff.decrypt_bag(cut, tmp_path / "r3", "correct horse battery")


def test_stream_encryption_spans_many_chunks(monkeypatch):
    import io

    monkeypatch.setattr(handoff, "CHUNK", 1000)
    data = os.urandom(4500)
    sealed, opened = io.BytesIO(), io.BytesIO()
    handoff._encrypt_stream(io.BytesIO(data), sealed, "pw")
    handoff._decrypt_stream(io.BytesIO(sealed.getvalue()), opened, "pw")
    assert opened.getvalue() == data
    blob = sealed.getvalue()
    header = blob.index(b"\n", len(handoff.ENC_MAGIC)) + 1
    # Cut exactly after the second chunk: no final chunk, so it is not taken for the end.
    with pytest.raises(PipelineError, match="cut short"):
        handoff._decrypt_stream(
            io.BytesIO(blob[: header + 2 * (4 + 1000 + 16)]), io.BytesIO(), "pw"
        )
    # Chunks swapped: each chunk's place is authenticated.
    a, b = header, header + 1020
    swapped = blob[:a] + blob[b : b + 1020] + blob[a:b] + blob[b + 1020 :]
    with pytest.raises(PipelineError, match="wrong passphrase"):
        handoff._decrypt_stream(io.BytesIO(swapped), io.BytesIO(), "pw")


# -- retention ---------------------------------------------------------------------------


def test_purge_refuses_sessions_not_handed_off(lab):
    with pytest.raises(PipelineError, match=r"refused to purge session.*s2"):
        handoff.purge(lab["work"], lab["logs"], sessions=["s2"])
    assert (lab["work"] / "s2" / "01_audio" / "audio.wav").is_file()
    assert audit.read(lab["logs"]) == []


def test_purge_removes_audio_and_identified_files_of_handed_off_sessions(lab):
    build(lab, sessions=["s1"])
    result = handoff.purge(lab["work"], lab["logs"])
    assert result.purged == {"s1": "handed off"} and "s2" in result.kept
    root = lab["work"] / "s1"
    for stage in ("01_audio", "02_asr", "03_speakers", "04_roles"):
        assert not (root / stage).exists()
    assert not (root / "error.log").exists()
    assert (root / "05_deid" / "transcript.json").is_file(), "de-identified files stay"
    assert (lab["work"] / "s2" / "01_audio" / "audio.wav").is_file()
    deletes = [e for e in audit.read(lab["logs"]) if e["event"] == "delete"]
    assert len(deletes) == result.files == 11
    assert {e["session"] for e in deletes} == {"s1"}
    assert {"01_audio/audio.wav", "04_roles/speakers.review.yaml", "error.log"} <= {
        e["file"] for e in deletes
    }
    text = audit.audit_path(lab["logs"]).read_text()
    assert "Rosa" not in text
    assert json.loads((root / "purged.json").read_text())["files"] == 11
    # A second purge finds nothing identified left.
    assert handoff.purge(lab["work"], lab["logs"], sessions=["s1"]).purged == {}


def test_purge_by_retention_and_by_force(lab):
    assert handoff.purge(lab["work"], lab["logs"], older_than_days=30).purged == {}
    old = lab["work"] / "s2" / "01_audio" / "stage.json"
    past = old.stat().st_mtime - 40 * 86400
    os.utime(old, (past, past))
    result = handoff.purge(lab["work"], lab["logs"], older_than_days=30, dry_run=True)
    assert result.purged == {"s2": "older than 30 days"} and old.is_file(), (
        "a dry run removes nothing"
    )
    assert handoff.purge(lab["work"], lab["logs"], older_than_days=30).purged == {
        "s2": "older than 30 days"
    }
    assert not old.exists()
    result = handoff.purge(lab["work"], lab["logs"], sessions=["s1"], force=True)
    assert result.purged == {"s1": "forced"}
    reasons = {e["reason"] for e in audit.read(lab["logs"]) if e["event"] == "purge"}
    assert reasons == {"older than 30 days", "forced"}


# -- command line ------------------------------------------------------------------------


def test_handoff_and_purge_commands(lab, tmp_path, monkeypatch, capsys):
    from flows.cli import main

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "paths": {
                    "work": str(lab["work"]),
                    "keys": str(tmp_path / "keys"),
                    "logs": str(lab["logs"]),
                },
                "deid": {"passphrase_file": str(tmp_path / "keys" / "passphrase")},
            }
        )
    )
    manifest = tmp_path / "s1.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "session_id": "s1",
                "people": [{"id": "M01", "name": "Rosa Delgado", "role": "member"}],
            }
        )
    )
    base = ["--config", str(cfg)]
    assert main([*base, "purge", "--sessions", "s1"]) == 2
    assert "refused to purge" in capsys.readouterr().err
    monkeypatch.delenv("QSCRIBE_HANDOFF_PASSPHRASE", raising=False)
    args = ["handoff", "--from", str(lab["out"]), "--out", str(lab["dest"]), "--sessions", "s1"]
    assert main([*base, *args, "--session", str(manifest), "--encrypt"]) == 0
    out = capsys.readouterr().out
    assert "passed the leak gate" in out
    secret = out.rsplit(": ", 1)[1].strip()
    enc = next(lab["dest"].glob("*.tar.enc"))
    monkeypatch.setenv("QSCRIBE_HANDOFF_PASSPHRASE", secret)
    assert main([*base, "handoff", "decrypt", str(enc), "--out", str(tmp_path / "got")]) == 0
    assert "decrypted and valid" in capsys.readouterr().out
    assert main([*base, "purge"]) == 0
    out = capsys.readouterr().out
    assert "s1: removed" in out and "s2: kept (not handed off)" in out
    (lab["out"] / "s2" / "transcript.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nDelgado\n")
    assert (
        main(
            [
                *base,
                "handoff",
                "--from",
                str(lab["out"]),
                "--out",
                str(lab["dest"]),
                "--session",
                str(manifest),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "leak gate blocked" in err and "s2/transcript.srt@" in err and "Delgado" not in err
