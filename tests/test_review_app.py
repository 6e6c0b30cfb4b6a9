"""The review app without models: review files, security, 409 on stale saves, Ctrl-C."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import wave

import pytest
from fastapi.testclient import TestClient

from pipeline import corrections as layers
from pipeline.config import load_settings
from pipeline.deid.gate import scan_files
from pipeline.deid.presidio_engine import Finding
from pipeline.manifest import SessionManifest
from pipeline.transcript import Segment, Source, Transcript, Word
from pipeline.workdir import SessionDir, write_json
from review.html import export_session, render
from review.server import create_app
from review.store import Review
from tests.conftest import ROOT, write_config

TOKEN = "t" * 43
HOST = "127.0.0.1:8765"
H = {"x-qscribe-token": TOKEN, "origin": f"http://{HOST}", "host": HOST}


def words(start: float, speaker: str, text: str) -> list[Word]:
    return [
        Word(start + i * 0.5, start + i * 0.5 + 0.4, w, 0.9, speaker)
        for i, w in enumerate(text.split())
    ]


def transcript(sid: str, segs: list[tuple[float, str, str]], deid: bool = False) -> Transcript:
    segments = []
    for i, (start, spk, text) in enumerate(segs):
        ws = words(start, spk, text)
        segments.append(Segment(i, ws[0].start, ws[-1].end, text, ws, spk, "member"))
    return Transcript(
        sid,
        Source(sid, "", 20.0),
        "en",
        segments,
        [
            {"id": "SPK0", "label": "MEMBER-1", "role": "member"},
            {"id": "SPK1", "label": "MEMBER-2", "role": "member"},
        ],
        deidentified=deid,
    )


@pytest.fixture
def site(tmp_path, models_dir):
    """A work area with one finished session (written by hand) and a manifest."""
    cfg = load_settings(write_config(tmp_path / "cfg", models_dir))
    sid = "fg-unit"
    s = SessionDir(cfg.paths.work, sid)
    for name in ("audio", "asr", "roles", "deid"):
        s.stage(name)
    with wave.open(str(s.root / "01_audio" / "audio.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000)
    ident = transcript(
        sid, [(0.0, "SPK0", "I met Rosa at the diner"), (4.0, "SPK1", "we talked about bowling")]
    )
    write_json(s.root / "02_asr" / "transcript.json", ident.to_dict())
    write_json(s.root / "04_roles" / "transcript.json", ident.to_dict())
    s.mark_done("roles", "k-roles", ["transcript.json"])
    d = transcript(
        sid,
        [(0.0, "SPK0", "I met [MEMBER-1] at the diner"), (4.0, "SPK1", "we talked about bowling")],
        True,
    )
    write_json(s.root / "05_deid" / "transcript.json", d.to_dict())
    s.mark_done("deid", "k-deid", ["transcript.json"])
    write_json(
        s.root / "06_codes" / "suggestions.json",
        [
            {
                "session_id": sid,
                "segment_id": 1,
                "code": "DIM.activity",
                "score": 0.8,
                "evidence": "bowling",
                "method": "lexicon",
            }
        ],
    ) if (s.root / "06_codes").mkdir(mode=0o700) is None else None
    m = SessionManifest(
        session_id=sid,
        kind="member_focus_group",
        people=[{"id": "M01", "name": "Rosa Delgado", "role": "member"}],
        places=["Riverside Diner"],
    )
    review = Review(cfg, {sid: m}, tmp_path / "out")
    return review, s, m


@pytest.fixture
def client(site):
    review, _s, _m = site
    return TestClient(create_app(review, TOKEN, {HOST}), base_url=f"http://{HOST}")


# ---------------------------------------------------------------------- review files


def test_text_edits_keep_or_spread_timings():
    t = transcript("x", [(0.0, "A", "call me at noon"), (3.0, "A", "said David Kent")])
    edits = [
        {"start": 1.0, "end": 1.4, "text": "after"},  # one word for one: timings kept
        {"start": 3.5, "end": 4.4, "text": "Dave Chen Junior"},  # two words become three
        {"start": 0.0, "end": 0.4, "text": ""},  # deleted
    ]
    out = layers.apply_text_edits(t, edits)
    assert out.segments[0].text == "me after noon"
    assert [w.text for w in out.segments[1].words] == ["said", "Dave", "Chen", "Junior"]
    new = out.segments[1].words[1:]
    assert new[0].start == 3.5 and new[-1].end == pytest.approx(4.4) and new[0].end <= new[1].start


def test_speaker_edits_merge_and_move_resplit_segments():
    t = transcript(
        "x", [(0.0, "A", "one two three four"), (3.0, "B", "five six"), (5.0, "C", "seven")]
    )
    out = layers.apply_speaker_edits(
        t, {"merge": {"C": "B"}, "moves": [{"start": 1.0, "end": 2.0, "voice": "B"}]}
    )
    assert [(s.speaker, s.text) for s in out.segments] == [
        ("A", "one two"),
        ("B", "three four"),
        ("B", "five six"),
        ("B", "seven"),
    ]
    assert [s.id for s in out.segments] == [0, 1, 2, 3]


def test_deid_rules_add_missed_names_drop_allowed_and_extend_the_roster(tmp_path):
    texts = ["I saw Kent and Dr. Kent Moore on Friday"]
    found = [[Finding(15, 29, "PERSON", 0.9, "ner"), Finding(33, 39, "DATE", 0.6, "ner")]]
    rules = layers.DeidRules(
        missed=[{"text": "Kent", "kind": "person", "person": None}], allow=["friday"]
    )
    out = layers.apply_deid_rules(texts, found, rules)[0]
    spans = sorted((f.start, f.end, f.type, f.source) for f in out)
    # Friday is allowed; the analyzer's longer name comes first; both Kents are found.
    assert spans == [
        (6, 10, "PERSON", "review"),
        (15, 29, "PERSON", "ner"),
        (19, 23, "PERSON", "review"),
    ]
    assert out[0].source == "ner"
    layers.save_deid_rules(tmp_path, rules)
    assert layers.read_deid_rules(tmp_path) == rules
    assert oct((tmp_path / layers.DEID_RULES).stat().st_mode)[-3:] == "600"
    roster = layers.session_roster(None, rules)
    assert "kent" in roster.protected_terms[1]


def test_speaker_answers_use_the_pipelines_review_file(tmp_path):
    from pipeline.speakers.review import read_answers

    m = SessionManifest(
        session_id="x", people=[{"id": "M01", "name": "Rosa Delgado", "role": "member"}]
    )
    (tmp_path / "04_roles").mkdir()
    layers.save_speaker_answers(tmp_path, "x", {"SPK1": {"role": None, "person": "M01"}}, m)
    assert read_answers(tmp_path / layers.SPEAKER_ANSWERS, m) == {
        "SPK1": {"role": None, "person": "M01"}
    }
    from pipeline.errors import PipelineError

    with pytest.raises(PipelineError):
        layers.save_speaker_answers(tmp_path, "x", {"SPK1": {"role": None, "person": "NOPE"}}, m)


def test_html_export_is_self_contained_and_passes_the_gate(site):
    review, s, m = site
    audio = bytes(range(256)) * 50
    html = render(Transcript.load(s.root / "05_deid" / "transcript.json"), audio)
    assert not re.search(r"https?:|<link|<img|\ssrc=", html)  # no external or linked asset
    blob = re.search(r'id="audio-data">([^<]*)<', html).group(1)
    assert blob.isalpha()  # no digit runs, one word
    (s.root / "05_deid" / "audio.deid.m4a").write_bytes(audio)
    path = export_session(s, m, review.out / s.session_id / "transcript.review.html")
    assert oct(path.stat().st_mode)[-3:] == "640"
    assert scan_files([path], layers.session_roster(m, layers.DeidRules())) == []
    assert "Rosa" not in path.read_text()
    with pytest.raises(Exception, match="only a de-identified"):
        render(Transcript.load(s.root / "04_roles" / "transcript.json"))


# ---------------------------------------------------------------------- security


def test_no_token_no_data(client):
    for path in (
        "/",
        "/api/sessions",
        "/api/sessions/fg-unit",
        "/api/sessions/fg-unit/audio",
        "/static/app.js",
    ):
        for headers in ({"host": HOST}, {"host": HOST, "x-qscribe-token": "wrong"}):
            r = client.get(path, headers=headers)
            assert r.status_code == 403, path
            assert "Rosa" not in r.text and "fg-unit" not in r.text
    assert client.get(f"/?token={TOKEN}", headers={"host": HOST}).status_code == 200
    # The page's cookie then opens the audio (an <audio> element sends no header).
    assert client.get("/api/sessions/fg-unit/audio", headers={"host": HOST}).status_code == 200


def test_host_and_origin_checks(client):
    v = client.get("/api/sessions/fg-unit", headers=H).json()["version"]
    assert (
        client.get("/api/sessions", headers={**H, "host": "evil.example:8765"}).status_code == 403
    )
    assert (
        client.get("/api/sessions", headers={**H, "origin": "http://evil.example"}).status_code
        == 403
    )
    body = {"version": v, "redactions_checked": True}
    no_origin = {k: v for k, v in H.items() if k != "origin"}
    assert (
        client.post("/api/sessions/fg-unit/state", headers=no_origin, json=body).status_code == 403
    )
    cookie_only = {k: v for k, v in H.items() if k != "x-qscribe-token"}
    client.get(f"/?token={TOKEN}", headers={"host": HOST})
    assert (
        client.post("/api/sessions/fg-unit/state", headers=cookie_only, json=body).status_code
        == 403
    )
    r = client.post("/api/sessions/fg-unit/state", headers=H, json=body)
    assert r.status_code == 200 and r.headers["content-security-policy"].startswith(
        "default-src 'none'"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions/..%2F..%2Fetc%2Fpasswd",
        "/api/sessions/../../etc/passwd",
        "/api/sessions/%2e%2e/audio",
        "/api/sessions/recordings.json",
        "/api/sessions/fg-unit%2F..%2F..%2Fkeys/audio",
        "/static/..%2F..%2Fpipeline%2Fconfig.py",
        "/api/sessions/nope/audio",
    ],
)
def test_no_path_traversal(client, path):
    r = client.get(path, headers=H)
    assert r.status_code in (403, 404)
    assert "root:" not in r.text and "passphrase" not in r.text


def test_stale_save_is_refused_with_409(client, site):
    _review, s, _m = site
    v1 = client.get("/api/sessions/fg-unit", headers=H).json()
    turn = v1["deid_turns"][1]
    assert turn["codes"][0]["state"] == "suggested"
    body = {"segment_id": turn["code_segment"], "code": "DIM.activity", "action": "accept"}
    r = client.post(
        "/api/sessions/fg-unit/codes", headers=H, json={**body, "version": v1["version"]}
    )
    assert r.status_code == 200
    # The second tab still has the first version: refused, nothing lost.
    r2 = client.post(
        "/api/sessions/fg-unit/codes",
        headers=H,
        json={**body, "action": "reject", "version": v1["version"]},
    )
    assert r2.status_code == 409 and "Reload" in r2.json()["error"]
    lines = [json.loads(x) for x in (s.root / layers.CODINGS).read_text().splitlines()]
    assert lines == [
        {
            "session_id": "fg-unit",
            "segment_id": 1,
            "text": "we talked about bowling",
            "codes": ["DIM.activity"],
        }
    ]
    v2 = r.json()["version"]
    r3 = client.post(
        "/api/sessions/fg-unit/codes",
        headers=H,
        json={"segment_id": 1, "code": "CH.romance", "action": "add", "version": v2},
    )
    assert r3.status_code == 200
    assert json.loads((s.root / layers.CODINGS).read_text())["codes"] == [
        "DIM.activity",
        "CH.romance",
    ]


def test_status_and_logs_carry_ids_only(client, caplog):
    caplog.set_level(logging.INFO, logger="review")
    r = client.get("/api/sessions", headers=H)
    assert r.json()["sessions"] == [
        {"id": "fg-unit", "status": "redactions to check", "step": "redactions"}
    ]
    client.get(f"/api/sessions/fg-unit?token={TOKEN}", headers={"host": HOST})
    logged = " ".join(rec.getMessage() for rec in caplog.records)
    assert "request" in logged and "/api/sessions/{sid} fg-unit 200" in logged
    assert TOKEN not in logged and "Rosa" not in logged and "bowling" not in logged


def test_command_binds_loopback_and_stops_on_ctrl_c(tmp_path, models_dir, site):
    _review, _s, _m = site
    cfg_file = tmp_path / "cfg" / "config.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "--config",
            str(cfg_file),
            "review",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "token=" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        url = line.strip()
        assert url.startswith("http://127.0.0.1:") and len(url.split("token=")[1]) >= 40
        import urllib.request

        time.sleep(0.5)
        with urllib.request.urlopen(url.replace("/?", "/api/sessions?"), timeout=10) as r:
            assert json.loads(r.read())["sessions"][0]["id"] == "fg-unit"
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped" in err and TOKEN not in err


def test_malformed_saves_are_refused_without_a_trace(client):
    v = client.get("/api/sessions/fg-unit", headers=H).json()["version"]
    r = client.post("/api/sessions/fg-unit/text", headers=H, json={"version": v})
    assert r.status_code == 422 and "bad request" in r.json()["error"]
    r = client.post(
        "/api/sessions/fg-unit/codes",
        headers=H,
        content=b"[1]",
    )
    assert r.status_code == 422


def test_command_exports_every_sessions_html(tmp_path, site):
    _review, s, _m = site
    out = tmp_path / "handoff-out"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "--config",
            str(tmp_path / "cfg" / "config.yaml"),
            "review",
            "--export",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    page = out / s.session_id / "transcript.review.html"
    assert page.is_file() and "[MEMBER-1]" in page.read_text() and "Rosa" not in page.read_text()


def test_a_session_made_with_a_roster_is_read_only_without_its_manifest(site):
    review, s, _m = site
    write_json(s.root / "05_deid" / "deid_report.json", {"roster_people": 1})
    bare = Review(review.cfg, {}, review.out)
    assert bare.status("fg-unit")["step"] == "manifest"
    client = TestClient(create_app(bare, TOKEN, {HOST}), base_url=f"http://{HOST}")
    v = client.get("/api/sessions/fg-unit", headers=H).json()["version"]
    r = client.post(
        "/api/sessions/fg-unit/redactions", headers=H, json={"version": v, "allow": "Rosa"}
    )
    assert r.status_code == 422 and "--session" in r.json()["error"]
    assert not (s.root / layers.DEID_RULES).exists()
