"""The speaker stages on a real transcript: roles, enrollment, review and rerun."""

import shutil

import pytest
import yaml

from pipeline.config import load_settings
from pipeline.errors import PipelineError
from pipeline.manifest import load_manifest
from pipeline.stages import open_session
from pipeline.transcript import Transcript
from tests.conftest import stage, write_config
from tests.support.sessions import role_hits

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(tmp_path_factory, espeak):
    """A 3-voice focus group with enrollment clips and a manifest (tests.support.sessions)."""
    from tests.support.sessions import build, plan

    folder = tmp_path_factory.mktemp("fg")
    wav, rendering = build(plan(3, 3, seed=5), folder, "fg3")
    return folder, wav, rendering


def setup(tmp_path, models_dir, manifest_path, wav):
    """Settings, manifest and a session that has been through ingest, ASR and diarization."""
    cfg = load_settings(write_config(tmp_path, models_dir))
    m = load_manifest(manifest_path)
    session = open_session(cfg, m.session_id)
    stage("ingest", session, cfg, src=wav)
    stage("asr", session, cfg)
    stage("diarize", session, cfg, m)
    return cfg, m, session


def test_enrolled_session_gets_people_roles_and_labels(generated, tmp_path, models_dir):
    folder, wav, rendering = generated
    cfg, m, session = setup(tmp_path, models_dir, folder / "fg3.yaml", wav)
    result = stage("roles", session, cfg, m)
    t = Transcript.load(result.path)
    assert all(w.speaker for w in t.words())
    assert all(s.role in ("facilitator", "member") for s in t.segments)
    by_person = {s["person"]: s for s in t.speakers}
    assert set(by_person) == {"fg3-FAC", "fg3-P1", "fg3-P2"}
    assert by_person["fg3-FAC"]["label"] == "FACILITATOR"
    assert {by_person[p]["label"] for p in ("fg3-P1", "fg3-P2")} == {"MEMBER-1", "MEMBER-2"}
    roles = yaml.safe_load((folder / "fg3.roles.yaml").read_text())
    ok, n = role_hits(t, rendering.turns, roles)
    assert ok / n >= 0.95
    # Profiles were saved in the restricted key area for later sessions.
    assert (cfg.paths.keys / "voices" / cfg.diarization.embedding / "fg3-P1.json").is_file()
    cfg = cfg.model_copy(update={"deid": cfg.deid.model_copy(update={"audio": True})})
    stage("deid", session, cfg, m)
    out = stage("export", session, cfg, m, out=tmp_path / "out")
    vtt = (tmp_path / "out" / "fg3" / "transcript.vtt").read_text()
    assert "<v FACILITATOR>" in vtt and "<v MEMBER-1>" in vtt
    assert out.counts["files"] == 7
    assert (tmp_path / "out" / "fg3" / "audio.deid.m4a").stat().st_size > 1000


def test_review_file_then_rerun_applies_answers(generated, tmp_path, models_dir):
    folder, wav, _rendering = generated
    data = yaml.safe_load((folder / "fg3.yaml").read_text())
    for p in data["people"]:
        p.pop("enrollment")
    data["kind"] = "other"  # no session kind: member roles cannot be guessed
    data["people"] = [p for p in data["people"] if p["role"] == "facilitator"]
    manifest = folder / "fg3.review.yaml"
    manifest.write_text(yaml.safe_dump(data))
    cfg, m, session = setup(tmp_path, models_dir, manifest, wav)
    first = stage("roles", session, cfg, m)
    review = first.counts["review"]
    assert (
        review
        and oct((session.root / "04_roles" / "speakers.review.yaml").stat().st_mode)[-3:] == "600"
    )
    with open(review) as f:
        doc = yaml.safe_load(f)
    unknown = [v for v in doc["voices"] if v["guess"]["role"] == "unknown"]
    assert unknown and all(v["quotes"] for v in unknown)
    for v in unknown:
        v["role"] = "member"
    with open(review, "w") as f:
        yaml.safe_dump(doc, f)
    asr_record = session.read_record("asr")
    again = stage("roles", session, cfg, m)
    assert not again.cached and again.counts["review"] is None
    assert session.read_record("asr") == asr_record, "ASR is not redone"
    t = Transcript.load(again.path)
    assert {s["role"] for s in t.speakers} == {"facilitator", "member"}
    assert all(s["source"] == "review" for s in t.speakers if s["role"] == "member")
    # Nothing changed: the stage is skipped.
    assert stage("roles", session, cfg, m).cached


def test_missing_enrollment_clip_does_not_lose_work(generated, tmp_path, models_dir):
    folder, wav, _ = generated
    data = yaml.safe_load((folder / "fg3.yaml").read_text())
    data["people"][1]["enrollment"] = ["missing-clip.wav"]
    work = tmp_path / "m"
    work.mkdir()
    for f in folder.glob("fg3*"):
        shutil.copy(f, work / f.name)
    (work / "fg3.yaml").write_text(yaml.safe_dump(data))
    cfg, m, session = setup(tmp_path, models_dir, work / "fg3.yaml", wav)
    result = stage("roles", session, cfg, m)
    with open(result.counts["review"]) as f:
        text = f.read()
    assert "missing-clip.wav: file not found" in text


def test_bad_review_answer_is_one_clear_line(generated, tmp_path, models_dir):
    folder, wav, _ = generated
    cfg, m, session = setup(tmp_path, models_dir, folder / "fg3.yaml", wav)
    (session.stage("roles") / "speakers.review.yaml").write_text(
        "voices:\n  - {voice: SPK0, role: boss}\n"
    )
    with pytest.raises(PipelineError, match="unknown role 'boss'"):
        stage("roles", session, cfg, m)


def test_voice_profile_from_one_session_is_reused(generated, tmp_path, models_dir):
    """Enrolled once (first session), recognised later with no clip, by the saved profile."""
    folder, wav, _ = generated
    cfg, m, session = setup(tmp_path, models_dir, folder / "fg3.yaml", wav)
    stage("roles", session, cfg, m)
    data = yaml.safe_load((folder / "fg3.yaml").read_text())
    for p in data["people"]:
        p.pop("enrollment")
    data["session_id"] = "fg3-later"
    later = folder / "fg3-later.yaml"
    later.write_text(yaml.safe_dump(data))
    m2 = load_manifest(later)
    s2 = open_session(cfg, "fg3-later")
    stage("ingest", s2, cfg, src=wav)
    stage("asr", s2, cfg)
    stage("diarize", s2, cfg, m2)
    t = Transcript.load(stage("roles", s2, cfg, m2).path)
    assert {s["source"] for s in t.speakers} == {"enrollment"}
    assert {s["person"] for s in t.speakers} == {"fg3-FAC", "fg3-P1", "fg3-P2"}
