"""The pre-tagging stage and ``qscribe pretag``: outputs, refusals, nothing half-written."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from pipeline.coding.codebook import load_codebook
from pipeline.coding.lexicon import load_lexicon
from pipeline.coding.pretag import load_codings, run_pretag
from pipeline.coding.refi import turn_texts
from pipeline.coding.tagger import Tagger, build_tagger
from pipeline.errors import PipelineError
from pipeline.transcript import Segment, Source, Transcript

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"


def make_transcript(
    folder: Path, sid: str = "fg-9", deidentified: bool = True, extra: str = ""
) -> Path:
    lines = [
        ("SPK0", "facilitator", "How do the dinners go?"),
        ("SPK1", "member", "I love them, but on SSI I can't afford dinner every Friday." + extra),
        ("SPK2", "member", "When staff come out with us I feel like a regular person, not a case."),
    ]
    segs = [Segment(i, i * 4.0, i * 4.0 + 3.5, x, [], s, r) for i, (s, r, x) in enumerate(lines)]
    speakers = [
        {"id": "SPK0", "role": "facilitator", "label": "FACILITATOR"},
        {"id": "SPK1", "role": "member", "label": "MEMBER-1"},
        {"id": "SPK2", "role": "member", "label": "MEMBER-2"},
    ]
    t = Transcript(
        sid, Source(sid, "0" * 64, 12.0), "en", segs, speakers, deidentified=deidentified
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "transcript.json"
    path.write_text(t.to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    cb = load_codebook(STUDY)
    return build_tagger(cb, load_lexicon(cb, STUDY))


@pytest.mark.slow
def test_writes_every_output(tmp_path: Path, tagger: Tagger) -> None:
    src = make_transcript(tmp_path / "in" / "fg-9")
    (src.parent / "audio.deid.m4a").write_bytes(b"\x00m4a")
    out = tmp_path / "out"
    result = run_pretag(src, out, codebook=STUDY, tagger=tagger)
    folder = out / "fg-9"
    assert result.sessions[0].folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "fg-9.qdpx",
        "suggestions.csv",
        "suggestions.json",
        "suggestions.xlsx",
    ]
    data = json.loads((folder / "suggestions.json").read_text(encoding="utf-8"))
    assert data and {"session_id", "segment_id", "code", "score", "evidence", "method"} <= set(
        data[0]
    )
    codes = {(d["segment_id"], d["code"]) for d in data}
    assert (1, "CH.money") in codes and (2, "BEN.self_stigma") in codes
    text = {t.segment_id: t.text for t in turn_texts(Transcript.load(src))}
    for d in data:
        ev = d["evidence"]
        assert text[d["segment_id"]][ev["start"] : ev["end"]] == ev["quote"]
    rows = list(csv.DictReader((folder / "suggestions.csv").open(encoding="utf-8")))
    assert len(rows) == len(data) and rows[0]["accept"] == ""
    from openpyxl import load_workbook

    ws = load_workbook(folder / "suggestions.xlsx").active
    assert ws is not None and ws.max_row == len(data) + 1
    with zipfile.ZipFile(folder / "fg-9.qdpx") as z:
        qde = z.read("project.qde").decode("utf-8")
        assert "<AudioSource" in qde and "relative://audio.deid.m4a" in qde
    assert oct(folder.stat().st_mode & 0o777) == "0o750"
    assert oct((folder / "suggestions.json").stat().st_mode & 0o777) == "0o640"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_learns_from_codings_and_stores_the_model(tmp_path: Path, tagger: Tagger) -> None:
    src = make_transcript(tmp_path / "in")
    coded = tmp_path / "codings.jsonl"
    dev = ROOT / "eval" / "tags" / "dev.jsonl"
    if not dev.is_file():
        pytest.skip("eval/tags/dev.jsonl not here")
    coded.write_text(
        "".join(dev.read_text(encoding="utf-8").splitlines(True)[:120]), encoding="utf-8"
    )
    models = tmp_path / "models"
    result = run_pretag(
        src, tmp_path / "out", codebook=STUDY, coded=coded, models_dir=models, tagger=tagger
    )
    assert result.method == "learned" and result.learned_path is not None
    assert result.learned_path.parent == models / "coding"
    prov = json.loads(result.learned_path.read_text(encoding="utf-8"))["provenance"]
    assert (
        prov["codings_file"] == "codings.jsonl"
        and prov["turns"] == 120
        and len(prov["codings_sha256"]) == 64
    )
    # The same codings reuse the stored model.
    again = run_pretag(
        src, tmp_path / "out2", codebook=STUDY, coded=coded, models_dir=models, tagger=tagger
    )
    assert again.learned_path == result.learned_path


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json\n", "line 1 is not valid JSON"),
        ('{"session_id": "a", "segment_id": 1, "text": "x"}\n', "line 1 lacks codes"),
        (
            '{"session_id": "a", "segment_id": 1, "text": "x", "codes": ["NOPE"]}\n',
            "code 'NOPE' is not in codebook",
        ),
        ("", "no coded turns"),
    ],
)
def test_malformed_codings(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "codings.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError) as err:
        load_codings(path, load_codebook(STUDY))
    assert str(path) in str(err.value) and fragment in str(err.value)


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not any(out.rglob("*"))


def test_refuses_identified_transcript(tmp_path: Path) -> None:
    src = make_transcript(tmp_path / "in", deidentified=False)
    with pytest.raises(PipelineError, match="not marked de-identified"):
        run_pretag(src, tmp_path / "out", codebook=STUDY)
    assert _nothing_written(tmp_path / "out")


def test_refuses_what_the_leak_gate_blocks(tmp_path: Path) -> None:
    from pipeline.deid.roster import Roster

    src = make_transcript(tmp_path / "in", extra=" Call Maria at 555 867 5309.")
    roster = Roster.build([("M01", "Maria Lopez", [])], [], [])
    with pytest.raises(PipelineError, match="leak gate blocks this transcript") as err:
        run_pretag(src, tmp_path / "out", codebook=STUDY, roster=roster)
    assert "Maria" not in str(err.value)
    assert _nothing_written(tmp_path / "out")


def test_malformed_codebook_writes_nothing(tmp_path: Path) -> None:
    src = make_transcript(tmp_path / "in")
    bad = tmp_path / "cb.yaml"
    bad.write_text("codebook: {id: x}\ngroups: []\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"cb.yaml: invalid codebook"):
        run_pretag(src, tmp_path / "out", codebook=bad)
    bad_qdc = tmp_path / "cb.qdc"
    bad_qdc.write_text("<CodeBook", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"cb.qdc: not well-formed XML"):
        run_pretag(src, tmp_path / "out", codebook=bad_qdc)
    bad_qdpx = tmp_path / "team.qdpx"
    bad_qdpx.write_bytes(b"PK broken")
    with pytest.raises(PipelineError, match=r"team.qdpx: not a REFI-QDA project"):
        run_pretag(src, tmp_path / "out", codebook=STUDY, coded=bad_qdpx)
    assert _nothing_written(tmp_path / "out")


def test_cli_pretag_reports_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    src = make_transcript(tmp_path / "in", deidentified=False)
    assert main(["pretag", str(src), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "not marked de-identified" in err and "\n" not in err
