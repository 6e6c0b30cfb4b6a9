"""Text outputs of a transcript: txt (paragraphs with [hh:mm:ss] stamps), vtt, srt, json."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.transcript import Segment, Transcript
from pipeline.workdir import RESTRICTED_FILE, write_text

#: A new paragraph starts after a pause this long, or when the speaker changes.
PARAGRAPH_GAP_S = 2.0
PARAGRAPH_MAX_S = 60.0


def clock(t: float, sep: str = ".", ms: bool = True) -> str:
    total_ms = round(max(t, 0.0) * 1000)
    h, rem = divmod(total_ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}" if ms else f"{h:02d}:{m:02d}:{s:02d}"


def speaker_labels(t: Transcript) -> dict[str, str]:
    """Speaker id -> printed label (``MEMBER-3``), from the transcript's speaker list."""
    return {s["id"]: s.get("label") or s["id"] for s in t.speakers if "id" in s}


def _label_fn(t: Transcript) -> Callable[[Segment], str | None]:
    labels = speaker_labels(t)
    return lambda seg: labels.get(seg.speaker, seg.speaker) if seg.speaker else None


#: How crosstalk without words is shown in the text (transcription convention).
OVERLAP_MARK = "[overlap: {label}]"


def overlap_marks(t: Transcript) -> list[tuple[float, float, str]]:
    """(start, end, label) of every stretch where a voice talks under someone else's
    words without words of its own (``speakers[].overlaps`` in the JSON)."""
    out = []
    for s in t.speakers:
        label = s.get("label") or s.get("id") or "SPEAKER"
        for a, b in s.get("overlaps") or []:
            out.append((float(a), float(b), str(label)))
    return sorted(out)


def marked_texts(t: Transcript) -> list[str]:
    """Each segment's text, with ``[overlap: LABEL]`` where another voice talks under it
    (at the word where the crosstalk starts, or at the end of the segment)."""
    texts = [seg.text.strip() for seg in t.segments]
    marks = overlap_marks(t)
    if not marks:
        return texts
    label_of = _label_fn(t)
    spoken = [i for i, seg in enumerate(t.segments) if texts[i]]
    if not spoken:
        return texts
    inserts: dict[int, list[tuple[float, str]]] = {}
    for a, b, label in marks:
        best, best_overlap = None, 0.0
        for i in spoken:
            seg = t.segments[i]
            ov = min(b, seg.end) - max(a, seg.start)
            if ov > best_overlap:
                best, best_overlap = i, ov
        if best is None:
            before = [i for i in spoken if t.segments[i].start <= a]
            best = before[-1] if before else spoken[0]
        if label_of(t.segments[best]) == label:
            continue
        inserts.setdefault(best, []).append((a, OVERLAP_MARK.format(label=label)))
    for i, items in inserts.items():
        seg = t.segments[i]
        toks = texts[i].split()
        if seg.words and len(toks) == len(seg.words):
            for a, mark in sorted(items, reverse=True):
                k = next((j for j, w in enumerate(seg.words) if w.start >= a), len(toks))
                toks.insert(k, mark)
        else:
            toks += [mark for _, mark in sorted(items)]
        texts[i] = " ".join(toks)
    return texts


def paragraphs(t: Transcript, split_pauses: bool = True) -> list[tuple[float, str | None, str]]:
    """(start, label, text) paragraphs: a turn, split at long pauses unless told not to.
    Crosstalk without words shows as ``[overlap: LABEL]`` in the text."""
    label_of = _label_fn(t)
    out: list[tuple[float, str | None, list[str]]] = []
    last_end, para_start = -1e9, 0.0
    for seg, text in zip(t.segments, marked_texts(t), strict=True):
        if not text:
            continue
        label = label_of(seg)
        if (
            not out
            or label != out[-1][1]
            or (split_pauses and seg.start - last_end >= PARAGRAPH_GAP_S)
            or (split_pauses and seg.start - para_start >= PARAGRAPH_MAX_S)
        ):
            out.append((seg.start, label, []))
            para_start = seg.start
        out[-1][2].append(text)
        last_end = seg.end
    return [(start, label, " ".join(parts)) for start, label, parts in out]


def to_txt(t: Transcript) -> str:
    lines = []
    for start, label, text in paragraphs(t):
        who = f"{label}: " if label else ""
        lines.append(f"[{clock(start, ms=False)}] {who}{text}")
    return "\n\n".join(lines) + "\n"


def to_vtt(t: Transcript) -> str:
    label_of = _label_fn(t)
    cues = ["WEBVTT", ""]
    for seg, text in zip(t.segments, marked_texts(t), strict=True):
        if not text:
            continue
        label = label_of(seg)
        voice = f"<v {label}>" if label else ""
        cues += [f"{clock(seg.start)} --> {clock(seg.end)}", f"{voice}{text}", ""]
    return "\n".join(cues)


def to_srt(t: Transcript) -> str:
    label_of = _label_fn(t)
    cues: list[str] = []
    for seg, text in zip(t.segments, marked_texts(t), strict=True):
        if not text:
            continue
        label = label_of(seg)
        who = f"{label}: " if label else ""
        cues.append(
            f"{len(cues) + 1}\n{clock(seg.start, ',')} --> {clock(seg.end, ',')}\n{who}{text}\n"
        )
    return "\n".join(cues)


def to_maxqda(t: Transcript) -> str:
    """MAXQDA focus-group import: one paragraph per turn, ``LABEL: text``.

    MAXQDA codes each paragraph by the name before its first colon, so the header
    lines carry no colon (text before the first speaker is left uncoded).
    """
    head = [f"Session {t.session_id}", f"Transcribed with qscribe, language {t.language}", ""]
    body = [
        f"{label or 'SPEAKER'}: {text}"
        for _, label, text in paragraphs(t, split_pauses=not t.speakers)
    ]
    return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"


WRITERS: dict[str, Callable[[Transcript], str]] = {
    "json": Transcript.to_json,
    "txt": to_txt,
    "vtt": to_vtt,
    "srt": to_srt,
    "maxqda.txt": to_maxqda,
}


def write_all(
    t: Transcript, folder: str | Path, stem: str = "transcript", mode: int = RESTRICTED_FILE
) -> list[Path]:
    """Write every format atomically into ``folder``; returns the paths."""
    folder = Path(folder)
    return [write_text(folder / f"{stem}.{ext}", fn(t), mode) for ext, fn in WRITERS.items()]
