"""The leak gate: nothing leaves while it names anyone, and nothing leaves unread.

Before a session's files are written to OUT, and again before a hand-off bag is
finished, every file that may leave is read in its real format and scanned, by a
method independent of the analyzer, for:
- each roster person's full name, first name, surname and alias, each organization
  and place (case-insensitive, with possessives and plurals, and one-letter slips
  of longer names);
- digit runs shaped like phone or id numbers (7+ digits, written or spoken).
A hit blocks the session and is reported as (file, offset, kind), never the name.
Name parts that are everyday words (will, grace, may) are checked only where they
are capitalized away from the start of a sentence: elsewhere the gate cannot tell
the name from the word, and the analyzer's context rules are what protects them.

The gate is an allow-list. Formats it reads:
- JSON: every string value (and key); numbers are timings, not text;
- plain text: txt, md, csv, tsv, yaml; subtitles (vtt, srt) without their timing lines;
- XML (xml, qde, qdc, rels): text and attribute values; word-processor paragraphs
  and spreadsheet strings joined across their runs, so a name split over runs is seen;
- HTML: text and attribute values;
- zip containers (qdpx, docx, xlsx, pptx, odt, zip): every member by its own type,
  containers inside containers too; member names are scanned like file names;
- BagIt tag files (bagit.txt, bag-info.txt, manifests): values and payload paths,
  digests, sizes and the bagging date left out;
- de-identified audio (``*.deid.m4a``/``.deid.wav``): its metadata tags.
Any other type, text that is not UTF-8 (or holds NUL bytes), XML that does not
parse, or a damaged or oversized container blocks the file: what cannot be read
cannot be shown to be clean.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

from rapidfuzz.distance import Levenshtein

from pipeline.deid.roster import Roster, name_words, sentence_start
from pipeline.deid.spoken import number_runs

#: Suffixes read as plain UTF-8 text.
PLAIN_SUFFIXES = {".txt", ".md", ".csv", ".tsv", ".yaml", ".yml"}
SUBTITLE_SUFFIXES = {".vtt", ".srt"}
XML_SUFFIXES = {".xml", ".qde", ".qdc", ".rels", ".xhtml", ".svg"}
HTML_SUFFIXES = {".html", ".htm"}
ZIP_SUFFIXES = {".zip", ".qdpx", ".docx", ".xlsx", ".pptx", ".odt", ".ods"}
#: Audio that the pipeline has de-identified itself (only these names: raw audio never leaves).
DEID_AUDIO = re.compile(r"\.deid\.(?:m4a|wav|flac|ogg|mp3)$", re.IGNORECASE)
#: Every suffix the gate can read (kept for callers that list them).
TEXT_SUFFIXES = PLAIN_SUFFIXES | SUBTITLE_SUFFIXES | XML_SUFFIXES | {".json", ".jsonl"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | ZIP_SUFFIXES
#: BagIt tag files (RFC 8493), read by their own rules.
BAGIT_TAGS = re.compile(r"^(?:bagit|bag-info|fetch|(?:tag)?manifest-[a-z0-9]+)\.txt$")

#: Containers nest at most this deep and expand to at most this much.
MAX_DEPTH = 4
MAX_EXPANDED = 1 << 30
MAX_MEMBERS = 20_000

HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")
#: GUIDs (REFI-QDA element ids, source file names) identify elements, not people.
UUID = re.compile(r"\b[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: A possessive or plural ending, dropped before looking a word up.
PLURAL = re.compile(r"(['’]s|s|es)$")


@dataclass(frozen=True)
class Hit:
    file: str
    offset: int
    kind: str

    #: Which roster entry would fix it (a person id, never a name); not part of equality.
    fix: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.file}@{self.offset} {self.kind}" + (f" ({self.fix})" if self.fix else "")


class Unreadable(Exception):
    """A file the gate cannot read in its format (the message names why, never content)."""


def _xs(m: re.Match[str]) -> str:
    return "x" * len(m.group(0))


def scan_names(text: str, name: str, roster: Roster) -> list[Hit]:
    """Protected names only (no number check): for markup values such as XML attributes."""
    return [h for h in scan_text(text, name, roster) if h.kind != "phone/id-shaped number"]


def scan_text(text: str, name: str, roster: Roster) -> list[Hit]:
    hits: list[Hit] = []
    _, words = roster.protected_terms
    # Digests and random ids are not words or numbers (a 32+ digit hex run cannot be a name).
    scrubbed = HEX.sub(_xs, UUID.sub(_xs, text))
    # Machine timestamps (2026-12-02T07:24:49Z: file dates, log times) are not phone numbers.
    scrubbed = _blank(TIMESTAMP, scrubbed)
    low = scrubbed.lower()
    for pattern in roster.phrase_patterns:
        for m in pattern.finditer(low):
            hits.append(Hit(name, m.start(), "protected name", _fix(roster, m.group(0))))
    everyday = name_words()
    for m in WORD.finditer(scrubbed):
        token = m.group(0)
        base = PLURAL.sub("", token.lower())
        t_low = token.lower()
        if t_low in words or base in words:
            if (t_low in everyday or base in everyday) and not (
                token[0].isupper() and not sentence_start(scrubbed, m.start())
            ):
                continue
            hits.append(
                Hit(
                    name,
                    m.start(),
                    "protected name",
                    _fix(roster, base if base in words else t_low),
                )
            )
        elif len(t_low) >= 5 and t_low not in everyday and _one_slip(t_low, words, everyday):
            near = next(w for w in words if len(w) >= 5 and Levenshtein.distance(t_low, w) == 1)
            hits.append(
                Hit(name, m.start(), "near-miss of a protected name", _fix(roster, near, True))
            )
    for start, _end, digits in number_runs(scrubbed):
        if len(digits) >= 7:
            hits.append(Hit(name, start, "phone/id-shaped number"))
    return sorted(set(hits), key=lambda h: h.offset)


def _fix(roster: Roster, term: str, misheard: bool = False) -> str:
    """Which roster entry would let the analyzer catch this form (by id, never the name)."""
    owners = sorted(roster.person_tokens.get(term, ())) or sorted(
        {n.key for n in roster.names if n.type == "ROSTER_PERSON" and n.text.lower() == term}
    )
    who = f"roster entry {owners[0]}" if len(owners) == 1 else f"one of {', '.join(owners)}"
    if owners and misheard:
        return f"if this spelling means {who}, add it to that entry's aliases"
    if owners:
        return f"a name of {who}"
    if any(n.type != "ROSTER_PERSON" and term in n.text.lower() for n in roster.names):
        return "a roster organization or place"
    return ""


def _one_slip(token: str, words: frozenset[str], everyday: frozenset[str]) -> bool:
    """One letter off a longer protected name ("Delgato" for "Delgado")."""
    return any(
        len(w) >= 5 and w not in everyday and Levenshtein.distance(token, w) == 1 for w in words
    )


def strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON value, with its path (numbers are timings, not text)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [
            x
            for k, v in value.items()
            for x in strings(k, f"{path}/{k}:key") + strings(v, f"{path}/{k}")
        ]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in strings(v, f"{path}/{i}")]
    return []


#: Subtitle timing lines and cue numbers: timings, not text (blanked, offsets kept).
CUE_LINE = re.compile(r"^(?:\d+|[\d:.,]+ --> [\d:.,]+.*)$", re.MULTILINE)
#: bag-info values that are sizes, counts and the bagging date, not text.
BAG_NUMBERS = re.compile(
    r"^(?:Payload-Oxum|Bag-Size|Bagging-Date|Bag-Count|Bag-Group-Identifier)\s*:.*$",
    re.MULTILINE | re.IGNORECASE,
)
BAG_IDS = re.compile(
    r"^(?:Study-Identifier|External-Identifier|Internal-Sender-Identifier)\s*:.*$",
    re.MULTILINE | re.IGNORECASE,
)
#: A manifest line: ``<digest> <path>``; only the path is text.
MANIFEST_LINE = re.compile(r"^[0-9a-fA-F]+[ \t]+", re.MULTILINE)
TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def _blank(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _decode(data: bytes) -> str:
    """UTF-8 text, strictly: anything else could hide a name from the scan."""
    if b"\x00" in data:
        raise Unreadable("holds NUL bytes (UTF-16 or binary), cannot be checked")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("is not UTF-8 text, cannot be checked") from None


def _scan_json(data: bytes, rel: str, roster: Roster) -> list[Hit]:
    text = _decode(data)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return scan_text(text, rel, roster)
    hits = []
    for where, s in strings(value):
        hits += [Hit(f"{rel}:{where}", h.offset, h.kind) for h in scan_text(s, rel, roster)]
    return hits


#: Between separate pieces of text (XML nodes, cells, attributes, tags): a break that
#: keeps neighbouring numbers ("0.87", "1.2", "3.4" in three cells) from reading as one.
PIECES = "\n|\n"

#: XML elements whose text runs form one piece of text: word-processor paragraphs
#: (w:p, a:p), spreadsheet strings (si, is), ODF paragraphs and headings (text:p, text:h).
JOINED = {"p", "si", "is", "h"}
#: Elements inside a joined paragraph that stand for white space.
SPACERS = {"tab", "br", "cr", "s", "line-break"}


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def xml_texts(root: ET.Element, attributes: list[str] | None = None) -> list[str]:
    """Text pieces of an XML tree: text runs, joined paragraphs; attribute values go to
    ``attributes`` (or with the text, when not given)."""
    out: list[str] = []
    attrs = out if attributes is None else attributes

    def joined(el: ET.Element) -> str:
        parts = [el.text or ""]
        for child in el:
            attrs.extend(child.attrib.values())
            parts.append(" " if _local(child.tag) in SPACERS else "")
            parts.append(joined(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def walk(el: ET.Element) -> None:
        attrs.extend(el.attrib.values())
        if _local(el.tag) in JOINED:
            out.append(joined(el))
            return
        if el.text and el.text.strip():
            out.append(el.text)
        for child in el:
            walk(child)
            if child.tail and child.tail.strip():
                out.append(child.tail)

    walk(root)
    return out


def _scan_xml(data: bytes, rel: str, roster: Roster) -> list[Hit]:
    if b"<!ENTITY" in data:
        raise Unreadable("declares XML entities, cannot be checked")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise Unreadable("is not well-formed XML, cannot be checked") from None
    attributes: list[str] = []
    try:
        texts = xml_texts(root, attributes)
    except RecursionError:
        raise Unreadable("nests XML too deep, cannot be checked") from None
    hits = scan_text(PIECES.join(texts), rel, roster)
    # Attribute values are searched for names; their numbers are markup (sizes, revision
    # ids, colours), not phone numbers.
    return hits + scan_names(PIECES.join(attributes), f"{rel}:attributes", roster)


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.extend(v for _, v in attrs if v)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.parts.append(data)


def _scan_html(data: bytes, rel: str, roster: Roster) -> list[Hit]:
    parser = _HtmlText()
    parser.feed(_decode(data))
    parser.close()
    hits = scan_text(PIECES.join(parser.parts), rel, roster)
    # A name split by inline markup ("Ro<b>sa</b>") is a name again when the pieces meet.
    joined = scan_names("".join(parser.parts), f"{rel}:joined", roster)
    return hits + (joined if not hits else [])


def _scan_bag_tag(name: str, data: bytes, rel: str, roster: Roster) -> list[Hit]:
    text = _decode(data)
    if name.startswith(("manifest-", "tagmanifest-")):
        text = _blank(MANIFEST_LINE, text)
    elif name == "bag-info.txt":
        text = _blank(DATE, _blank(BAG_NUMBERS, text))
        # Study and bag ids ("IRB-2024-1173") are checked for names, not as phone numbers.
        text = BAG_IDS.sub(lambda m: re.sub(r"\d", "x", m.group(0)), text)
    elif name == "bagit.txt":
        text = _blank(re.compile(r"\d+\.\d+"), text)
    return scan_text(text, rel, roster)


def _scan_zip(data: bytes, rel: str, roster: Roster, depth: int) -> list[Hit]:
    if depth >= MAX_DEPTH:
        raise Unreadable("nests containers too deep, cannot be checked")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("is not a readable zip container, cannot be checked") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_EXPANDED:
        raise Unreadable("expands too far, cannot be checked")
    hits: list[Hit] = []
    for m in members:
        member, found = name_hits(m.filename, roster, "in a member name")
        where = f"{rel}!{member}"
        hits += [Hit(where, h.offset, h.kind) for h in found]
        if m.flag_bits & 0x1:
            hits.append(Hit(where, 0, "encrypted member, cannot be checked"))
            continue
        try:
            content = archive.read(m)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            hits.append(Hit(where, 0, "damaged member, cannot be checked"))
            continue
        hits += scan_bytes(PurePosixPath(m.filename).name, content, where, roster, depth + 1)
    return hits


#: Container tags written by the muxer, not by a person (version numbers, brands).
TECHNICAL_TAGS = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "encoder",
    "handler_name",
    "vendor_id",
    "language",
    "creation_time",
}


def _scan_audio(path: Path, rel: str, roster: Roster) -> list[Hit]:
    """De-identified audio: the words were covered when it was made; its tags are text."""
    import av

    tags: list[str] = []
    try:
        with av.open(str(path)) as container:
            for meta in [container.metadata, *(s.metadata for s in container.streams)]:
                tags += [f"{k} {v}" for k, v in meta.items() if k.lower() not in TECHNICAL_TAGS]
    except (av.FFmpegError, OSError):
        raise Unreadable("is not readable audio, cannot be checked") from None
    return scan_text(PIECES.join(tags), rel, roster)


def file_kind(name: str) -> str | None:
    """How the gate reads a file of this name, or None when the type may not leave."""
    low = name.lower()
    suffix = _suffix(low)
    if BAGIT_TAGS.match(low):
        return "bagit"
    if DEID_AUDIO.search(low):
        return "audio"
    if suffix == ".json":
        return "json"
    if suffix == ".jsonl":
        return "jsonl"
    if suffix in SUBTITLE_SUFFIXES:
        return "subtitles"
    if suffix in PLAIN_SUFFIXES:
        return "text"
    if suffix in XML_SUFFIXES:
        return "xml"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in ZIP_SUFFIXES:
        return "zip"
    return None


def _suffix(name: str) -> str:
    """The last dot-part of a file name (``.rels`` for ``_rels/.rels``), or ``""``."""
    base = PurePosixPath(name).name
    return "." + base.rsplit(".", 1)[-1] if "." in base else ""


def _not_allowed(name: str, rel: str) -> Hit:
    suffix = _suffix(name.lower()) or "no suffix"
    return Hit(rel, 0, f"file type not allowed to leave ({suffix})")


def scan_bytes(name: str, data: bytes, rel: str, roster: Roster, depth: int = 0) -> list[Hit]:
    """Hits in one file's content (``name`` picks the format), an unknown type included."""
    kind = file_kind(name)
    try:
        if kind == "json":
            return _scan_json(data, rel, roster)
        if kind == "jsonl":
            lines = _decode(data).splitlines()
            return [
                Hit(f"{rel}:{i + 1}{h.file[len(rel) :]}", h.offset, h.kind)
                for i, line in enumerate(lines)
                for h in _scan_json(line.encode(), rel, roster)
            ]
        if kind == "subtitles":
            return scan_text(_blank(CUE_LINE, _decode(data)), rel, roster)
        if kind == "text":
            return scan_text(_decode(data), rel, roster)
        if kind == "xml":
            return _scan_xml(data, rel, roster)
        if kind == "html":
            return _scan_html(data, rel, roster)
        if kind == "zip":
            return _scan_zip(data, rel, roster, depth)
        if kind == "bagit":
            return _scan_bag_tag(name.lower(), data, rel, roster)
    except Unreadable as exc:
        return [Hit(rel, 0, str(exc))]
    # Audio is only read from a file (by name); inside a container it is not allowed.
    return [_not_allowed(name, rel)]


def name_hits(
    rel: str, roster: Roster, what: str = "in the file name", keep: int = 0
) -> tuple[str, list[Hit]]:
    """(``rel`` as it may be reported, hits in it): a path part that names someone is
    withheld from every report about that file (but the first ``keep`` parts, the
    session label, which every message names anyway)."""
    found = scan_text(rel, rel, roster)
    if not found:
        return rel, []
    parts, start, shown = rel.split("/"), 0, []
    for i, part in enumerate(parts):
        end = start + len(part)
        named = i >= keep and any(start <= h.offset < end for h in found)
        shown.append(f"[name withheld]{_suffix(part)}" if named else part)
        start = end + 1
    safe = "/".join(shown)
    return safe, [Hit(safe, h.offset, f"{h.kind} {what}") for h in found]


def scan_file(path: Path, rel: str, roster: Roster) -> list[Hit]:
    """Hits in one file's content, read in its real format."""
    if file_kind(path.name) == "audio":
        try:
            return _scan_audio(path, rel, roster)
        except Unreadable as exc:
            return [Hit(rel, 0, str(exc))]
    if path.is_symlink() or not path.is_file():
        return [Hit(rel, 0, "not a plain file, cannot be checked")]
    return scan_bytes(path.name, path.read_bytes(), rel, roster)


def scan_files(files: Iterable[Path], roster: Roster, *, label: str = "") -> list[Hit]:
    """Hits in the names (as they will be written: ``label/name``) and contents of ``files``.

    A file of a type the gate cannot read is a hit of its own: it may not leave.
    """
    hits: list[Hit] = []
    for path in files:
        rel, found = name_hits(
            f"{label}/{path.name}" if label else path.name, roster, keep=1 if label else 0
        )
        hits += found + scan_file(path, rel, roster)
    return hits


def scan_tree(root: Path, roster: Roster, *, label: str = "") -> list[Hit]:
    """Hits in every file under ``root`` (a bag, an output folder), paths included."""
    hits: list[Hit] = []
    for path in sorted(root.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        rel_path = path.relative_to(root).as_posix()
        rel, found = name_hits(
            f"{label}/{rel_path}" if label else rel_path, roster, keep=1 if label else 0
        )
        hits += found + scan_file(path, rel, roster)
    return hits
