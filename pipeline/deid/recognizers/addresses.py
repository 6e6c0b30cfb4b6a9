"""Street addresses said without a street type ("I was at twelve twenty Brady", "she's at
forty-six twelve Preston") and zip codes ("the zip is five three two oh four",
"my mother's house, 53215"). Full addresses with a street type come from
:mod:`pipeline.deid.spoken`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer
from pipeline.deid.recognizers.vocabulary import NOT_NAMES
from pipeline.deid.spoken import DIRECTION, NUMBER_WORD, number_runs

#: "at 1412 Bardstown", "at twelve twenty Brady", "lives on thirty-one fifteen West Broadway".
_RUN = rf"(?:\d{{2,5}}|{NUMBER_WORD}(?:[\s-]+(?:oh|o|{NUMBER_WORD})){{1,3}})"
_BEFORE = (
    r"\b(?:at|on|to|live|lives|lived|living|address\s+is|address's|moved\s+to|staying\s+at|"
    r"house\s+on)\s+"
)
NO_TYPE = re.compile(
    rf"{_BEFORE}({_RUN}\s+(?:(?:{DIRECTION})\.?\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b"
)
#: Lowercase text: a direction word says the next word is a street ("west broadway").
NO_TYPE_LOWER = re.compile(rf"{_BEFORE}({_RUN}\s+(?:north|south|east|west)\s+[a-z]+)\b")
UNITS = re.compile(
    r"\s(?:dollars?|bucks|cents|people|members|years?|minutes?|hours?|days?|weeks?|months?|"
    r"o'clock|times|miles|percent|pounds|steps|calories|points)\b",
    re.IGNORECASE,
)
ZIP_CONTEXT = re.compile(
    r"(?:\bzip(?:\s*code)?(?:\s+(?:is|was|'s))?|\b[A-Z]{2}|,)\s*$", re.IGNORECASE
)


PO_BOX = re.compile(
    rf"\b(?:p\.?\s?o\.?|post\s+office)\s+box\s+(?:\d+|{NUMBER_WORD}(?:[\s-]+(?:oh|{NUMBER_WORD})){{0,4}})",
    re.IGNORECASE,
)


class AddressRecognizer(Recognizer):
    ENTITIES = ("ADDRESS",)
    NAME = "AddressRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for m in PO_BOX.finditer(text):
            yield m.start(), m.end(), "ADDRESS", 0.65
        for m in NO_TYPE_LOWER.finditer(text):
            yield m.start(1), m.end(1), "ADDRESS", 0.6
        for m in NO_TYPE.finditer(text):
            span = m.group(1)
            words = span.split()
            tail = [w.lower() for w in words if w[0].isupper()]
            if any(w in NOT_NAMES for w in tail) or UNITS.search(" " + span):
                continue
            yield m.start(1), m.end(1), "ADDRESS", 0.6
        for start, end, digits in number_runs(text):
            if len(digits) != 5:
                continue
            token_count = len(re.findall(r"[\w']+", text[start:end]))
            written = re.fullmatch(r"\d{5}", text[start:end]) is not None
            if not written and token_count < 4:
                continue  # "twelve thirty-five" is a time or an amount, not a zip
            if text[max(0, start - 1) : start] == "$" or UNITS.match(text[end : end + 15]):
                continue
            before = text[max(0, start - 25) : start]
            if written and not ZIP_CONTEXT.search(before):
                continue
            yield start, end, "ADDRESS", 0.6
