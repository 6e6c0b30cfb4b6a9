"""The codebook format: the study codebook loads; mistakes are one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.coding.codebook import load_codebook
from pipeline.coding.lexicon import load_lexicon
from pipeline.errors import PipelineError

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"


def test_study_codebook_loads() -> None:
    cb = load_codebook(STUDY)
    assert cb.id == "social-interaction-policy"
    assert [g.id for g in cb.groups] == ["DIM", "CH", "BEN"]
    assert len(cb.codes) == 16
    money = cb.code("CH.money")
    assert money.label == "Financial constraints" and "SSI" in money.example
    assert cb.version.startswith("social-interaction-policy@1+")


def test_copy_matches_the_shared_study_codebook() -> None:
    shared = ROOT.parent / "shared" / "codebook" / "social-interaction-policy.yaml"
    if not shared.is_file():
        pytest.skip("../shared not here")
    assert load_codebook(shared) == load_codebook(STUDY)


def test_version_changes_with_a_definition(tmp_path: Path) -> None:
    text = STUDY.read_text(encoding="utf-8")
    changed = tmp_path / "cb.yaml"
    changed.write_text(text.replace("Costs of outings", "Cost of outings"), encoding="utf-8")
    assert load_codebook(changed).version != load_codebook(STUDY).version


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("groups: [", "not valid YAML at line"),
        ("- just a list", "not a codebook"),
        ("codebook: {id: x}\ngroups: []", "invalid codebook at groups"),
        (
            "codebook: {id: x}\ngroups: [{id: G, label: g, codes: [{id: c, label: c}]}]",
            "groups.0.codes.0.definition: Field required",
        ),
        (
            "codebook: {id: x}\ngroups: [{id: G, label: g, codes: [{id: G, label: c, definition: d}]}]",
            "id 'G' is used twice",
        ),
        (
            "codebook: {id: x}\ngroups: [{id: G, label: g, codes: [{id: 9c, label: c, definition: d}]}]",
            "must start with a letter",
        ),
        (
            "codebook: {id: x}\ngroups: [{id: G, label: g, codes: [{id: c, label: c, definition: d, color: red}]}]",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineError) as err:
        load_codebook(path)
    msg = str(err.value)
    assert str(path) in msg and fragment in msg and "\n" not in msg


def test_missing_file() -> None:
    with pytest.raises(PipelineError, match="codebook not found"):
        load_codebook(ROOT / "nope.yaml")


def test_lexicon_sidecar(tmp_path: Path) -> None:
    cb = load_codebook(STUDY)
    lex = load_lexicon(cb, STUDY)
    assert "lexicon.yaml" in lex.source
    assert any(p.words == ("ask", "*", "out") for p in lex.cues["CH.romance"])
    assert lex.against["CH.money"]
    # Without a sidecar the codebook's own words still give cues.
    alone = tmp_path / "cb.yaml"
    alone.write_text(STUDY.read_text(encoding="utf-8"), encoding="utf-8")
    plain = load_lexicon(cb, alone)
    assert plain.source == "codebook text" and any(
        p.words == ("bowling",) for p in plain.cues["DIM.activity"]
    )
    (tmp_path / "cb.lexicon.yaml").write_text("codes: {NOPE.x: {cues: [a]}}\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"cb.lexicon.yaml: code 'NOPE.x' is not in codebook"):
        load_lexicon(cb, alone)
