from pipeline.transcript import Segment, Source, Transcript, Word
from pipeline.writers import clock, to_maxqda, to_srt, to_txt, to_vtt, write_all


def transcript(with_speakers=False):
    segs = [
        Segment(0, 0.0, 2.5, "Hello and welcome.", [Word(0.0, 0.5, "Hello", 0.9)]),
        Segment(1, 2.6, 4.0, "Thanks for having me."),
        Segment(2, 3725.2, 3727.0, "Later on."),
    ]
    speakers = []
    if with_speakers:
        for s, spk in zip(segs, ["S0", "S1", "S1"], strict=False):
            s.speaker = spk
        speakers = [{"id": "S0", "label": "FACILITATOR"}, {"id": "S1", "label": "MEMBER-3"}]
    return Transcript("s1", Source("a.wav", "0" * 64, 3727.0), "en", segs, speakers)


def test_clock():
    assert clock(3725.2) == "01:02:05.200"
    assert clock(3725.2, ",") == "01:02:05,200"
    assert clock(65.4, ms=False) == "00:01:05"


def test_txt_paragraphs_with_stamps():
    txt = to_txt(transcript())
    assert txt == "[00:00:00] Hello and welcome. Thanks for having me.\n\n[01:02:05] Later on.\n"
    txt = to_txt(transcript(with_speakers=True))
    assert txt.splitlines()[0] == "[00:00:00] FACILITATOR: Hello and welcome."
    assert txt.splitlines()[2] == "[00:00:02] MEMBER-3: Thanks for having me."


def test_vtt_and_srt():
    vtt = to_vtt(transcript(with_speakers=True))
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n<v FACILITATOR>Hello")
    srt = to_srt(transcript())
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\nHello and welcome.\n")
    assert "\n3\n01:02:05,200 --> 01:02:07,000\nLater on.\n" in srt


def test_write_all(tmp_path):
    paths = write_all(transcript(), tmp_path)
    assert sorted(p.name for p in paths) == [
        "transcript.json",
        "transcript.maxqda.txt",
        "transcript.srt",
        "transcript.txt",
        "transcript.vtt",
    ]


def test_maxqda_focus_group_import():
    text = to_maxqda(transcript(with_speakers=True))
    lines = text.splitlines()
    header = lines[: lines.index("")]
    assert header and all(":" not in line for line in header), "MAXQDA would code header lines"
    paragraphs = [p for p in text.split("\n\n") if p.strip()][1:]
    assert paragraphs[0] == "FACILITATOR: Hello and welcome."
    assert paragraphs[1].startswith("MEMBER-3: Thanks for having me. Later on.")


def crosstalk():
    """MEMBER-2 talks under the facilitator's words, with no words of its own."""
    words = [
        Word(0.0, 0.4, "So", 0.9, "S0"),
        Word(0.4, 0.8, "what", 0.9, "S0"),
        Word(0.8, 1.2, "happened", 0.9, "S0"),
        Word(1.2, 1.6, "next?", 0.9, "S0"),
    ]
    segs = [
        Segment(0, 0.0, 1.6, "So what happened next?", words, "S0"),
        Segment(1, 2.0, 3.0, "We went home.", [Word(2.0, 3.0, "We went home.", 0.9, "S1")], "S1"),
    ]
    speakers: list[dict] = [
        {"id": "S0", "label": "FACILITATOR"},
        {"id": "S1", "label": "MEMBER-3"},
        {"id": "S2", "label": "MEMBER-2", "overlaps": [[0.75, 1.5]]},
    ]
    return Transcript("s1", Source("a.wav", "0" * 64, 3.0), "en", segs, speakers)


def test_crosstalk_is_marked_where_it_starts():
    from pipeline.writers import overlap_marks

    t = crosstalk()
    assert overlap_marks(t) == [(0.75, 1.5, "MEMBER-2")]
    txt = to_txt(t)
    assert (
        txt.splitlines()[0] == "[00:00:00] FACILITATOR: So what [overlap: MEMBER-2] happened next?"
    )
    vtt = to_vtt(t)
    assert "<v FACILITATOR>So what [overlap: MEMBER-2] happened next?" in vtt
    assert "FACILITATOR: So what [overlap: MEMBER-2] happened next?" in to_srt(t)
    maxqda = [p for p in to_maxqda(t).split("\n\n") if p.strip()][1:]
    assert maxqda[0] == "FACILITATOR: So what [overlap: MEMBER-2] happened next?"
    # The mark lives in the JSON as the voice's stretches, and survives a round trip.
    back = Transcript.from_dict(t.to_dict())
    assert back.speakers[2]["overlaps"] == [[0.75, 1.5]] and to_txt(back) == txt


def test_crosstalk_outside_words_goes_to_the_nearest_segment_before():
    t = crosstalk()
    t.speakers[2]["overlaps"] = [[1.7, 1.95]]
    assert to_txt(t).splitlines()[0].endswith("happened next? [overlap: MEMBER-2]")
    # A voice is never marked as overlapping itself.
    t.speakers[0]["overlaps"] = [[0.2, 0.6]]
    assert "[overlap: FACILITATOR]" not in to_txt(t)
