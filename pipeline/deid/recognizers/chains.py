"""Chains and brands people go to: restaurants, stores, pharmacies, cinemas, transit.

A national chain names no one by itself, but where a member eats, shops or works
narrows who they are, and the NER model misses most of them ("we went to Culver's",
"she works at Kroger"). The list (``data/chains.txt``) is general knowledge, not a
study's sites. Names that are everyday words (Target, Subway, Shell) count only when
capitalized away from the start of a sentence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib import resources

from pipeline.deid.recognizers.base import Recognizer, sentence_start


@functools.lru_cache(maxsize=1)
def _chains() -> tuple[re.Pattern[str], frozenset[str]]:
    text = resources.files("pipeline.deid.data").joinpath("chains.txt").read_text("utf-8")
    names, everyday = set(), set()
    for line in text.splitlines():
        line = line.strip().lower()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            line = line[1:]
            everyday.add(line)
        names.add(line)
    alts = []
    for n in sorted(names, key=len, reverse=True):
        # "denny's" also as "dennys" / "denny s"; spaces also as hyphens.
        p = re.escape(n).replace(r"\ ", r"[\s-]+").replace("'", "['’]?\\s?")
        alts.append(p)
    pattern = re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])", re.IGNORECASE)
    return pattern, frozenset(everyday)


class ChainRecognizer(Recognizer):
    ENTITIES = ("ORGANIZATION",)
    NAME = "ChainRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        pattern, everyday = _chains()
        for m in pattern.finditer(text):
            if m.group(0).lower() in everyday and (
                not m.group(0)[0].isupper() or sentence_start(text, m.start())
            ):
                continue
            yield m.start(), m.end(), "ORGANIZATION", 0.6
