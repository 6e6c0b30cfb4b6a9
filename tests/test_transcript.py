import json

import pytest

from pipeline.errors import PipelineError
from pipeline.transcript import Segment, Source, Transcript, Word


def sample() -> Transcript:
    words = [Word(0.0, 0.4, "Hello", 0.9), Word(0.4, 0.9, "there.", 0.8)]
    return Transcript(
        session_id="s1",
        source=Source(path="a.wav", sha256="ab" * 32, duration=1.0, format="wav"),
        language="en",
        segments=[Segment(0, 0.0, 0.9, "Hello there.", words)],
        provenance=[{"stage": "asr"}],
    )


def test_round_trip_keeps_every_field(tmp_path):
    t = sample()
    path = tmp_path / "transcript.json"
    path.write_text(t.to_json())
    again = Transcript.load(path)
    assert again == t
    data = json.loads(path.read_text())
    assert list(data) == [
        "schema_version",
        "session_id",
        "source",
        "language",
        "segments",
        "speakers",
        "deidentified",
        "provenance",
    ]
    seg = data["segments"][0]
    assert set(seg) == {"id", "start", "end", "text", "words", "speaker", "role"}
    assert set(seg["words"][0]) == {"start", "end", "text", "probability", "speaker"}


def test_text_and_words():
    t = sample()
    assert t.text == "Hello there."
    assert [w.text for w in t.words()] == ["Hello", "there."]


def test_unknown_schema_version_is_a_clear_error(tmp_path):
    d = sample().to_dict()
    d["schema_version"] = 99
    path = tmp_path / "t.json"
    path.write_text(json.dumps(d))
    with pytest.raises(PipelineError, match="schema_version 99 is not supported"):
        Transcript.load(path)


def test_damaged_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"schema_version": 1, "segm')
    with pytest.raises(PipelineError, match=r"not a valid transcript\.json"):
        Transcript.load(path)
    with pytest.raises(PipelineError, match="not found"):
        Transcript.load(tmp_path / "missing.json")
