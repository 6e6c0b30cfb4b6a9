"""REFI-QDA exchange: ``.qdc`` codebooks and ``.qdpx`` projects (QDA-XML 1.0).

Writing a project (:func:`write_qdpx`): one TextSource per de-identified transcript (its
text is ``sources/<guid>.txt``, UTF-8 without BOM, one paragraph ``LABEL: text`` per
turn; offsets are code points), a Case per pseudonymous participant with ``role`` and
``session kind`` Variables, a PlainTextSelection per turn (referenced by its speaker's
Case), the suggestions as Codings by the User "qscribe pre-tagger", the codebook with
definition / use_when / not_when / example in each Code's Description and, where the
de-identified audio exists, an AudioSource with a Transcript and SyncPoints. Every GUID
is a uuid5 of what the element stands for, so the same input exports the same GUIDs.

Reading (:func:`read_qdpx`) accepts any single ``*.qde`` in the zip and a sources folder
spelt in either case, and returns the codebook and the coded turns (team codings only:
the pre-tagger's own suggestions are left out).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.coding.codebook import Code, Codebook, Group, codebook_from_dict
from pipeline.coding.tagger import Suggestion, TurnText
from pipeline.errors import PipelineError
from pipeline.transcript import Transcript

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
GUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://qscribe.local/refi-qda")
PRETAGGER = "qscribe pre-tagger"
#: Fixed zip timestamps: the same project gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DESCRIPTION_FIELDS = (
    ("definition", "Definition"),
    ("use_when", "Use when"),
    ("not_when", "Not when"),
    ("example", "Example"),
)
ID_FIELD = "Code id"


def guid(*parts: object) -> str:
    """Deterministic GUID of an element (uuid5 over what it stands for)."""
    return str(uuid.uuid5(GUID_NS, "\x1f".join(str(p) for p in parts)))


# --------------------------------------------------------------------------- turns


@dataclass
class TurnSpan:
    """One turn of a transcript as placed in the exported plain text."""

    segment_id: int
    segment_ids: list[int]
    label: str
    role: str | None
    start: int  # code points, text only (after "LABEL: ")
    end: int
    start_s: float
    end_s: float
    text: str


def layout(t: Transcript) -> tuple[str, list[TurnSpan]]:
    """The TextSource's plain text (``LABEL: text`` paragraphs) and where each turn is."""
    from pipeline.speakers.assign import turns

    parts: list[str] = []
    spans: list[TurnSpan] = []
    pos = 0
    for turn in turns(t):
        label = turn.label or turn.speaker or "SPEAKER"
        head = f"{label}: "
        if parts:
            parts.append("\n\n")
            pos += 2
        parts.append(head + turn.text)
        start = pos + len(head)
        pos += len(head) + len(turn.text)
        spans.append(
            TurnSpan(
                turn.segment_ids[0],
                list(turn.segment_ids),
                label,
                turn.role,
                start,
                pos,
                turn.start,
                turn.end,
                turn.text,
            )
        )
    return "".join(parts) + "\n", spans


def turn_texts(t: Transcript) -> list[TurnText]:
    """The turns to tag: segment_id is the turn's first segment id."""
    _, spans = layout(t)
    return [TurnText(t.session_id, s.segment_id, s.text, s.label, s.role) for s in spans]


def session_kind(t: Transcript) -> str:
    roles = {s.role for s in t.segments}
    if "member" in roles:
        return "member_focus_group"
    if "staff" in roles:
        return "staff_interview"
    return "other"


# --------------------------------------------------------------------------- codebook XML


def describe(c: Code | Group) -> str:
    lines = []
    for attr, title in DESCRIPTION_FIELDS:
        value = getattr(c, attr, "")
        if value:
            lines.append(f"{title}: {value}")
    lines.append(f"{ID_FIELD}: {c.id}")
    return "\n".join(lines)


def _code_el(parent: ET.Element, ns: str, cb: Codebook, item: Code | Group) -> None:
    is_group = isinstance(item, Group)
    el = ET.SubElement(
        parent,
        f"{{{ns}}}Code",
        {
            "guid": guid("code", cb.id, item.id),
            "name": item.label,
            "isCodable": "false" if is_group else "true",
        },
    )
    ET.SubElement(el, f"{{{ns}}}Description").text = describe(item)
    if isinstance(item, Group):
        for sub in item.groups:
            _code_el(el, ns, cb, sub)
        for code in item.codes:
            _code_el(el, ns, cb, code)


def _codes(parent: ET.Element, ns: str, cb: Codebook) -> None:
    codes = ET.SubElement(parent, f"{{{ns}}}Codes")
    for g in cb.groups:
        _code_el(codes, ns, cb, g)


def _serialize(root: ET.Element, ns: str) -> bytes:
    ET.register_namespace("", ns)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def qdc_bytes(cb: Codebook) -> bytes:
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": f"qscribe {cb.version}"})
    _codes(root, CODEBOOK_NS, cb)
    return _serialize(root, CODEBOOK_NS)


def write_qdc(cb: Codebook, path: str | Path) -> Path:
    from pipeline.workdir import SHARED_FILE, atomic_path

    path = Path(path)
    with atomic_path(path, SHARED_FILE) as tmp:
        tmp.write_bytes(qdc_bytes(cb))
    return path


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child_text(el: ET.Element, name: str) -> str:
    found = _children(el, name)
    return (found[0].text or "").strip() if found else ""


def parse_description(text: str) -> dict[str, str]:
    """Our labelled Description lines; any other text is the definition."""
    titles = {title.lower(): attr for attr, title in DESCRIPTION_FIELDS}
    titles[ID_FIELD.lower()] = "id"
    out: dict[str, str] = {}
    loose: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        key = titles.get(head.strip().lower()) if sep else None
        if key:
            out[key] = rest.strip()
            current = key
        elif current and line.strip():
            out[current] += " " + line.strip()
        elif line.strip():
            loose.append(line.strip())
    if loose and "definition" not in out:
        out["definition"] = " ".join(loose)
    return out


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    return s if s and s[0].isalpha() else f"c_{s or 'code'}"


def codebook_from_codes(
    codes_el: ET.Element, where: str | Path, cb_id: str, version: str = "1", title: str = ""
) -> tuple[Codebook, dict[str, str]]:
    """The Codes element as a codebook, and code GUID -> leaf code id."""
    used: set[str] = set()
    by_guid: dict[str, str] = {}

    def ident(el: ET.Element, info: dict[str, str]) -> str:
        base = info.get("id") or _slug(el.get("name", ""))
        cand, k = base, 2
        while cand in used:
            cand, k = f"{base}_{k}", k + 1
        used.add(cand)
        return cand

    def node(el: ET.Element) -> dict[str, Any]:
        name = el.get("name")
        g = el.get("guid")
        if not name or not g:
            raise PipelineError(f"{where}: a Code lacks its name or guid attribute.")
        info = parse_description(_child_text(el, "Description"))
        kids = _children(el, "Code")
        code_id = ident(el, info)
        by_guid[g] = code_id
        if not kids:
            return {
                "id": code_id,
                "label": name,
                "definition": info.get("definition") or name,
                **{k: info[k] for k in ("use_when", "not_when", "example") if info.get(k)},
            }
        codes = [node(k) for k in kids]
        group: dict[str, Any] = {
            "id": code_id,
            "label": name,
            "definition": info.get("definition", ""),
            "codes": [c for c in codes if "codes" not in c and "groups" not in c],
            "groups": [c for c in codes if "codes" in c or "groups" in c],
        }
        if el.get("isCodable", "true").lower() == "true":
            # A codable parent: keep it applicable as a leaf of its own group.
            own = ident(el, {"id": f"{code_id}.self"})
            group["codes"].insert(
                0, {"id": own, "label": name, "definition": group["definition"] or name}
            )
            by_guid[g] = own
        return group

    tops = [node(el) for el in _children(codes_el, "Code")]
    groups = [t for t in tops if "codes" in t]
    loose = [t for t in tops if "codes" not in t]
    if loose:
        groups.append(
            {"id": ident(codes_el, {"id": "ungrouped"}), "label": "Codes", "codes": loose}
        )
    data = {"codebook": {"id": cb_id, "version": version, "title": title}, "groups": groups}
    return codebook_from_dict(data, where), by_guid


def _parse_xml(data: bytes, where: str | Path) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise PipelineError(
            f"{where}: not well-formed XML ({exc}).",
            hint="Export it again from the QDA program.",
        ) from None


def read_qdc(path: str | Path) -> Codebook:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PipelineError(f"{path}: codebook not found.") from None
    root = _parse_xml(data, path)
    if _local(root.tag) != "CodeBook":
        raise PipelineError(
            f"{path}: not a REFI-QDA codebook (root is <{_local(root.tag)}>, expected <CodeBook>)."
        )
    codes = _children(root, "Codes")
    if not codes:
        raise PipelineError(f"{path}: the codebook has no <Codes> element.")
    origin = root.get("origin", "")
    m = re.match(r"qscribe ([A-Za-z][\w.\-]*)@([^+\s]+)", origin)
    cb_id, version = (m.group(1), m.group(2)) if m else (_slug(path.stem), "1")
    cb, _ = codebook_from_codes(codes[0], path, cb_id, version)
    return cb


# --------------------------------------------------------------------------- project


@dataclass
class SourceInput:
    """One de-identified transcript to put in the project."""

    transcript: Transcript
    kind: str | None = None
    audio: Path | None = None  # de-identified audio (audio.deid.m4a), when it exists
    #: Copy the audio into the project (else an AudioSource pointing to it next to the .qdpx).
    embed_audio: bool = False


def _sub(parent: ET.Element, name: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, f"{{{PROJECT_NS}}}{name}", attrs or {})


def project_xml(
    sources: Sequence[SourceInput],
    cb: Codebook,
    suggestions: Iterable[Suggestion],
    *,
    name: str,
) -> tuple[bytes, dict[str, bytes]]:
    """``project.qde`` and the files of its sources folder (name -> bytes)."""
    user = guid("user", PRETAGGER)
    root = ET.Element(
        f"{{{PROJECT_NS}}}Project", {"name": name, "origin": "qscribe", "creatingUserGUID": user}
    )
    users = _sub(root, "Users")
    _sub(users, "User", {"guid": user, "name": PRETAGGER, "id": "qscribe"})
    book = _sub(root, "CodeBook")
    _codes(book, PROJECT_NS, cb)
    var_role = guid("variable", "role")
    var_kind = guid("variable", "session kind")
    variables = _sub(root, "Variables")
    for g, vname, desc in (
        (var_role, "role", "facilitator, staff, member or unknown"),
        (var_kind, "session kind", "staff_interview, member_focus_group or other"),
    ):
        v = _sub(variables, "Variable", {"guid": g, "name": vname, "typeOfVariable": "Text"})
        _sub(v, "Description").text = desc

    by_turn: dict[tuple[str, int | str], list[Suggestion]] = {}
    for s in suggestions:
        by_turn.setdefault((s.session_id, s.segment_id), []).append(s)
    known_codes = {c.id for c in cb.codes}

    files: dict[str, bytes] = {}
    cases: dict[str, dict[str, Any]] = {}
    source_els: list[ET.Element] = []
    for src in sources:
        t = src.transcript
        sid = t.session_id
        kind = src.kind or session_kind(t)
        text, spans = layout(t)
        sguid = guid("source", sid)
        files[f"{sguid}.txt"] = text.encode("utf-8")
        ts = ET.Element(
            f"{{{PROJECT_NS}}}TextSource",
            {"guid": sguid, "name": sid, "plainTextPath": f"internal://{sguid}.txt"},
        )
        _sub(ts, "Description").text = f"De-identified transcript of session {sid} ({kind})."
        for span in spans:
            sel_guid = guid("selection", sid, span.segment_id)
            sel = _sub(
                ts,
                "PlainTextSelection",
                {
                    "guid": sel_guid,
                    "name": f"{span.label} segment {span.segment_id}",
                    "startPosition": str(span.start),
                    "endPosition": str(span.end),
                },
            )
            sugg = sorted(by_turn.get((sid, span.segment_id), []), key=lambda s: (-s.score, s.code))
            if sugg:
                _sub(sel, "Description").text = "qscribe suggestions: " + "; ".join(
                    f"{s.code} p={s.score:.2f} \u201c{s.evidence.quote}\u201d" for s in sugg
                )
            for s in sugg:
                if s.code not in known_codes:
                    continue
                coding = _sub(
                    sel,
                    "Coding",
                    {"guid": guid("coding", sid, span.segment_id, s.code), "creatingUser": user},
                )
                _sub(coding, "CodeRef", {"targetGUID": guid("code", cb.id, s.code)})
            case = cases.setdefault(
                span.label, {"roles": set(), "kinds": set(), "sources": [], "selections": []}
            )
            if span.role:
                case["roles"].add(span.role)
            case["kinds"].add(kind)
            if sguid not in case["sources"]:
                case["sources"].append(sguid)
            case["selections"].append(sel_guid)
        source_els.append(ts)
        if src.audio is not None and Path(src.audio).is_file():
            aguid = guid("audio", sid)
            if src.embed_audio:
                # Named *.deid.<ext>: the leak gate reads de-identified audio by that name.
                member = f"{aguid}.deid{Path(src.audio).suffix.lower() or '.m4a'}"
                files[member] = Path(src.audio).read_bytes()
                audio_path = f"internal://{member}"
            else:
                # The audio stays next to the project (OUT/<session>/), not copied into it.
                audio_path = f"relative://{Path(src.audio).name}"
            au = ET.Element(
                f"{{{PROJECT_NS}}}AudioSource",
                {"guid": aguid, "name": f"{sid} (de-identified audio)", "path": audio_path},
            )
            tr = _sub(
                au,
                "Transcript",
                {
                    "guid": guid("transcript", sid),
                    "name": sid,
                    "plainTextPath": f"internal://{sguid}.txt",
                },
            )
            for span in spans:
                for edge, pos, sec in (
                    ("start", span.start, span.start_s),
                    ("end", span.end, span.end_s),
                ):
                    _sub(
                        tr,
                        "SyncPoint",
                        {
                            "guid": guid("sync", sid, span.segment_id, edge),
                            "timeStamp": str(round(sec * 1000)),
                            "position": str(pos),
                        },
                    )
            for span in spans:
                _sub(
                    tr,
                    "TranscriptSelection",
                    {
                        "guid": guid("transcript-selection", sid, span.segment_id),
                        "name": f"{span.label} segment {span.segment_id}",
                        "fromSyncPoint": guid("sync", sid, span.segment_id, "start"),
                        "toSyncPoint": guid("sync", sid, span.segment_id, "end"),
                    },
                )
            source_els.append(au)

    if cases:
        cases_el = _sub(root, "Cases")
        for label in sorted(cases):
            info = cases[label]
            case_el = _sub(cases_el, "Case", {"guid": guid("case", label), "name": label})
            for var, value in (
                (var_role, "/".join(sorted(info["roles"])) or "unknown"),
                (var_kind, "/".join(sorted(info["kinds"]))),
            ):
                vv = _sub(case_el, "VariableValue")
                _sub(vv, "VariableRef", {"targetGUID": var})
                _sub(vv, "TextValue").text = value
            for sg in info["sources"]:
                _sub(case_el, "SourceRef", {"targetGUID": sg})
            for sel in info["selections"]:
                _sub(case_el, "SelectionRef", {"targetGUID": sel})
    if source_els:
        sources_el = _sub(root, "Sources")
        sources_el.extend(source_els)
    return _serialize(root, PROJECT_NS), files


def write_qdpx(
    path: str | Path,
    sources: Sequence[SourceInput],
    cb: Codebook,
    suggestions: Iterable[Suggestion],
    *,
    name: str | None = None,
) -> Path:
    """The ``.qdpx`` zip: ``project.qde`` and ``sources/`` (same input, same bytes)."""
    from pipeline.workdir import SHARED_FILE, atomic_path

    path = Path(path)
    qde, files = project_xml(sources, cb, list(suggestions), name=name or path.stem)
    with atomic_path(path, SHARED_FILE) as tmp, zipfile.ZipFile(tmp, "w") as z:
        entries = [("project.qde", qde)] + [(f"sources/{k}", v) for k, v in sorted(files.items())]
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o640 << 16
            z.writestr(info, data)
    return path


# --------------------------------------------------------------------------- reading


@dataclass
class QdpxProject:
    codebook: Codebook
    #: Coded turns per text source (team codings only).
    turns: list[TurnText] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    source_texts: dict[str, str] = field(default_factory=dict)


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PipelineError(f"{path}: project not found.") from None
    except (zipfile.BadZipFile, OSError):
        raise PipelineError(
            f"{path}: not a REFI-QDA project (.qdpx must be a zip archive).",
            hint="Export the project again from the QDA program (REFI-QDA project export).",
        ) from None


def _source_text(z: zipfile.ZipFile, ts: ET.Element, where: Path) -> str:
    inline = _children(ts, "PlainTextContent")
    if inline and inline[0].text is not None:
        return inline[0].text
    ref = ts.get("plainTextPath", "")
    if not ref.startswith("internal://"):
        raise PipelineError(
            f"{where}: source '{ts.get('name')}' has no text inside the project ({ref or 'no path'}).",
            hint="Export the project with its sources embedded.",
        )
    wanted = ref[len("internal://") :].lower()
    for info in z.infolist():
        parts = PurePosixPath(info.filename).parts
        if len(parts) == 2 and parts[0].lower() == "sources" and parts[1].lower() == wanted:
            return z.read(info).decode("utf-8-sig")
    raise PipelineError(
        f"{where}: the sources folder has no file {ref[len('internal://') :]} (source '{ts.get('name')}').",
        hint="Export the project again with its sources.",
    )


#: ``LABEL: text`` paragraphs of our exported text.
PARAGRAPH = re.compile(r"(?m)^([^\n:]{1,40}): (.+)$")


def read_qdpx(path: str | Path, *, include_pretagger: bool = False) -> QdpxProject:
    """Codebook and coded turns of a REFI-QDA project.

    A coding counts for the turn its selection overlaps most. Turns are our own
    PlainTextSelections when the project kept them, else the ``LABEL: text`` paragraphs.
    """
    path = Path(path)
    with _open_zip(path) as z:
        qdes = [
            i
            for i in z.infolist()
            if i.filename.lower().endswith(".qde") and "/" not in i.filename.strip("/")
        ]
        if len(qdes) != 1:
            raise PipelineError(
                f"{path}: expected exactly one .qde file at the top of the project, found {len(qdes)}.",
                hint="Export the project again from the QDA program.",
            )
        root = _parse_xml(z.read(qdes[0]), path)
        if _local(root.tag) != "Project":
            raise PipelineError(
                f"{path}: {qdes[0].filename} is not a REFI-QDA project (root <{_local(root.tag)}>)."
            )
        books = _children(root, "CodeBook")
        codes = _children(books[0], "Codes") if books else []
        if not codes:
            raise PipelineError(f"{path}: the project has no codebook (<CodeBook><Codes>).")
        cb_id = _slug(root.get("name") or path.stem)
        cb, by_guid = codebook_from_codes(codes[0], path, cb_id)
        users = {
            u.get("guid", ""): u.get("name", "")
            for el in _children(root, "Users")
            for u in _children(el, "User")
        }
        pretagger = {g for g, n in users.items() if n == PRETAGGER}
        project = QdpxProject(cb, users=users)
        for srcs in _children(root, "Sources"):
            for ts in _children(srcs, "TextSource"):
                sid = ts.get("name") or ts.get("guid") or ""
                text = _source_text(z, ts, path)
                project.source_texts[sid] = text
                project.turns += _coded_turns(ts, sid, text, by_guid, pretagger, include_pretagger)
    return project


def _coded_turns(
    ts: ET.Element,
    sid: str,
    text: str,
    by_guid: dict[str, str],
    pretagger: set[str],
    include_pretagger: bool,
) -> list[TurnText]:
    ours = re.compile(r"^(.+) segment (-?\d+)$")
    units: list[tuple[int, int, int | str, str]] = []  # start, end, segment id, label
    coded: list[tuple[int, int, str]] = []
    for sel in _children(ts, "PlainTextSelection"):
        try:
            start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError:
            continue
        m = ours.match(sel.get("name", ""))
        if m:
            units.append((start, end, int(m.group(2)), m.group(1)))
        for c in _children(sel, "Coding"):
            if c.get("creatingUser") in pretagger and not include_pretagger:
                continue
            refs = _children(c, "CodeRef")
            code = by_guid.get(refs[0].get("targetGUID", "")) if refs else None
            if code:
                coded.append((start, end, code))
    if not units:
        for k, m in enumerate(PARAGRAPH.finditer(text)):
            units.append((m.start(2), m.end(2), k, m.group(1)))
    units.sort()
    out = [TurnText(sid, seg, text[s:e], label, None, []) for s, e, seg, label in units]
    for s, e, code in coded:
        overlaps = [min(e, ue) - max(s, us) for us, ue, _, _ in units]
        if overlaps and max(overlaps) > 0:
            turn = out[overlaps.index(max(overlaps))]
            if code not in turn.codes:
                turn.codes.append(code)
    return out
