"""Generated sessions with known turns and roles, for tests and ``make eval``.

A facilitator asks questions; members (or one staff member) answer; other voices
drop short backchannels ("yeah", "mm-hm"), some overlapping the end of a turn.
Each voice also gets an enrollment clip of different sentences.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.transcript import Transcript
from tests.support.synth import (
    SR,
    VOICE_BANK,
    Rendering,
    Turn,
    Voice,
    render,
    speak,
    write_audio,
    write_reference,
)

QUESTIONS = [
    "What kinds of things do you do together with staff outside of the program?",
    "How did it feel the first time you went out to dinner with staff?",
    "Can you tell me about a time when going out together was difficult?",
    "Who usually decides where the group goes?",
    "How do you handle the cost of eating out?",
    "Has anyone ever felt left out of these outings?",
    "What would you change about the way these get-togethers work?",
    "Do you think staff should be friends with members?",
    "What happens on Monday after a weekend outing?",
    "How often do these outings happen?",
]
MEMBER = [
    "Mostly we go out for pizza on Friday nights, it is something to look forward to all week.",
    "The first time I was nervous, but after a while it felt like being out with friends.",
    "Money is the hard part, twenty dollars for dinner is a lot when you live on a small check.",
    "Once I heard they all went bowling and nobody told me, and that really hurt.",
    "I think it helped me learn how to talk to people outside the clubhouse.",
    "Usually whoever has an idea says it at the meeting, and then we vote on it.",
    "Sometimes one of the staff pays for coffee, and I always feel a little awkward about that.",
    "I get anxious in loud restaurants, so I like it when we go somewhere quiet.",
    "It showed me that staff see us as people, not just as members.",
    "We go about twice a month, more in the summer when the weather is nice.",
]
STAFF = [
    "I go because I want to, nobody makes me, and I get something out of it too.",
    "The hardest part is Monday morning, when I am still the one who helps with housing.",
    "We talk a lot as a team about boundaries and about who gets invited.",
    "Honestly it changed how I think about my own stigma toward the people I work with.",
    "I try to keep it optional, so members never feel they have to come.",
    "It gives me a different view of how someone is doing, outside the program.",
]
BACKCHANNELS = ["Yeah.", "Mm-hm.", "Right.", "Okay.", "Sure."]
ENROLL = [
    "This is my voice for the enrollment clip, I am reading a few sentences slowly.",
    "The weather today is mild and the bus was on time for once.",
]


#: Fictional names for sessions that say who is who (``plan(..., names=True)``).
NAMES = [
    "Rosa Delgado",
    "Tom Becker",
    "Maria Lopez",
    "James Carter",
    "Linda Park",
    "Kevin Brown",
    "Sarah Miller",
    "David Chen",
    "Omar Haddad",
    "Nina Patel",
]
INTRO_ASK = "Could each of you say your first name, and how long you have been coming here?"
INTROS = [
    "I'm {first}. About three years now.",
    "My name is {full}. I have been coming for two years.",
    "Hi, I'm {first} {last}, almost a year.",
    "{first}. Five years, I think.",
]
CALL_ON = ["{first}, what about you?", "What do you think, {first}?", "{first}, anything to add?"]


@dataclass
class GeneratedSession:
    kind: str
    voices: dict[str, Voice]
    roles: dict[str, str]
    lines: list[tuple[str, str, float]] = field(default_factory=list)
    #: speaker -> full name said in the session (empty: nobody is named).
    names: dict[str, str] = field(default_factory=dict)


def plan(
    n_voices: int,
    n_turns: int,
    seed: int,
    kind: str = "member_focus_group",
    backchannel_rate: float = 0.3,
    overlap_rate: float = 0.3,
    names: bool = False,
) -> GeneratedSession:
    """A session script: who says what, with backchannels and some overlap.

    ``names``: people have names and say them as a focus group does: the facilitator
    introduces herself, everyone says their name in an opening round, and the
    facilitator sometimes calls on someone by name.
    """
    rng = random.Random(seed)
    bank = VOICE_BANK[:]
    rng.shuffle(bank)
    if names:
        return _named(n_voices, n_turns, rng, bank, kind, backchannel_rate, overlap_rate)
    names_ = ["FAC"] + [f"P{i}" for i in range(1, n_voices)]
    return _script(names_, n_turns, rng, bank, kind, backchannel_rate, overlap_rate)


def _script(
    names: list[str],
    n_turns: int,
    rng: random.Random,
    bank: list[dict],
    kind: str,
    backchannel_rate: float,
    overlap_rate: float,
) -> GeneratedSession:
    voices = {n: Voice(**bank[i % len(bank)]) for i, n in enumerate(names)}
    others = names[1:]
    roles = {
        "FAC": "facilitator",
        **{n: "staff" if kind == "staff_interview" else "member" for n in others},
    }
    pool = STAFF + MEMBER if kind == "staff_interview" else MEMBER
    lines: list[tuple[str, str, float]] = [
        ("FAC", "Thank you all for coming today, let's get started.", 0.6)
    ]
    for _ in range(n_turns):
        lines.append(("FAC", rng.choice(QUESTIONS), 0.7))
        for who in rng.sample(others, k=min(len(others), rng.randint(1, 3))):
            lines.append((who, rng.choice(pool), 0.5))
            if len(others) > 1 and rng.random() < backchannel_rate:
                listener = rng.choice([o for o in names if o != who])
                gap = -0.4 if rng.random() < overlap_rate else 0.2
                lines.append((listener, rng.choice(BACKCHANNELS), gap))
    return GeneratedSession(kind, voices, roles, lines)


def _named(
    n_voices: int,
    n_turns: int,
    rng: random.Random,
    bank: list[dict],
    kind: str,
    backchannel_rate: float,
    overlap_rate: float,
) -> GeneratedSession:
    speakers = ["FAC"] + [f"P{i}" for i in range(1, n_voices)]
    session = _script(speakers, n_turns, rng, bank, kind, backchannel_rate, overlap_rate)
    pool = NAMES[:]
    rng.shuffle(pool)
    session.names = {s: pool[i % len(pool)] for i, s in enumerate(speakers)}
    first = {s: n.split()[0] for s, n in session.names.items()}
    fac = session.names["FAC"]
    opening: list[tuple[str, str, float]] = [
        (
            "FAC",
            f"Thank you all for coming today. My name is {fac}, and I will lead our talk.",
            0.6,
        ),
        ("FAC", INTRO_ASK, 0.6),
    ]
    for who in speakers[1:]:
        full = session.names[who]
        line = rng.choice(INTROS).format(first=first[who], last=full.split()[1], full=full)
        opening.append((who, line, 0.5))
    lines: list[tuple[str, str, float]] = []
    for i, (who, text, gap) in enumerate(session.lines[1:]):
        nxt = session.lines[i + 2] if i + 2 < len(session.lines) else None
        if who == "FAC" and nxt is not None and nxt[0] != "FAC" and rng.random() < 0.4:
            text = f"{text} {rng.choice(CALL_ON).format(first=first[nxt[0]])}"
        lines.append((who, text, gap))
    session.lines = opening + lines
    return session


def build(session: GeneratedSession, folder: Path, name: str) -> tuple[Path, Rendering]:
    """Render audio, reference turns, enrollment clips and a manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    r = render(session.lines, session.voices)
    audio = write_audio(folder / f"{name}.wav", r.audio, r.sample_rate)
    write_reference(folder / name, r, name)
    people = []
    for spk, role in session.roles.items():
        pid = f"{name}-{spk}"
        clip = folder / f"{pid}.enroll.wav"
        write_audio(clip, speak(" ".join(ENROLL), session.voices[spk]), SR)
        person = session.names.get(spk, f"Person {spk}")
        people.append({"id": pid, "name": person, "role": role, "enrollment": [clip.name]})
    manifest = {
        "session_id": name,
        "kind": session.kind,
        "recording": audio.name,
        "expected_speakers": {"min": 2, "max": len(session.roles) + 2},
        "people": people,
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / f"{name}.roles.yaml").write_text(yaml.safe_dump(session.roles))
    return audio, r


def role_hits(t: Transcript, turns: list[Turn], roles: dict[str, str]) -> tuple[int, int]:
    """(words whose segment has the right role, words scored): a word is scored when
    its middle falls in exactly one reference turn (not overlapped, not outside)."""
    ok = n = 0
    for seg in t.segments:
        for w in seg.words:
            mid = (w.start + w.end) / 2
            hits = {roles[x.speaker] for x in turns if x.start - 0.1 <= mid <= x.end + 0.1}
            if len(hits) == 1:
                n += 1
                ok += seg.role in hits
    return ok, n
