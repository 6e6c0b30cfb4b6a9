"""Transcripts made elsewhere: typed by a person or written by another tool.

:func:`load_transcript` reads any of these into a :class:`~pipeline.transcript.Transcript`
that de-identification takes like the ASR stage's output:

- qscribe's own ``transcript.json`` (word-level or not), unchanged;
- other JSON: ``{"segments": [{"speaker", "text", "start", "end"}]}`` (Whisper's JSON
  and similar tools), or a list of such turns;
- ``.txt`` and ``.docx`` with ``NAME: text`` turns (optionally with ``[hh:mm:ss]`` stamps,
  a header on its own line, or a two-column table in the document);
- ``.vtt`` and ``.srt`` subtitles (``<v Name>`` voice tags or ``Name:`` in the cue text).

A speaker named in a turn header is never copied into the transcript's text: each
distinct header becomes a neutral speaker id (``SPEAKER_1``), and the header is kept in
the speaker list (``header``; dropped from every output), where de-identification turns
it into a label: the roster label when the header names a roster person (full name,
first name, surname or alias), a role word as it stands ("Interviewer", "P3"), any
other name a pseudonym (``PERSON-2``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.transcript import SCHEMA_VERSION, Segment, Source, Transcript

SUFFIXES = (".json", ".txt", ".docx", ".vtt", ".srt")

#: Headers that name a role or a numbered participant, not a person: kept as labels.
ROLE_HEADER = re.compile(
    r"^(?:interviewer|interviewee|facilitator|co-?facilitator|moderator|respondent|"
    r"participant|speaker|member|staff|researcher|note-?taker|unknown|unidentified|"
    r"multiple|several|all|group|audience|[a-z]{1,2}(?=[ _-]?\d)|[iprfmqa])(?:[ _-]?\d{1,3}[a-z]?)?$",
    re.IGNORECASE,
)
STAMP = r"[\[(]?(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?[\])]?"
HEADER_NAME = r"[A-Za-z][\w.'’ -]{0,38}?(?:\s*\d{1,3})?"
#: "[00:01:02] Dana: text", "Dana (00:01:02): text", "DANA WHITFIELD: text".
TURN_LINE = re.compile(
    rf"^\s*(?:(?P<t1>{STAMP})\s*)?(?P<name>{HEADER_NAME})\s*(?:(?P<t2>{STAMP})\s*)?:\s*(?P<text>.*)$"
)
#: Otter-style header on its own line: "Speaker 1  0:03" / "Dana Whitfield  01:02:03".
HEADER_LINE = re.compile(rf"^\s*(?P<name>{HEADER_NAME})\s+(?P<t2>{STAMP})\s*$")
STAMP_ONLY = re.compile(rf"^\s*(?P<t1>{STAMP})\s*(?P<text>.*)$")
#: Words that end a line like a header but start an ordinary sentence ("Note: ...").
NOT_HEADER = frozenset(
    "note notes time date location site session transcript recording question answer "
    "comment comments inaudible crosstalk laughter pause edit title subject re cc to from "
    "http https www".split()
)
CUE_TIME = re.compile(
    r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
TAG = re.compile(r"</?[^>]+>")


def load_transcript(path: str | Path, manifest: Any = None) -> Transcript:
    """Any supported transcript file as a :class:`Transcript` (identified, not yet
    de-identified). ``manifest`` (optional) lets turn headers that name a roster person
    keep that person's id and role, so they get the person's label."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: transcript not found.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PipelineError(
            f"{path}: unknown transcript format '{suffix or path.name}'. "
            f"Available: {', '.join(SUFFIXES)}",
            hint="Save the transcript as .txt, .docx, .vtt, .srt or .json.",
        )
    if suffix == ".json":
        data = _read_json(path)
        if _is_qscribe(data):
            t = Transcript.load(path)
            return t
        turns = _json_turns(data, path)
    elif suffix == ".docx":
        turns = parse_text(_docx_text(path))
    elif suffix in (".vtt", ".srt"):
        turns = parse_subtitles(_read(path))
    else:
        turns = parse_text(_read(path))
    if not any(t["text"].strip() for t in turns):
        raise PipelineError(
            f"{path}: no transcript text found.",
            hint="Turns look like 'NAME: what they said', one per line or paragraph.",
        )
    return build(turns, path, manifest)


# ------------------------------------------------------------------------- reading


def _read(path: Path) -> str:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read(path))
    except json.JSONDecodeError:
        raise PipelineError(
            f"{path}: not valid JSON (damaged, or not a transcript).",
            hint="Export the transcript again, or save it as .txt with 'NAME: text' turns.",
        ) from None


def _is_qscribe(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("schema_version") == SCHEMA_VERSION
        and isinstance(data.get("source"), dict)
        and "segments" in data
    )


def _json_turns(data: Any, path: Path) -> list[dict[str, Any]]:
    items = data.get("segments") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None:
        items = data.get("turns") or data.get("utterances") or data.get("results")
    if not isinstance(items, list):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return parse_text(data["text"])
        raise PipelineError(
            f"{path}: no segments in this JSON.",
            hint='Expected {"segments": [{"speaker": ..., "text": ...}]} or a list of turns.',
        )
    turns = []
    for item in items:
        if isinstance(item, str):
            turns += parse_text(item)
            continue
        if not isinstance(item, dict):
            continue
        text = item.get("text") or item.get("transcript") or ""
        if not isinstance(text, str):
            continue
        speaker = item.get("speaker") or item.get("speaker_name") or item.get("name")
        if speaker is None and isinstance(item.get("speaker_label"), str):
            speaker = item["speaker_label"]
        turns.append(
            {
                "speaker": str(speaker).strip() if speaker not in (None, "") else None,
                "text": text.strip(),
                "start": _seconds(item.get("start")),
                "end": _seconds(item.get("end")),
            }
        )
    return turns


def _docx_text(path: Path) -> str:
    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is a dependency
        raise PipelineError("reading .docx needs python-docx.", hint="Run `make setup`.") from None
    try:
        doc = docx.Document(str(path))
    except Exception:  # python-docx raises many kinds for a bad file
        raise PipelineError(
            f"{path}: cannot be read as a Word document (damaged, or an old .doc?).",
            hint="Open it in Word and save it as .docx or .txt.",
        ) from None
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
            if len(cells) >= 2 and len(cells[0]) <= 40 and "\n" not in cells[0]:
                lines.append(f"{cells[0].rstrip(':')}: {' '.join(cells[1:])}")
            elif cells:
                lines.append(" ".join(cells))
    return "\n".join(lines)


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _clock(value)
    return None


def _clock(stamp: str | None) -> float | None:
    """Seconds in "01:02:03", "1:02", "00:00:01,500", "[00:01:02]"."""
    if not stamp:
        return None
    s = stamp.strip("[]() ").replace(",", ".")
    try:
        parts = [float(x) for x in s.split(":")]
    except ValueError:
        return None
    total = 0.0
    for x in parts:
        total = total * 60 + x
    return total


# ------------------------------------------------------------------------- parsing


def _header(name: str) -> str | None:
    """The speaker name in a header, or None when the line is not a turn header."""
    name = " ".join(name.split())
    if not name or len(name) > 40 or len(name.split()) > 4:
        return None
    first = name.split()[0].lower().strip(".")
    if first in NOT_HEADER:
        return None
    return name


def parse_text(text: str) -> list[dict[str, Any]]:
    """Turns in plain text: ``NAME: text`` lines; other lines continue the turn."""
    turns: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = HEADER_LINE.match(line) or TURN_LINE.match(line)
        name = _header(m.group("name")) if m else None
        if m and name:
            stamp = m.groupdict().get("t1") or m.groupdict().get("t2")
            current = {
                "speaker": name,
                "text": (m.groupdict().get("text") or "").strip(),
                "start": _clock(stamp),
                "end": None,
            }
            turns.append(current)
            continue
        s = STAMP_ONLY.match(line)
        start = _clock(s.group("t1")) if s else None
        body = s.group("text").strip() if s else line
        if current is not None and not current["text"]:
            current["text"] = body
            current["start"] = current["start"] if current["start"] is not None else start
        elif current is not None:
            # A new paragraph of the same speaker: a new segment of the turn.
            current = {"speaker": current["speaker"], "text": body, "start": start, "end": None}
            turns.append(current)
        else:
            current = {"speaker": None, "text": body, "start": start, "end": None}
            turns.append(current)
    return [t for t in turns if t["text"]]


def parse_subtitles(text: str) -> list[dict[str, Any]]:
    """Cues of a WebVTT or SubRip file, with the speaker from ``<v Name>`` or ``Name:``."""
    turns: list[dict[str, Any]] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        lines = [x for x in block.split("\n") if x.strip()]
        timing = next((i for i, x in enumerate(lines) if CUE_TIME.match(x)), None)
        if timing is None:
            continue  # WEBVTT header, NOTE, STYLE, REGION blocks
        m = CUE_TIME.match(lines[timing])
        assert m is not None
        body = " ".join(x.strip() for x in lines[timing + 1 :])
        speaker = None
        v = VOICE.search(body)
        if v:
            speaker = v.group(1).strip()
        body = " ".join(TAG.sub("", body).split())
        if speaker is None:
            h = TURN_LINE.match(body)
            name = _header(h.group("name")) if h else None
            if h and name and not h.group("t1") and not h.group("t2"):
                speaker, body = name, h.group("text").strip()
        elif body.lower().startswith(speaker.lower() + ":"):
            body = body[len(speaker) + 1 :].strip()
        if not body:
            continue
        start, end = _clock(m.group("a")), _clock(m.group("b"))
        if speaker is None and turns and turns[-1]["speaker"] is not None:
            speaker = turns[-1]["speaker"]  # a cue without a voice continues the last one
        turns.append({"speaker": speaker, "text": body, "start": start, "end": end})
    return turns


# ------------------------------------------------------------------------- building


def _slug(stem: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "transcript"
    return s[:64]


def _roster_person(header: str, manifest: Any) -> Any:
    """The manifest person a turn header names (full name, a name part, or an alias)."""
    if manifest is None:
        return None
    from pipeline.deid.pseudonyms import normalize

    h = normalize(header)
    if not h:
        return None
    people = manifest.protected_people()
    for p in people:  # whole name or alias first
        if h in {normalize(p.name), *(normalize(a) for a in p.aliases)}:
            return p
    hits = [
        p
        for p in people
        if set(h.split()) <= {w for n in [p.name, *p.aliases] for w in normalize(n).split()}
    ]
    return hits[0] if len(hits) == 1 else None


def build(turns: list[dict[str, Any]], path: Path, manifest: Any = None) -> Transcript:
    """A Transcript from parsed turns: neutral speaker ids, headers kept for labelling."""
    from pipeline.workdir import sha256_file

    ids: dict[str, str] = {}
    speakers: list[dict[str, Any]] = []
    segments: list[Segment] = []
    clock = 0.0
    for turn in turns:
        header = turn.get("speaker")
        sid = None
        role = None
        if header:
            key = " ".join(header.split()).lower()
            if key not in ids:
                ids[key] = f"SPEAKER_{len(ids) + 1}"
                entry: dict[str, Any] = {"id": ids[key], "header": header}
                person = _roster_person(header, manifest)
                if person is not None:
                    entry["person"] = person.id
                    entry["role"] = person.role
                speakers.append(entry)
            sid = ids[key]
            role = next((s.get("role") for s in speakers if s["id"] == sid), None)
        start = turn.get("start")
        end = turn.get("end")
        start = clock if start is None else float(start)
        end = start if end is None else max(float(end), start)
        clock = max(clock, end)
        segments.append(Segment(len(segments), start, end, turn["text"], [], sid, role))
    session_id = manifest.session_id if manifest is not None else _slug(path.stem)
    return Transcript(
        session_id=session_id,
        source=Source(
            path=str(path),
            sha256=sha256_file(path),
            duration=clock,
            format=path.suffix.lower().lstrip("."),
        ),
        language="en",
        segments=segments,
        speakers=speakers,
        provenance=[{"stage": "typed", "format": path.suffix.lower().lstrip(".")}],
    )
