"""The pre-tagging stage inside the pipeline: after de-identification, through the gate."""

import pytest

from pipeline.config import load_settings
from pipeline.manifest import Person, SessionManifest
from pipeline.stages import adopt_transcript, open_session
from pipeline.transcript import Segment, Source, Transcript, Word
from tests.conftest import ROOT, stage, write_config

pytestmark = pytest.mark.slow

LINES = [
    ("SPK0", "facilitator", "So what do you all do together with the staff?"),
    ("SPK1", "member", "We go bowling with Rosa and two of the staff every Friday night."),
    ("SPK0", "facilitator", "And does money ever come up?"),
    ("SPK1", "member", "Dinner costs too much on my check, so I just get the fries."),
]


def transcript() -> Transcript:
    segs = []
    for i, (spk, role, text) in enumerate(LINES):
        a = i * 4.0
        toks = text.split()
        words = [Word(a + j * 0.3, a + j * 0.3 + 0.25, w, 0.9, spk) for j, w in enumerate(toks)]
        segs.append(Segment(i, a, a + 3.9, text, words, spk, role))
    speakers = [
        {"id": "SPK0", "label": "FACILITATOR", "role": "facilitator"},
        {"id": "SPK1", "label": "MEMBER-1", "person": "M01", "role": "member"},
    ]
    return Transcript("fg-codes", Source("x.wav", "ab" * 32, 16.0), "en", segs, speakers=speakers)


def test_codebook_in_the_manifest_adds_codes_to_the_output(tmp_path):
    cfg = load_settings(write_config(tmp_path, ROOT / "var" / "models"))
    manifest = SessionManifest(
        session_id="fg-codes",
        kind="member_focus_group",
        people=[Person(id="M01", name="Rosa Delgado", role="member")],
        codebook=ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml",
    )
    session = open_session(cfg, "fg-codes")
    (tmp_path / "t.json").write_text(transcript().to_json())
    adopt_transcript(session, tmp_path / "t.json", transcript())
    stage("deid", session, cfg, manifest)
    codes = stage("codes", session, cfg, manifest)
    assert codes.counts["suggestions"] > 0
    out = stage("export", session, cfg, manifest, out=tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out" / "fg-codes").iterdir())
    assert {"suggestions.json", "suggestions.csv", "suggestions.xlsx", "fg-codes.qdpx"} <= set(
        names
    )
    assert "transcript.json" in names and out.counts["files"] == len(names)
    # Unchanged inputs: nothing reruns.
    assert stage("codes", session, cfg, manifest).cached


def test_no_codebook_no_codes(tmp_path):
    cfg = load_settings(write_config(tmp_path, ROOT / "var" / "models"))
    session = open_session(cfg, "plain")
    (tmp_path / "t.json").write_text(transcript().to_json())
    adopt_transcript(session, tmp_path / "t.json", transcript())
    stage("deid", session, cfg)
    assert stage("codes", session, cfg).counts["suggestions"] is None
    stage("export", session, cfg, out=tmp_path / "out")
    assert not (tmp_path / "out" / "plain" / "suggestions.json").exists()


def test_a_rerun_keeps_the_teams_codings(tmp_path):
    """The review app keeps the RA's decisions in 06_codes: pre-tagging again keeps them."""
    cfg = load_settings(write_config(tmp_path, ROOT / "var" / "models"))
    book = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"
    manifest = SessionManifest(session_id="keep", kind="member_focus_group", codebook=book)
    session = open_session(cfg, "keep")
    (tmp_path / "t.json").write_text(transcript().to_json())
    adopt_transcript(session, tmp_path / "t.json", transcript())
    stage("deid", session, cfg, manifest)
    stage("codes", session, cfg, manifest)
    codings = session.root / "06_codes" / "codings.jsonl"
    codings.write_text('{"session_id": "keep", "segment_id": 1, "text": "x", "codes": []}\n')
    again = manifest.model_copy(update={"kind": "staff_interview"})  # a new key: reruns
    assert not stage("codes", session, cfg, again).cached
    assert codings.is_file()
