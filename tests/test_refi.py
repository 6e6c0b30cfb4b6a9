"""REFI-QDA: .qdc and .qdpx validate against the published schemas and round-trip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from pipeline.coding.codebook import load_codebook
from pipeline.coding.refi import (
    PRETAGGER,
    SourceInput,
    layout,
    qdc_bytes,
    read_qdc,
    read_qdpx,
    turn_texts,
    write_qdc,
    write_qdpx,
)
from pipeline.coding.tagger import Evidence, Suggestion
from pipeline.errors import PipelineError
from pipeline.transcript import Segment, Source, Transcript

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "configs" / "codebooks" / "social-interaction-policy.yaml"
SCHEMAS = ROOT.parent / "shared" / "refi-qda"


def transcript(sid: str = "fg-test") -> Transcript:
    lines = [
        ("SPK0", "facilitator", "So, who goes out with staff?"),
        ("SPK1", "member", "Every Friday we go for pizza — café prices, ñot cheap."),
        ("SPK1", "member", "On SSI I can't always afford it."),
        ("SPK2", "member", "I feel like a regular person out there."),
        ("SPK0", "facilitator", "Thank you."),
    ]
    segs = [
        Segment(i, i * 5.0, i * 5.0 + 4.0, text, [], spk, role)
        for i, (spk, role, text) in enumerate(lines)
    ]
    speakers = [
        {"id": "SPK0", "role": "facilitator", "label": "FACILITATOR"},
        {"id": "SPK1", "role": "member", "label": "MEMBER-1"},
        {"id": "SPK2", "role": "member", "label": "MEMBER-2"},
    ]
    return Transcript(sid, Source(sid, "0" * 64, 25.0), "en", segs, speakers, deidentified=True)


def suggestions(t: Transcript) -> list[Suggestion]:
    turns = turn_texts(t)
    money = turns[1]
    q = "afford"
    i = money.text.index(q)
    return [
        Suggestion(
            t.session_id,
            money.segment_id,
            "CH.money",
            0.91,
            Evidence(i, i + len(q), q),
            "codebook",
            "m",
            "v",
        ),
        Suggestion(
            t.session_id,
            money.segment_id,
            "DIM.frequency",
            0.7,
            Evidence(0, 12, money.text[:12]),
            "codebook",
            "m",
            "v",
        ),
    ]


@pytest.fixture(scope="module")
def schemas():
    xmlschema = pytest.importorskip("xmlschema")
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/refi-qda not here")
    return (
        xmlschema.XMLSchema(str(SCHEMAS / "Project-mrt2019.xsd")),
        xmlschema.XMLSchema(str(SCHEMAS / "Codebook.xsd")),
    )


def test_layout_offsets_are_code_points() -> None:
    t = transcript()
    text, spans = layout(t)
    assert [s.segment_id for s in spans] == [0, 1, 3, 4]  # segments 1 and 2 are one turn
    for s in spans:
        assert text[s.start : s.end] == s.text
        assert text[s.start - len(s.label) - 2 : s.start] == f"{s.label}: "
    assert "ñot" in spans[1].text


def test_qdc_validates_and_round_trips(tmp_path: Path, schemas) -> None:
    cb = load_codebook(STUDY)
    path = write_qdc(cb, tmp_path / "study.qdc")
    schemas[1].validate(str(path))
    back = read_qdc(path)
    assert back.groups == cb.groups and back.version == cb.version
    assert qdc_bytes(cb) == path.read_bytes()  # deterministic
    # load_codebook reads a .qdc too.
    assert load_codebook(path).codes == cb.codes


def test_qdc_from_another_program(tmp_path: Path) -> None:
    """A plain codebook (no qscribe ids): names become ids, descriptions definitions."""
    xml = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo 14"><Codes>
 <Code guid="6c2a7c5e-6c1f-4f1e-9d7e-111111111111" name="Barriers" isCodable="false">
  <Code guid="6c2a7c5e-6c1f-4f1e-9d7e-222222222222" name="Cost of outings" isCodable="true">
   <Description>Money worries about going out.</Description></Code>
 </Code>
 <Code guid="6c2a7c5e-6c1f-4f1e-9d7e-333333333333" name="Fun" isCodable="true"/>
</Codes></CodeBook>"""
    path = tmp_path / "nvivo.qdc"
    path.write_text(xml, encoding="utf-8")
    cb = read_qdc(path)
    ids = [c.id for c in cb.codes]
    assert ids == ["Cost_of_outings", "Fun"]
    assert cb.code("Cost_of_outings").definition == "Money worries about going out."


def test_qdpx_validates_round_trips_and_is_deterministic(tmp_path: Path, schemas) -> None:
    cb = load_codebook(STUDY)
    t = transcript()
    audio = tmp_path / "audio.deid.m4a"
    audio.write_bytes(b"\x00fake m4a")
    a = write_qdpx(tmp_path / "a.qdpx", [SourceInput(t, audio=audio)], cb, suggestions(t))
    b = write_qdpx(tmp_path / "b.qdpx", [SourceInput(t, audio=audio)], cb, suggestions(t), name="a")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        names = z.namelist()
        qde = z.read("project.qde").decode("utf-8")
        txt_name = next(n for n in names if n.endswith(".txt"))
        raw = z.read(txt_name)
    schemas[0].validate(qde)
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.decode("utf-8") == layout(t)[0]
    assert not any(n.endswith(".m4a") for n in names)  # the audio stays next to the project
    assert 'path="relative://audio.deid.m4a"' in qde
    embedded = write_qdpx(
        tmp_path / "e.qdpx", [SourceInput(t, audio=audio, embed_audio=True)], cb, []
    )
    with zipfile.ZipFile(embedded) as z:
        schemas[0].validate(z.read("project.qde").decode("utf-8"))
        assert any(n.startswith("sources/") and n.endswith(".deid.m4a") for n in z.namelist())
    for needle in (
        PRETAGGER,
        'name="role"',
        'name="session kind"',
        "member_focus_group",
        "<AudioSource",
        "<SyncPoint",
        "Not when: Clubhouse budget",
        "Code id: CH.money",
        "<SelectionRef",
    ):
        assert needle in qde, needle
    # The pre-tagger's own codings are not team codings ...
    project = read_qdpx(a)
    assert project.codebook.codes == cb.codes
    assert not any(turn.codes for turn in project.turns)
    # ... but can be read back.
    mine = read_qdpx(a, include_pretagger=True)
    coded = {turn.segment_id: turn.codes for turn in mine.turns if turn.codes}
    assert coded == {1: ["CH.money", "DIM.frequency"]}


def _rezip(src: Path, dst: Path, rename: dict[str, str], qde_edit=None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            name = info.filename
            for old, new in rename.items():
                name = name.replace(old, new)
            if name.lower().endswith(".qde") and qde_edit:
                data = qde_edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(name, data)
    return dst


def test_team_codings_any_qde_name_and_sources_case(tmp_path: Path) -> None:
    """A QDA program's export: another .qde name, 'Sources/', codings by a coder."""
    cb = load_codebook(STUDY)
    t = transcript()
    src = write_qdpx(tmp_path / "p.qdpx", [SourceInput(t)], cb, suggestions(t))
    coder = "11111111-2222-3333-4444-555555555555"

    def fix(qde: str) -> str:
        # A coder's project: the coder is a user, and the first coding is theirs.
        qde = qde.replace("<Users>", f'<Users><User guid="{coder}" name="Ana (coder)"/>', 1)
        head, sep, tail = qde.partition("<Coding ")
        pre, _, rest = tail.partition('creatingUser="')
        return head + sep + pre + f'creatingUser="{coder}"' + rest[rest.index('"') + 1 :]

    dst = _rezip(
        src,
        tmp_path / "exported.qdpx",
        {"project.qde": "My Study.QDE", "sources/": "Sources/"},
        fix,
    )
    project = read_qdpx(dst)
    coded = [turn for turn in project.turns if turn.codes]
    assert len(coded) == 1 and coded[0].codes == ["CH.money"] and coded[0].segment_id == 1
    assert "afford" in coded[0].text


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_bytes(b"not a zip"), "must be a zip archive"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("x.txt", "x"), "exactly one .qde"),
        (
            lambda p: zipfile.ZipFile(p, "w").writestr("project.qde", "<Project"),
            "not well-formed XML",
        ),
        (
            lambda p: zipfile.ZipFile(p, "w").writestr(
                "project.qde", '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'
            ),
            "has no codebook",
        ),
    ],
)
def test_malformed_qdpx_is_one_line(tmp_path: Path, make, fragment: str) -> None:
    path = tmp_path / "bad.qdpx"
    make(path)
    with pytest.raises(PipelineError) as err:
        read_qdpx(path)
    assert str(path) in str(err.value) and fragment in str(err.value) and "\n" not in str(err.value)


def test_malformed_qdc(tmp_path: Path) -> None:
    path = tmp_path / "bad.qdc"
    path.write_text("<CodeBook><Codes>", encoding="utf-8")
    with pytest.raises(PipelineError, match="not well-formed XML"):
        read_qdc(path)
    path.write_bytes(io.BytesIO(b"<Other/>").getvalue())
    with pytest.raises(PipelineError, match="not a REFI-QDA codebook"):
        read_qdc(path)
