"""A transcript and diarization from scripted lines, for the speaker-labelling tests."""

import numpy as np

from pipeline.diarize import Diarization, SpeakerTurn
from pipeline.speakers.assign import assign_speakers
from pipeline.transcript import Segment, Source, Transcript, Word


def session(lines):
    """A transcript and diarization from (speaker, text) lines, 2 s per line."""
    segs, turns = [], []
    for i, (spk, text) in enumerate(lines):
        a = i * 2.0
        ws = text.split()
        step = 1.8 / len(ws)
        words = [Word(a + j * step, a + (j + 1) * step, w, 0.9) for j, w in enumerate(ws)]
        segs.append(Segment(i, a, a + 1.8, text, words))
        turns.append(SpeakerTurn(a, a + 1.9, spk))
    voices = {s: list(np.eye(4)[int(s[-1])]) for s in {x for x, _ in lines}}
    t = Transcript("s", Source("a.wav", "0" * 64, len(lines) * 2.0), "en", segs)
    d = Diarization(turns=turns, voices=voices, embedding="campplus")
    return assign_speakers(t, d), d


FOCUS = [
    ("SPK0", "Welcome everyone, thanks for coming today."),
    ("SPK0", "What do you do together with staff?"),
    ("SPK1", "We go out for pizza on Fridays most weeks."),
    ("SPK2", "Sometimes bowling, when we have the money."),
    ("SPK0", "How does that feel for you?"),
    ("SPK1", "It feels good, like being with friends."),
    ("SPK3", "Yeah, I agree with that completely."),
    ("SPK0", "Has anyone felt left out?"),
    ("SPK2", "Once, when nobody told me about the movies."),
]
