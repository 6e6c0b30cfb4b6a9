"""Typed transcripts (.txt, .docx, .vtt, .srt, JSON without words) as de-identification input."""

from __future__ import annotations

import json

import pytest

from pipeline.deid.apply import deidentify, turn_texts
from pipeline.deid.presidio_engine import Finding
from pipeline.deid.pseudonyms import Pseudonymizer
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest
from pipeline.transcript import Segment, Source, Transcript
from pipeline.typed import load_transcript, parse_subtitles, parse_text

MANIFEST = SessionManifest.model_validate(
    {
        "session_id": "int-7",
        "kind": "member_focus_group",
        "people": [
            {"id": "F01", "name": "Dana Whitfield", "role": "facilitator"},
            {"id": "M04", "name": "Maria Lopez", "aliases": ["Mari"], "role": "member"},
        ],
    }
)

TXT = """Interview 7, site A
[00:00:01] Dana Whitfield: Thanks for coming. Can you tell me your name?
[00:00:05] MARIA: I'm Maria. Everybody calls me Mari. Maria calls herself Mari too.

And my sister Keisha Brown drove me.
Dana Whitfield: Okay.
"""


def names() -> Pseudonymizer:
    cw = {"version": 1, "entries": {}, "index": {}, "counters": {}}
    return Pseudonymizer(
        cw,
        "int-7",
        {"F01": "FACILITATOR", "M04": "MEMBER-4"},
        {"F01": "Dana Whitfield", "M04": "Maria Lopez"},
    )


def test_text_turns_headers_and_stamps():
    turns = parse_text(TXT)
    assert [t["speaker"] for t in turns] == [
        None,
        "Dana Whitfield",
        "MARIA",
        "MARIA",
        "Dana Whitfield",
    ]
    assert turns[1]["start"] == 1.0 and turns[2]["text"].startswith("I'm Maria.")
    # "Note: ..." and a long sentence with a colon are text, not a speaker.
    assert parse_text("Note: the recorder stopped")[0]["speaker"] is None
    long = "So what I want to say about all of this is: nothing"
    assert parse_text(long)[0]["speaker"] is None
    # A header alone on its line (Otter style) names the following paragraph.
    own = parse_text("Speaker 1  0:03\nHello there.\nSpeaker 2  0:05\nHi.")
    assert [(t["speaker"], t["text"], t["start"]) for t in own] == [
        ("Speaker 1", "Hello there.", 3.0),
        ("Speaker 2", "Hi.", 5.0),
    ]


def test_typed_txt_loads_with_neutral_speaker_ids(tmp_path):
    p = tmp_path / "maria lopez interview.txt"
    p.write_text(TXT, encoding="utf-8")
    t = load_transcript(p, MANIFEST)
    assert t.session_id == "int-7" and not t.deidentified
    assert {s.speaker for s in t.segments} == {None, "SPEAKER_1", "SPEAKER_2"}
    assert "Maria" not in json.dumps([s.speaker for s in t.segments])
    by_id = {s["id"]: s for s in t.speakers}
    assert by_id["SPEAKER_2"]["person"] == "M04" and by_id["SPEAKER_2"]["role"] == "member"
    assert by_id["SPEAKER_1"]["person"] == "F01"
    # Without a manifest the session id comes from the file name, made safe.
    assert load_transcript(p).session_id == "maria-lopez-interview"


def test_wordless_segments_replace_only_the_name_and_every_mention():
    t = Transcript(
        "int-7",
        Source("x.txt", "0" * 64, 0.0),
        "en",
        [Segment(0, 0.0, 0.0, "I'm Maria. Everybody calls me Mari. Ask Maria.", [], "SPEAKER_2")],
        [{"id": "SPEAKER_2", "header": "MARIA", "person": "M04"}],
    )
    turns = turn_texts(t)
    text = turns[0][0]
    spans = [(text.index("Maria"), "Maria"), (text.index("Mari."), "Mari")]
    spans.append((text.rindex("Maria"), "Maria"))
    found = [[Finding(a, a + len(w), "ROSTER_PERSON", 1.0, "roster", "M04") for a, w in spans]]
    out = deidentify(t, found, turns, names()).transcript
    assert out.segments[0].text == (
        "I'm [MEMBER-4]. Everybody calls me [MEMBER-4]. Ask [MEMBER-4]."
    )
    assert out.speakers == [{"id": "SPEAKER_2", "label": "MEMBER-4"}]


def test_header_labels_roster_role_and_other_names():
    t = Transcript(
        "int-7",
        Source("x.txt", "0" * 64, 0.0),
        "en",
        [
            Segment(0, 0, 0, "Hello.", [], "SPEAKER_1"),
            Segment(1, 0, 0, "Hi.", [], "SPEAKER_2"),
            Segment(2, 0, 0, "Yes.", [], "SPEAKER_3"),
            Segment(3, 0, 0, "No.", [], "SPEAKER_4"),
        ],
        [
            {"id": "SPEAKER_1", "header": "Dana"},  # a roster first name, no manifest match
            {"id": "SPEAKER_2", "header": "Interviewer"},
            {"id": "SPEAKER_3", "header": "Keisha Brown"},
            {"id": "SPEAKER_4", "header": "P3"},
        ],
    )
    out = deidentify(t, [[], [], [], []], turn_texts(t), names()).transcript
    labels = {s["id"]: s["label"] for s in out.speakers}
    assert labels == {
        "SPEAKER_1": "FACILITATOR",
        "SPEAKER_2": "Interviewer",
        "SPEAKER_3": "PERSON-1",
        "SPEAKER_4": "P3",
    }
    assert "header" not in json.dumps(out.speakers)


VTT = """WEBVTT

NOTE made by another tool

1
00:00:01.000 --> 00:00:03.500
<v Dana Whitfield>Welcome, everyone.</v>

2
00:00:04.000 --> 00:00:06.000
<v Maria Lopez>Thanks, Dana.

3
00:00:06.000 --> 00:00:07.000
and thanks Mari.
"""

SRT = """1
00:00:01,000 --> 00:00:03,500
Dana Whitfield: Welcome, everyone.

2
00:00:04,000 --> 00:00:06,000
MARIA: Thanks.
"""


def test_subtitles_vtt_and_srt():
    vtt = parse_subtitles(VTT)
    assert [(t["speaker"], t["text"], t["start"], t["end"]) for t in vtt] == [
        ("Dana Whitfield", "Welcome, everyone.", 1.0, 3.5),
        ("Maria Lopez", "Thanks, Dana.", 4.0, 6.0),
        ("Maria Lopez", "and thanks Mari.", 6.0, 7.0),
    ]
    srt = parse_subtitles(SRT)
    assert [(t["speaker"], t["text"]) for t in srt] == [
        ("Dana Whitfield", "Welcome, everyone."),
        ("MARIA", "Thanks."),
    ]


def test_docx_paragraphs_and_tables(tmp_path):
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_paragraph("Dana Whitfield: How did the outing go?")
    doc.add_paragraph("Maria: Good. Mari had fun.")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Dana Whitfield"
    table.rows[0].cells[1].text = "Great."
    doc.save(str(tmp_path / "t.docx"))
    t = load_transcript(tmp_path / "t.docx", MANIFEST)
    assert [s.text for s in t.segments] == [
        "How did the outing go?",
        "Good. Mari had fun.",
        "Great.",
    ]
    assert [s.speaker for s in t.segments] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]


def test_json_without_words_and_qscribe_json(tmp_path):
    other = {
        "segments": [
            {"speaker": "Dana Whitfield", "start": 0.5, "end": 2.0, "text": "Hi Maria."},
            {"speaker": "Maria Lopez", "start": 2.0, "end": 3.0, "text": "Hi."},
        ]
    }
    (tmp_path / "a.json").write_text(json.dumps(other))
    t = load_transcript(tmp_path / "a.json", MANIFEST)
    assert [(s.speaker, s.start, s.end) for s in t.segments] == [
        ("SPEAKER_1", 0.5, 2.0),
        ("SPEAKER_2", 2.0, 3.0),
    ]
    (tmp_path / "b.json").write_text(t.to_json())
    again = load_transcript(tmp_path / "b.json")
    assert again.to_dict() == t.to_dict()
    (tmp_path / "c.json").write_text(json.dumps([{"speaker": "P1", "text": "Hello."}]))
    assert load_transcript(tmp_path / "c.json").segments[0].text == "Hello."


def test_unknown_and_empty_files_are_clear_errors(tmp_path):
    (tmp_path / "a.pdf").write_text("x")
    with pytest.raises(PipelineError, match=r"Available: \.json, \.txt"):
        load_transcript(tmp_path / "a.pdf")
    (tmp_path / "b.txt").write_text("\n\n")
    with pytest.raises(PipelineError, match="no transcript text"):
        load_transcript(tmp_path / "b.txt")
    with pytest.raises(PipelineError, match="not found"):
        load_transcript(tmp_path / "missing.txt")


@pytest.mark.slow
def test_typed_transcript_end_to_end(tmp_path):
    """`qscribe deidentify` on a typed .txt: names in text and headers go, the gate passes."""
    import subprocess
    import sys

    from tests.conftest import ROOT, write_config

    cfg = write_config(tmp_path, ROOT / "var" / "models")
    (tmp_path / "t.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "session_id: int-7\nkind: member_focus_group\npeople:\n"
        "  - {id: F01, name: Dana Whitfield, role: facilitator}\n"
        "  - {id: M04, name: Maria Lopez, aliases: [Mari], role: member}\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "--config",
            str(cfg),
            "deidentify",
            str(tmp_path / "t.txt"),
            "--session",
            str(tmp_path / "m.yaml"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "out" / "int-7"
    txt = (folder / "transcript.txt").read_text()
    for name in ("Maria", "Mari ", "Mari.", "Dana", "Whitfield", "Keisha"):
        assert name not in txt, (name, txt)
    assert "FACILITATOR:" in txt and "Everybody calls me [" in txt
    data = (folder / "transcript.json").read_text()
    assert "Maria" not in data and "Whitfield" not in data and "header" not in data
