"""A focus group where people say their names, through the real stages, without
enrollment: every voice tied to its roster person, labels equal to the pseudonyms,
and crosstalk marked in what leaves for OUT."""

import pytest
import yaml

from pipeline.config import load_settings
from pipeline.manifest import load_manifest
from pipeline.speakers.labels import LabelRegistry
from pipeline.stages import open_session
from pipeline.transcript import Transcript
from tests.conftest import stage, write_config

pytestmark = pytest.mark.slow


def test_voices_named_in_the_session_are_their_people(tmp_path, models_dir, espeak):
    from tests.support.sessions import build, plan

    script = plan(3, 2, seed=41, names=True)
    wav, _rendering = build(script, tmp_path, "named3")
    data = yaml.safe_load((tmp_path / "named3.yaml").read_text())
    for p in data["people"]:
        p.pop("enrollment")
    (tmp_path / "named3.yaml").write_text(yaml.safe_dump(data))
    cfg = load_settings(write_config(tmp_path, models_dir))
    m = load_manifest(tmp_path / "named3.yaml")
    session = open_session(cfg, m.session_id)
    stage("ingest", session, cfg, src=wav)
    stage("asr", session, cfg)
    stage("diarize", session, cfg, m)
    result = stage("roles", session, cfg, m)
    t = Transcript.load(result.path)
    tied = {s["person"]: s for s in t.speakers if s.get("person")}
    assert set(tied) == {f"named3-{s}" for s in script.roles}
    assert sum(s["source"] == "names" for s in t.speakers) >= 2
    pseudonyms = LabelRegistry(cfg.paths.keys).labels_for([(p.id, p.role) for p in m.people])
    assert all(s["label"] == pseudonyms[pid] for pid, s in tied.items())
    stage("deid", session, cfg, m)
    txt = (session.root / "05_deid" / "transcript.txt").read_text()
    # The speaker label and the pseudonym of a self-introduction are the same tag.
    for line in txt.splitlines():
        if "My name is [" in line:
            label = line.split("] ", 1)[1].split(":", 1)[0]
            assert f"My name is [{label}]" in line
