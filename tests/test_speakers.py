from pipeline.diarize import Diarization, SpeakerTurn
from pipeline.speakers.assign import assign_speakers, speaker_of_spans, turns
from pipeline.transcript import Segment, Source, Transcript, Word


def words(spec):
    return [Word(a, b, t, 0.9) for a, b, t in spec]


def transcript():
    # One Whisper segment where the speaker changes after "welcome." (the classic bug:
    # the first words of a turn landing on the previous speaker).
    seg = Segment(
        0,
        0.0,
        4.0,
        "Hello and welcome. Thanks, glad to be here.",
        words(
            [
                (0.0, 0.4, "Hello"),
                (0.4, 0.6, "and"),
                (0.6, 1.2, "welcome."),
                (1.5, 2.0, "Thanks,"),
                (2.0, 2.4, "glad"),
                (2.4, 2.6, "to"),
                (2.6, 2.8, "be"),
                (2.8, 3.2, "here."),
            ]
        ),
    )
    seg2 = Segment(1, 4.0, 5.0, "Mm-hm.", words([(4.1, 4.6, "Mm-hm.")]))
    return Transcript("s", Source("a.wav", "0" * 64, 5.0), "en", [seg, seg2])


def diarization():
    return Diarization(
        turns=[
            SpeakerTurn(0.0, 1.3, "SPK0"),
            SpeakerTurn(1.4, 3.3, "SPK1"),
            SpeakerTurn(4.0, 4.7, "SPK0"),
        ],
        voices={"SPK0": [1.0, 0.0], "SPK1": [0.0, 1.0]},
    )


def test_each_word_takes_the_voice_it_overlaps_most():
    d = diarization()
    assert speaker_of_spans(d, [(0.0, 0.4), (1.2, 1.6), (1.25, 1.45), (3.4, 3.5), (9.0, 9.5)]) == [
        "SPK0",
        "SPK1",
        "SPK0",
        "SPK1",
        None,
    ]


def test_segments_split_where_the_speaker_changes():
    t = assign_speakers(transcript(), diarization())
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("SPK0", "Hello and welcome."),
        ("SPK1", "Thanks, glad to be here."),
        ("SPK0", "Mm-hm."),
    ]
    assert [s.id for s in t.segments] == [0, 1, 2]
    assert t.segments[0].end == 1.2 and t.segments[1].start == 1.5
    assert all(w.speaker == s.speaker for s in t.segments for w in s.words)


def test_turns_merge_consecutive_segments_of_one_voice():
    t = assign_speakers(transcript(), diarization())
    t.segments[2].speaker = "SPK1"
    t.speakers = [{"id": "SPK1", "label": "MEMBER-A"}]
    ts = turns(t)
    assert [(x.speaker, x.label) for x in ts] == [("SPK0", "SPK0"), ("SPK1", "MEMBER-A")]
    assert ts[1].text == "Thanks, glad to be here. Mm-hm." and ts[1].segment_ids == [1, 2]


def test_no_voices_leaves_words_unassigned():
    t = assign_speakers(transcript(), Diarization())
    assert all(w.speaker is None for w in t.words())


def test_words_at_a_turn_change_stay_with_their_sentence():
    # The next voice starts early (diarization onset before the turn): its largest
    # overlap would give "here." to SPK1; the sentence keeps it with SPK0.
    seg = Segment(
        0,
        0.0,
        3.0,
        "Glad to be here. Thanks for having me.",
        words(
            [
                (0.0, 0.3, "Glad"),
                (0.3, 0.5, "to"),
                (0.5, 0.7, "be"),
                (0.7, 1.1, "here."),
                (1.3, 1.6, "Thanks"),
                (1.6, 1.8, "for"),
                (1.8, 2.1, "having"),
                (2.1, 2.4, "me."),
            ]
        ),
    )
    t = Transcript("s", Source("a.wav", "0" * 64, 3.0), "en", [seg])
    d = Diarization(
        turns=[SpeakerTurn(0.0, 0.88, "SPK0"), SpeakerTurn(0.8, 2.5, "SPK1")],
        voices={"SPK0": [1.0, 0.0], "SPK1": [0.0, 1.0]},
    )
    assert speaker_of_spans(d, [(0.7, 1.1)]) == ["SPK1"]  # the largest overlap alone
    out = assign_speakers(t, d)
    assert [(s.speaker, s.text) for s in out.segments] == [
        ("SPK0", "Glad to be here."),
        ("SPK1", "Thanks for having me."),
    ]


def test_crosstalk_without_words_is_found():
    from pipeline.speakers.assign import unvoiced_overlaps

    t = assign_speakers(transcript(), diarization())
    d = diarization()
    # SPK1 also talks under SPK0's "Hello and welcome" (0.1-0.9) and has no words there.
    d.turns.append(SpeakerTurn(0.1, 0.9, "SPK1"))
    d.turns.sort(key=lambda x: x.start)
    assert unvoiced_overlaps(t, d) == {"SPK1": [(0.1, 0.9)]}
    # A voice heard under its own words, or too briefly, is not marked.
    d.turns.append(SpeakerTurn(4.2, 4.4, "SPK1"))
    assert unvoiced_overlaps(t, d) == {"SPK1": [(0.1, 0.9)]}
