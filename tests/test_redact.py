"""Replacement through presidio-anonymizer: the pseudonym operator and span mapping."""

import pytest
from presidio_anonymizer.entities import InvalidParamError

from pipeline.deid import redact


def test_pseudonym_operator_is_registered_and_replaces_each_span():
    text = "I went with Rosa to the Riverside Diner on Friday."
    spans = [(12, 16, "[MEMBER-3]"), (24, 39, "[PLACE-1]")]
    out, tags = redact.replace(text, spans)
    assert out == "I went with [MEMBER-3] to the [PLACE-1] on Friday."
    assert tags == {0: "[MEMBER-3]", 1: "[PLACE-1]"}
    assert redact.OPERATOR in redact.engine().get_anonymizers()


def test_adjacent_spans_of_one_type_are_not_merged():
    out, tags = redact.replace("Rosa Tom", [(0, 4, "[MEMBER-1]"), (5, 8, "[MEMBER-2]")])
    assert out == "[MEMBER-1] [MEMBER-2]" and len(tags) == 2


def test_nothing_to_replace_and_a_missing_tag():
    assert redact.replace("nothing here", []) == ("nothing here", {})
    with pytest.raises(InvalidParamError):
        redact.Pseudonym().validate({})
