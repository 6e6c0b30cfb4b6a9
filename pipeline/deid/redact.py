"""Replacement through presidio-anonymizer: a ``pseudonym`` Operator on AnonymizerEngine.

The Pseudonymizer chooses each finding's tag in text order (so ``PERSON-1`` comes
before ``PERSON-2``, and each type tag's values are kept in the order they occur);
the anonymizer puts the tags in place, and its OperatorResult items say which finding
each replaced span came from, so the caller can map it back to the words it covers
(their timings stay aligned).
"""

from __future__ import annotations

from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import InvalidParamError, OperatorConfig, RecognizerResult
from presidio_anonymizer.operators import Operator, OperatorType

from pipeline import registry

OPERATOR = "pseudonym"


class Pseudonym(Operator):
    """Replaces a finding with its pseudonym tag (``[MEMBER-3]``, ``[PLACE-2]``, ``[DATE]``)."""

    def operate(self, text: str | None = None, params: dict[str, Any] | None = None) -> str:
        return str((params or {})["tag"])

    def validate(self, params: dict[str, Any] | None = None) -> None:
        if not isinstance((params or {}).get("tag"), str):
            raise InvalidParamError("the pseudonym operator needs the finding's tag")

    def operator_name(self) -> str:
        return OPERATOR

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


def engine() -> AnonymizerEngine:
    """The anonymizer with the pseudonym operator, once per process."""

    def make() -> AnonymizerEngine:
        e = AnonymizerEngine()
        e.add_anonymizer(Pseudonym)
        return e

    return registry.cached("anonymizer", make)


def replace(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, dict[int, str]]:
    """``text`` with each non-overlapping (start, end, tag) replaced.

    Returns the new text and, per span index, the text the anonymizer put there.
    """
    if not spans:
        return text, {}
    # One entity type per span: each gets its own tag, and no two are merged.
    results = [RecognizerResult(f"F{i}", a, b, 1.0) for i, (a, b, _tag) in enumerate(spans)]
    operators = {
        f"F{i}": OperatorConfig(OPERATOR, {"tag": tag}) for i, (_, _, tag) in enumerate(spans)
    }
    out = engine().anonymize(text, results, operators, merge_entities_with_spaces=False)
    return out.text, {int(item.entity_type[1:]): item.text for item in out.items}
