"""The tagger with the real model (MiniLM from its pinned packages, spaCy en_core_web_sm)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.coding.codebook import load_codebook
from pipeline.coding.lexicon import load_lexicon
from pipeline.coding.tagger import (
    METHOD_CODEBOOK,
    METHOD_LEARNED,
    LearnedModel,
    Tagger,
    TurnText,
    build_tagger,
    kappa,
    train,
)
from pipeline.errors import PipelineError

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"
DEV = ROOT / "eval" / "tags" / "dev.jsonl"


def test_kappa() -> None:
    y = np.array([1, 1, 0, 0, 0, 0])
    assert kappa(y, y) == 1.0
    assert kappa(y, 1 - y) < 0
    assert abs(kappa(y, np.array([1, 0, 0, 0, 0, 0])) - 0.571) < 0.01
    assert kappa(np.zeros(4), np.zeros(4)) == 1.0


def test_unknown_embedder() -> None:
    from pipeline.coding.embed import get_embedder

    with pytest.raises(
        PipelineError,
        match=r"Unknown coding\.embedder 'bge'\. Available: minilm-onnx-int8, minilm-torch",
    ):
        get_embedder("bge")


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    cb = load_codebook(STUDY)
    return build_tagger(cb, load_lexicon(cb, STUDY))


TURNS = [
    TurnText(
        "s1",
        0,
        "Okay, thanks everyone. Let's start with how often you go out.",
        "FACILITATOR",
        "facilitator",
    ),
    TurnText(
        "s1",
        1,
        "Honestly the worst part is the bill. I'm on SSI, I can't do twenty dollars every week.",
        "MEMBER-1",
        "member",
    ),
    TurnText("s1", 2, "Yeah.", "MEMBER-2", "member"),
    TurnText(
        "s1",
        3,
        "One of the guys kept asking her out after dinner and she had to tell him no.",
        "MEMBER-3",
        "member",
    ),
]


@pytest.mark.slow
def test_backends_agree() -> None:
    from pipeline.coding.embed import get_embedder

    texts = [t.text for t in TURNS]
    a = get_embedder("minilm-onnx-int8").encode(texts)
    b = get_embedder("minilm-torch").encode(texts)
    assert a.shape == b.shape == (4, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-4)
    assert (a * b).sum(1).min() > 0.99  # int8 ONNX and fp32 torch: the same model


@pytest.mark.slow
def test_codebook_suggestions(tagger: Tagger) -> None:
    out = tagger.suggest(TURNS)
    by_turn: dict[int | str, list[str]] = {}
    for s in out:
        by_turn.setdefault(s.segment_id, []).append(s.code)
        text = TURNS[int(s.segment_id)].text
        assert text[s.evidence.start : s.evidence.end] == s.evidence.quote and s.evidence.quote
        assert 0.0 <= s.score <= 1.0
        assert s.method == METHOD_CODEBOOK and "MiniLM" in s.model
        assert s.codebook_version == tagger.space.codebook.version
    assert "CH.money" in by_turn.get(1, [])
    assert "CH.romance" in by_turn.get(3, [])
    assert 0 not in by_turn  # the facilitator's question
    # A backchannel after a money story may carry its code (coders do that), never more surely.
    scores = {(x.segment_id, x.code): x.score for x in out}
    assert scores.get((2, "CH.money"), 0.0) < scores[(1, "CH.money")]


@pytest.mark.slow
def test_learns_and_round_trips(tagger: Tagger, tmp_path: Path) -> None:
    if not DEV.is_file():
        pytest.skip("eval/tags/dev.jsonl not here")
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines()[:120]]
    turns = [
        TurnText(r["session_id"], r["segment_id"], r["text"], r["speaker"], r["role"], r["codes"])
        for r in rows
    ]
    model = train(tagger.space, turns, tagger.prior, source="dev.jsonl")
    assert model.codes and model.provenance["turns"] == 120
    # Codes used too rarely keep the codebook prior (rare codes still get suggestions).
    assert set(model.codes) | set(model.provenance["codes_on_prior"]) == {
        c.id for c in tagger.space.codebook.codes
    }
    path = model.save(tmp_path / "m.json")
    again = LearnedModel.load(path)
    learned = Tagger(tagger.space, again.prior, again)
    out = learned.suggest(TURNS)
    direct = Tagger(tagger.space, model.prior, model).suggest(TURNS)
    assert [(s.segment_id, s.code, s.score) for s in out] == [
        (s.segment_id, s.code, s.score) for s in direct
    ]
    assert any(s.method == METHOD_LEARNED for s in out)
    assert "CH.money" in [s.code for s in out if s.segment_id == 1]


def test_learned_model_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(PipelineError, match="not a learned coding model"):
        LearnedModel.load(bad)
