"""Word error rate with a text normalizer for comparing transcripts to references.

Case, punctuation, hyphens, common titles and digits (Whisper writes "10",
references say "ten") are normalized before scoring, as the usual Whisper
evaluations do.
"""

from __future__ import annotations

import re

import jiwer

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "ms": "miss"}
_SPELLING = {"okay": "ok", "mm-hm": "mhm", "mm-hmm": "mhm", "uh-huh": "uhhuh"}


def number_words(n: int) -> str:
    """English words for 0 <= n < 1,000,000 (enough for spoken transcripts)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def _digits(m: re.Match[str]) -> str:
    s = m.group(0).replace(",", "")
    n = int(s)
    if len(s) > 1 and s.startswith("0"):  # "0142": read digit by digit
        return " ".join(_ONES[int(c)] for c in s)
    if len(s) == 4 and 1100 <= n < 2000 and n % 100:  # a year: "eighteen thirteen"
        return f"{number_words(n // 100)} {number_words(n % 100)}"
    return number_words(n) if len(s) <= 6 else " ".join(_ONES[int(c)] for c in s)


def normalize(text: str) -> str:
    t = text.lower()
    for k, v in _SPELLING.items():
        t = re.sub(rf"\b{re.escape(k)}\b", v, t)
    t = re.sub(r"\b(mr|mrs|dr|st|ms)\.", lambda m: _TITLES[m.group(1)], t)
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    t = re.sub(r"\d+", _digits, t)
    t = re.sub(r"[-–—/]", " ", t)
    t = re.sub(r"[^\w\s']", " ", t)
    t = re.sub(r"\b(\w+)'s\b", r"\1s", t).replace("'", "")
    return " ".join(_TITLES.get(w, w) for w in t.split())


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp))


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """WER over many (reference, hypothesis) pairs, weighted by reference length."""
    refs = [normalize(r) for r, _ in pairs]
    hyps = [normalize(h) for _, h in pairs]
    return float(jiwer.wer(refs, hyps))
