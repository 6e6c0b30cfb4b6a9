"""Names that are also words, when they stand in a list of names: "me, Mark, Tammy, Rose,
Big Mike and Grace", "faith and will both".

A name that is an everyday word (grace, rose, will, faith) is a name when it sits in a
list next to a name that is plainly one (Tammy, Mike): joined by a comma, "and", or,
in lowercase text, a bare space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import CASED, Recognizer, sentence_start

WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: Between two names of a list.
JOIN = re.compile(r"^(?:\s*,\s*|\s+and\s+|\s*,\s*and\s+|\s+)$", re.IGNORECASE)
#: After a modal-looking name ("will"), these show it is still the name.
AFTER_MODAL = frozenset("and both too also said came went was".split())


class NameListRecognizer(Recognizer):
    ENTITIES = ("PERSON",)
    NAME = "NameListRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.recognizers.vocabulary import zipf
        from pipeline.deid.roster import PREV_BLOCK, name_words
        from pipeline.deid.truecase import first_names

        cased = CASED.get()
        words = list(WORD.finditer(text))
        everyday = name_words()
        names = first_names()

        def core(m: re.Match[str]) -> str:
            return re.sub(r"['’]s$", "", m.group(0).lower())

        def clear(i: int) -> bool:
            m = words[i]
            w = core(m)
            if w in everyday or w not in names:
                return False
            if cased:
                return m.group(0)[0].isupper() and not sentence_start(text, m.start())
            return zipf(w) < 5.0

        def joined(i: int, j: int) -> bool:
            gap = text[words[i].end() : words[j].start()]
            if "\n" in gap:
                return False
            return bool(JOIN.match(gap)) and (cased or gap.strip(" ,") in ("", "and"))

        for i, m in enumerate(words):
            w = core(m)
            if w not in everyday:
                continue
            if cased and not m.group(0)[0].isupper():
                continue  # in cased text a lowercase "grace" is the word
            if i and core(words[i - 1]) in PREV_BLOCK:
                continue  # "i hope tammy", "to mark it": the verb
            nxt = core(words[i + 1]) if i + 1 < len(words) else ""
            if (
                w in ("will", "may")
                and nxt
                and nxt not in AFTER_MODAL
                and not (i + 1 < len(words) and clear(i + 1))
            ):
                continue
            # The nearest words on each side ("and" skipped): a plain name there, joined to
            # this one by commas, "and" or spaces, makes a list (one name-word may sit between).
            if any(self._plain_name_near(i, step, words, joined, clear, core) for step in (-1, 1)):
                yield m.start(), m.start() + len(w), "PERSON", 0.55

    @staticmethod
    def _plain_name_near(i, step, words, joined, clear, core) -> bool:
        from pipeline.deid.roster import name_words

        k, hops = i + step, 0
        while 0 <= k < len(words) and hops < 2:
            if words[k].group(0).lower() == "and":
                k += step
                continue
            a, b = sorted((i, k))
            if not all(joined(x, x + 1) for x in range(a, b)):
                return False
            if clear(k):
                return True
            if core(words[k]) not in name_words():
                return False
            k += step
            hops += 1
        return False
