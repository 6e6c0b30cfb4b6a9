"""Names by their shape: runs of capitalized words that spaCy's small model passes over.

Whisper capitalizes proper names ("we went to Kegel's out on National", "that was
really Kowalski"). A capitalized word away from the start of a sentence that is rare
in English (Zipf < 3), or two or more capitalized words together of which one is not
an everyday word ("Sherman Park", "Cracker Barrel"), name a person, place or
organization. The type is guessed from the last word (Park -> place, Services ->
organization) and the word before (at/in/to -> place); a wrong guess still replaces
the name. Capitalized words that name no one (I, months, weekdays, holidays,
languages, platforms, fillers) never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import CASED, Recognizer, sentence_start
from pipeline.deid.recognizers.vocabulary import NOT_NAMES, ORG_HEADS, PLACE_HEADS, zipf

TOKEN = re.compile(
    r"(?:St|Mt|Ft|Jr|Sr)\.|[A-Za-zÀ-ÿ][\wÀ-ÿ'’]*(?:-[\wÀ-ÿ'’]+)*|\d+(?:st|nd|rd|th)?|&"
)
#: Small words that may stand inside a name ("Fond du Lac", "Our Lady of Peace").
CONNECT = frozenset(
    {
        "of",
        "the",
        "de",
        "du",
        "del",
        "la",
        "le",
        "los",
        "las",
        "da",
        "van",
        "von",
        "'n",
        "n'",
        "&",
        "y",
    }
)
#: Before a name, these make it a place ("out on National", "moved to Cudahy").
PLACE_BEFORE = frozenset("in at to from near on off outside around into toward towards by".split())
#: Words that make a nickname with a first name ("Big Mike", "Lil Ray").
NICKNAME = frozenset(
    "big little lil old young baby miss aunt auntie uncle cousin brother sister".split()
)
RARE = 3.0
EVERYDAY = 4.3


def _core(word: str) -> str:
    w = word.lower().rstrip(".")
    return re.sub(r"['’]s$", "", w)


def _capital(word: str) -> bool:
    return word[0].isupper()


class ProperNounRecognizer(Recognizer):
    ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")
    NAME = "ProperNounRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.roster import name_words
        from pipeline.deid.truecase import first_names

        everyday_names = name_words()
        cased = CASED.get()
        toks = list(TOKEN.finditer(text))
        i = 0
        while i < len(toks):
            t = toks[i]
            if not _capital(t.group(0)):
                i += 1
                continue
            # A run of capitalized words, small connecting words allowed inside.
            j = i + 1
            last = i
            while j < len(toks):
                gap = text[toks[j - 1].end() : toks[j].start()]
                if gap.strip(" ") or "\n" in gap:
                    break  # punctuation ends the name
                w = toks[j].group(0)
                if _capital(w):
                    last = j
                elif w.lower() not in CONNECT:
                    break
                j += 1
            run = toks[i : last + 1]
            i = last + 1
            # Drop what names no one from the ends (I, fillers, months, a sentence's first word).
            while run and (
                _core(run[0].group(0)) in NOT_NAMES
                or (
                    sentence_start(text, run[0].start())
                    and zipf(_core(run[0].group(0))) >= RARE
                    and not self._name_then_verb(text, run, first_names())
                )
                or run[0].group(0).lower() in CONNECT
            ):
                run = run[1:]
            while run and (
                _core(run[-1].group(0)) in NOT_NAMES or run[-1].group(0).lower() in CONNECT
            ):
                run = run[:-1]
            if not run:
                continue
            words = [_core(m.group(0)) for m in run if _capital(m.group(0))]
            if not words or any(w in NOT_NAMES for w in words):
                continue
            start, end = run[0].start(), run[-1].end()
            if text[end - 1] == ".":
                end -= 1
            head = words[-1]
            if len(words) == 1:
                w = words[0]
                if len(w) < 3 or w in everyday_names or w.isdigit():
                    continue
                if zipf(w) >= RARE and not (
                    w in first_names()
                    and zipf(w) < (5.0 if cased else 4.0)
                    and (
                        not sentence_start(text, start)
                        or self._name_then_verb(text, run, first_names())
                    )
                ):
                    continue  # a common word; a first name capitalized mid-sentence counts ("Luz")
                # Truecasing capitalized every rare word (flan, cookout, practicum):
                # alone, only a first name, a word after a place preposition, or initials
                # without a vowel ("jctc", "lmpd") count.
                if not cased and not (
                    w in first_names()
                    or self._after_place_word(text, start)
                    or (3 <= len(w) <= 5 and not re.search(r"[aeiouy]", w))
                ):
                    continue
                if run[0].group(0).isupper() and len(w) <= 5:
                    from pipeline.deid.recognizers.institutions import COMMON_INITIALS

                    if w in COMMON_INITIALS:
                        continue
                    kind = "ORGANIZATION"  # an acronym
                elif self._after_place_word(text, start):
                    kind = "LOCATION"
                else:
                    kind = "PERSON"
                yield start, end, kind, 0.5
                continue
            if (
                all(zipf(w) >= EVERYDAY for w in words)
                and head not in PLACE_HEADS | ORG_HEADS
                and not (words[0] in NICKNAME and words[-1] in first_names())
            ):
                continue  # "Dancing Queen", "Happy Hour" (but "Big Mike")
            if head in ORG_HEADS and head not in PLACE_HEADS:
                kind = "ORGANIZATION"
            elif head in PLACE_HEADS or self._after_place_word(text, start):
                kind = "LOCATION"
            else:
                kind = (
                    "PERSON"
                    if all(w.isalpha() for w in words) and len(words) <= 3
                    else "ORGANIZATION"
                )
            yield start, end, kind, 0.5

    @staticmethod
    def _name_then_verb(text: str, run: list[re.Match[str]], names: frozenset[str]) -> bool:
        """A first name opening a sentence, then a verb: "Deb feels that way", "Deb told me"."""
        from pipeline.deid.roster import PAST_IRREGULAR, name_words

        w = _core(run[0].group(0))
        if len(run) != 1 or w not in names or w in name_words() or zipf(w) >= 4.0:
            return False
        nxt = re.match(r"\s+([a-z']+)", text[run[0].end() :])
        if not nxt:
            return False
        verb = nxt.group(1)
        return verb in PAST_IRREGULAR or (verb.endswith(("s", "ed")) and len(verb) > 3)

    @staticmethod
    def _after_place_word(text: str, start: int) -> bool:
        before = re.findall(r"[a-z]+", text[max(0, start - 12) : start].lower())
        return bool(before) and before[-1] in PLACE_BEFORE
