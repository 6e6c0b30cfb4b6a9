"""Voices tied to roster people from what is said.

Focus groups open with a round of names, and facilitators call on people by name, so
the transcript itself often says who a voice is:

- a self-introduction: "I'm Rosa", "my name is Tom Becker", "this is Priya";
- a short answer that is only a name (to "say your first name"): "Rosa." "Tom Becker.";
- being addressed at a turn change: "Tom, what about you?" or "... what do you think,
  Priya?" (the next voice is that person), "Thank you, Rosa." (the voice just before);
- and against: a voice that names someone in passing ("I talked with Marcus") is
  probably not that person.

Names are found with the de-identification's roster matcher
(:func:`pipeline.deid.roster.find_roster`: aliases, possessives and misheard names by
Double Metaphone and edit distance), so "Prianna" still counts for Priya. The evidence
is summed per (voice, person) and voices are matched to people one to one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pipeline.manifest import SessionManifest
from pipeline.transcript import Transcript, Turn

#: Words right before a name that make it a self-introduction, and their weight.
INTRO = (
    (re.compile(r"(?:\bmy name is|\bmy name's|\bname is|\bname's|\bcall me)$"), 1.0),
    (re.compile(r"(?:\bi am|\bi'm|\bim|\bi’m)$"), 1.0),
    (re.compile(r"(?:\bthis is|\bit's|\bits|\bit’s|\bhere is|\bhere's)$"), 0.6),
)
#: Thanks before a name: the name is the voice that just spoke.
THANKS = re.compile(r"(?:\bthank you|\bthanks|\bthank you so much|\bthank you very much)$")
#: Fillers a one-word answer may carry ("Um, Rosa." "Hi, I'm ...").
FILLER = frozenset(
    "um uh er hi hello hey yeah yes so okay ok well and oh sure it's its i'm im i am me "
    "just first name".split()
)
NAME_PROMPT = re.compile(r"\bnames?\b|\bintroduce\b|\bi'm\b|\bi am\b", re.IGNORECASE)
WORDS = re.compile(r"[a-z][a-z'’]*")
#: A voice is tied to a person when its evidence sums to at least this.
MIN_SCORE = 0.6
#: Weights of the kinds of evidence.
W_ANSWER = 0.8
W_NEXT = 0.7
W_THANKED = 0.6
W_PASSING = -0.5


@dataclass
class Evidence:
    """One cue that ``voice`` is (weight > 0) or is not (weight < 0) ``person``."""

    voice: str
    person: str
    kind: str  # intro | answer | addressed | thanked | mentioned
    weight: float
    at: float


def _roster(manifest: SessionManifest):
    from pipeline.deid.roster import Roster

    return Roster.build([(p.id, p.name, list(p.aliases)) for p in manifest.people], [], [])


def _next_voice(turns: list[Turn], i: int) -> str | None:
    """The next voice to take the floor after turn ``i`` (skipping short backchannels)."""
    me = turns[i].speaker
    first = None
    for t in turns[i + 1 : i + 6]:
        if t.speaker == me or not t.speaker:
            continue
        first = first or t.speaker
        if len(t.text.split()) >= 3:
            return t.speaker
    return first


def _prev_voice(turns: list[Turn], i: int) -> str | None:
    me = turns[i].speaker
    for t in reversed(turns[max(0, i - 4) : i]):
        if t.speaker and t.speaker != me and len(t.text.split()) >= 3:
            return t.speaker
    return next((t.speaker for t in reversed(turns[max(0, i - 2) : i]) if t.speaker != me), None)


def _clean(text: str) -> str:
    return " ".join(WORDS.findall(text.lower()))


def evidence(t: Transcript, manifest: SessionManifest | None) -> list[Evidence]:
    """Every cue in the transcript tying a voice to a manifest person (or ruling it out)."""
    from pipeline.deid.roster import find_roster

    if manifest is None or not manifest.people:
        return []
    from pipeline.speakers.assign import turns as make_turns

    roster = _roster(manifest)
    all_turns = [x for x in make_turns(t) if x.speaker]
    cased = any(c.isupper() for x in all_turns[:50] for c in x.text[1:])
    out: list[Evidence] = []
    intro_turns: set[int] = set()
    for i, turn in enumerate(all_turns):
        text = turn.text
        # The turn before asked for names (or was someone's introduction): a name that
        # opens this turn is this voice's own ("Tom, five years").
        prompted = i - 1 in intro_turns or any(
            NAME_PROMPT.search(x.text) for x in all_turns[max(0, i - 2) : i]
        )
        found = sorted(
            (
                (span, pid)
                for span, pid in find_roster(text, roster, cased=cased, fuzzy=True)
                if span.type == "ROSTER_PERSON"
            ),
            key=lambda x: x[0].start,
        )
        taken = [(span.start, span.end) for span, _ in found]
        extra = [
            (a, b, pid)
            for a, b, pid in misheard_intros(text, roster, cased)
            if not any(x < b and a < y for x, y in taken) and pid not in {k for _, k in found}
        ]
        for _a, _b, pid in extra:
            out.append(Evidence(turn.speaker or "", pid, "intro", 0.8, turn.start))
            intro_turns.add(i)
        if not found:
            continue
        people_here = {pid for _, pid in found}
        for span, pid in found:
            before = _clean(text[: span.start])
            after = text[span.end :]
            sentence_before = _clean(re.split(r"[.?!]", text[: span.start])[-1])
            rest = _clean(after)
            kind, weight, voice = "mentioned", W_PASSING, turn.speaker
            intro = _intro(sentence_before, text[: span.start])
            alone = not set(before.split()) - FILLER and not set(rest.split()) - FILLER
            if intro is not None and not re.match(r"\s*(?:'s|’s)", after):
                kind, weight = "intro", intro
            elif (
                (alone or (prompted and not set(before.split()) - FILLER))
                and len(people_here) == 1
                and "?" not in after[:3]
            ):
                kind, weight = "answer", W_ANSWER
            elif len(people_here) == 1:
                thanks = THANKS.search(sentence_before) is not None
                opens = not set(sentence_before.split()) - FILLER - {"and", "so", "now"}
                ends_sentence = not _clean(re.split(r"[.?!]", after)[0])
                closes = ends_sentence and (not rest or after.lstrip()[:1] == "?")
                vocative = re.match(r"\s*[,?]", after) is not None or closes
                if thanks and (opens or ends_sentence):
                    kind, weight, voice = "thanked", W_THANKED, _prev_voice(all_turns, i)
                elif vocative and (closes or (opens and ("?" in after or is_ask(after)))):
                    kind, weight, voice = "addressed", W_NEXT, _next_voice(all_turns, i)
            if voice is None:
                continue
            out.append(Evidence(voice, pid, kind, weight, turn.start))
            if kind in ("intro", "answer"):
                intro_turns.add(i)
            if kind in ("addressed", "thanked") and voice != turn.speaker:
                # The one who calls on someone is not that someone.
                out.append(Evidence(turn.speaker or "", pid, "mentioned", W_PASSING, turn.start))
    return out


def _intro(sentence_before: str, raw_before: str) -> float | None:
    """Weight of the self-introduction that ends right before a name, if any; one
    capitalized word between may be a misheard first name ("I'm Prianna Natarajan")."""
    for phrase, w in INTRO:
        if phrase.search(sentence_before):
            return w
    last = raw_before.split()[-1:] if raw_before.strip() else []
    if last and last[0][:1].isupper():
        shorter = " ".join(sentence_before.split()[:-1])
        return next((w for phrase, w in INTRO if phrase.search(shorter)), None)
    return None


def misheard_intros(text: str, roster, cased: bool) -> list[tuple[int, int, str]]:
    """Names after "I'm" / "my name is" that the roster matcher did not take, compared
    more loosely (the speaker is saying a name): (start, end, person id)."""
    from rapidfuzz.distance import Levenshtein

    from pipeline.deid.roster import STOP, name_words, sound

    out = []
    for m in re.finditer(
        r"(?:\bmy name is|\bmy name's|\bcall me|\bI am|\bI'm|\bI’m)\s+([A-Za-z][a-z'’-]+)",
        text,
        re.IGNORECASE,
    ):
        word = m.group(1)
        low = word.lower()
        if (cased and not word[0].isupper()) or low in STOP or low in name_words() or len(low) < 3:
            continue
        codes = {x for x in sound(low) if x}
        best, best_d = None, 1.0
        for part, ids in roster.person_tokens.items():
            if len(part) < 3:
                continue
            d = Levenshtein.normalized_distance(low, part)
            near = d <= 0.45 and part[:2] == low[:2]
            alike = bool(codes & {x for x in sound(part) if x}) and d <= 0.5
            if (near or alike) and d < best_d:
                best, best_d = sorted(ids)[0], d
        if best:
            out.append((m.start(1), m.end(1), best))
    return out


def is_ask(text: str) -> bool:
    return bool(
        re.match(r"[\s,]*(?:what|how|why|do|did|would|could|can|tell|any|and)\b", text, re.I)
    )


def scores(ev: list[Evidence], voices: list[str], people: list[str]) -> np.ndarray:
    """Summed evidence, (voices, people)."""
    s = np.zeros((len(voices), len(people)))
    vi = {v: i for i, v in enumerate(voices)}
    pi = {p: j for j, p in enumerate(people)}
    for e in ev:
        if e.voice in vi and e.person in pi:
            s[vi[e.voice], pi[e.person]] += e.weight
    return s


def match_by_name(
    voices: list, t: Transcript, manifest: SessionManifest | None, min_score: float = MIN_SCORE
) -> list[Evidence]:
    """Tie voices not yet tied (by the RA or enrollment) to people, one to one, from what
    is said. Sets ``person``, ``role``, ``source="names"`` and a confidence; returns the
    evidence used (for counts)."""
    from pipeline.diarize.clustering import assign_distinct

    ev = evidence(t, manifest)
    if not ev or manifest is None:
        return ev
    taken = {v.person for v in voices if v.person}
    free = [v for v in voices if not v.person and v.source not in ("review", "enrollment")]
    people = [p.id for p in manifest.people if p.id not in taken]
    if not free or not people:
        return ev
    s = scores(ev, [v.id for v in free], people)
    roles = {p.id: p.role for p in manifest.people}
    if len(free) <= len(people):
        pairs = [(i, int(c)) for i, c in enumerate(assign_distinct(s))]
    else:
        pairs = [(int(r), j) for j, r in enumerate(assign_distinct(s.T))]
    for i, j in pairs:
        score = s[i, j]
        if score < min_score:
            continue
        # Competing claims on this voice or this person lower the confidence.
        rival = max(
            float(np.delete(s[i], j).max(initial=0.0)),
            float(np.delete(s[:, j], i).max(initial=0.0)),
        )
        v = free[i]
        v.person, v.role, v.source = people[j], roles[people[j]], "names"
        v.confidence = float(
            np.clip(0.55 + 0.25 * min(score, 1.6) - 0.3 * max(rival, 0.0), 0.3, 0.95)
        )
        kinds = sorted(
            {e.kind for e in ev if e.voice == v.id and e.person == people[j] and e.weight > 0}
        )
        v.notes.append(f"named in the transcript ({', '.join(kinds)})")
    return ev
