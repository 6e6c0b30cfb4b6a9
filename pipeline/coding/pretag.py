"""The pre-tagging stage (``06_codes``): suggestions for de-identified transcripts.

``run_pretag(inputs, out, codebook=...)`` checks everything first (codebook, codings,
transcripts: de-identified and passing the leak gate), then per session writes
``suggestions.json`` / ``.csv`` / ``.xlsx`` and ``<session>.qdpx`` into ``out/<session>/``
(or straight into ``out`` with ``per_session_folders=False``), each file atomically and
only after the leak gate has passed what it holds. Nothing is written when any input is
wrong.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.coding.codebook import Codebook, load_codebook
from pipeline.coding.lexicon import load_lexicon
from pipeline.coding.refi import SourceInput, read_qdpx, turn_texts, write_qdpx
from pipeline.coding.tagger import LearnedModel, Suggestion, Tagger, TurnText, build_tagger, train
from pipeline.errors import PipelineError
from pipeline.transcript import Transcript
from pipeline.workdir import (
    RESTRICTED_DIR,
    RESTRICTED_FILE,
    SHARED_DIR,
    SHARED_FILE,
    atomic_path,
    make_dir,
    sha256_file,
    write_json,
)

logger = logging.getLogger(__name__)

DEFAULT_CODEBOOK = (
    Path(__file__).resolve().parents[2] / "configs" / "codebooks" / "social-interaction-policy.yaml"
)
AUDIO_NAME = "audio.deid.m4a"
#: Numbers never sit side by side (a text column between): the leak gate reads a
#: spreadsheet row's cells as one text, where "0.51 0 41" would look like a phone number.
CSV_COLUMNS = (
    "session_id",
    "speaker",
    "segment_id",
    "code",
    "score",
    "label",
    "evidence_start",
    "evidence",
    "evidence_end",
    "method",
    "model",
    "codebook_version",
    "accept",
)


# --------------------------------------------------------------------------- codings


def load_codings(path: str | Path, codebook: Codebook) -> list[TurnText]:
    """The team's coded turns: a REFI-QDA ``.qdpx`` or a ``codings.jsonl``."""
    path = Path(path)
    known = {c.id for c in codebook.codes}
    if path.suffix.lower() == ".qdpx":
        project = read_qdpx(path)
        # Codes are matched by id (kept in each Code's Description) or by label.
        by_label = {c.label.lower(): c.id for c in codebook.codes}
        own = {c.id: c.label for c in project.codebook.codes}
        turns = []
        for t in project.turns:
            mapped = []
            for code in t.codes:
                cid = code if code in known else by_label.get(own.get(code, "").lower())
                if cid is None:
                    raise PipelineError(
                        f"{path}: code '{own.get(code, code)}' is not in codebook {codebook.id}.",
                        hint="Code with the same codebook, or pass it with CODEBOOK=.",
                    )
                mapped.append(cid)
            turns.append(TurnText(t.session_id, t.segment_id, t.text, t.speaker, t.role, mapped))
        if not any(t.codes for t in turns):
            raise PipelineError(
                f"{path}: the project holds no codings by the team (only suggestions or none)."
            )
        return turns
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise PipelineError(f"{path}: codings file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(
            f"{path}: codings file cannot be read ({exc.__class__.__name__})."
        ) from None
    turns = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            raise PipelineError(
                f"{path}: line {n} is not valid JSON.", hint="One JSON object per line."
            ) from None
        if not isinstance(d, dict):
            raise PipelineError(f"{path}: line {n} is not a JSON object.")
        missing = [k for k in ("session_id", "segment_id", "text", "codes") if k not in d]
        if missing:
            raise PipelineError(f"{path}: line {n} lacks {', '.join(missing)}.")
        if not isinstance(d["text"], str) or not isinstance(d["codes"], list):
            raise PipelineError(f"{path}: line {n}: text must be a string and codes a list.")
        bad = [c for c in d["codes"] if c not in known]
        if bad:
            raise PipelineError(
                f"{path}: line {n}: code '{bad[0]}' is not in codebook {codebook.id}.",
                hint=f"Valid codes: {', '.join(sorted(known))}.",
            )
        turns.append(
            TurnText(
                str(d["session_id"]),
                d["segment_id"],
                d["text"],
                d.get("speaker"),
                d.get("role"),
                list(dict.fromkeys(d["codes"])),
            )
        )
    if not turns:
        raise PipelineError(f"{path}: no coded turns in the file.")
    return turns


def learned_model(
    tagger: Tagger,
    coded: Path,
    turns: list[TurnText],
    models_dir: Path,
) -> tuple[LearnedModel, Path]:
    """Train on the team's codings (or reuse the model trained on the same ones)."""
    cb = tagger.space.codebook
    key = hashlib.sha256(
        json.dumps(
            [cb.version, tagger.model_name, [(t.text, sorted(t.codes)) for t in turns]],
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    path = Path(models_dir) / "coding" / f"{cb.id}-{key}.json"
    if path.is_file():
        try:
            return LearnedModel.load(path), path
        except PipelineError:
            logger.info("learned coding model %s unreadable; training again", path.name)
    model = train(tagger.space, turns, tagger.prior, source=coded.name)
    model.provenance.update(
        {
            "codings_file": coded.name,
            "codings_sha256": sha256_file(coded),
            "codebook_version": cb.version,
            "embedder": tagger.model_name,
            "key": key,
        }
    )
    make_dir(path.parent)
    model.save(path)
    return model, path


# --------------------------------------------------------------------------- writing


def _csv_rows(
    suggestions: list[Suggestion], cb: Codebook, speakers: dict[Any, str]
) -> list[list[Any]]:
    labels = {c.id: c.label for c in cb.codes}
    return [
        [
            s.session_id,
            speakers.get((s.session_id, s.segment_id), ""),
            s.segment_id,
            s.code,
            # Three decimals as text: a spreadsheet writes floats with 16 digits
            # (0.8643999999999999), which the leak gate rightly reads as an id number.
            f"{s.score:.3f}",
            labels.get(s.code, ""),
            s.evidence.start,
            s.evidence.quote,
            s.evidence.end,
            s.method,
            s.model,
            s.codebook_version,
            "",
        ]
        for s in suggestions
    ]


def write_csv(path: Path, rows: list[list[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    w.writerows(rows)
    with atomic_path(path, SHARED_FILE) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "suggestions"
    ws.append(list(CSV_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    ws.auto_filter.ref = ws.dimensions
    ws.freeze_panes = "A2"
    for col, width in zip(
        "ABCDEFGHIJKLM", (22, 12, 10, 18, 7, 28, 8, 60, 8, 30, 30, 30, 8), strict=True
    ):
        ws.column_dimensions[col].width = width
    with atomic_path(path, SHARED_FILE) as tmp:
        wb.save(tmp)


# --------------------------------------------------------------------------- gate


def gate_texts(files: list[Path], label: str, roster: Any) -> list[str]:
    """The leak gate over everything written, each file in its real format (the zips of
    .qdpx and .xlsx member by member): the same gate the export applies."""
    from pipeline.deid.gate import scan_files

    return [str(h) for h in scan_files(files, roster, label=label)]


def check_transcript(path: Path, t: Transcript, roster: Any) -> None:
    from pipeline.deid.gate import scan_file

    if not t.deidentified:
        raise PipelineError(
            f"{path}: transcript is not marked de-identified; the pre-tagger only reads de-identified transcripts.",
            hint="Run it on OUT/<session>/transcript.json (after `qscribe deidentify`).",
        )
    hits = scan_file(path, path.name, roster)
    if hits:
        shown = "; ".join(str(h) for h in hits[:3])
        raise PipelineError(
            f"{path}: the leak gate blocks this transcript ({len(hits)} possible identifier(s): {shown}); nothing was written.",
            hint="De-identify it again with the roster that names them.",
        )


# --------------------------------------------------------------------------- stage


@dataclass
class SessionResult:
    session_id: str
    folder: Path
    turns: int
    suggestions: int
    files: list[str]


@dataclass
class PretagResult:
    sessions: list[SessionResult] = field(default_factory=list)
    codebook_version: str = ""
    model: str = ""
    method: str = ""
    learned_path: Path | None = None
    seconds: float = 0.0
    load_seconds: float = 0.0


def transcript_inputs(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.rglob("transcript.json"))
        if not found:
            raise PipelineError(f"{path}: no transcript.json in this folder.")
        return found
    if not path.is_file():
        raise PipelineError(f"{path}: not found.")
    return [path]


def run_pretag(
    inputs: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    codebook: str | Path | None = None,
    coded: str | Path | None = None,
    models_dir: str | Path = "var/models",
    roster: Any = None,
    session_kind: str | None = None,
    embedder: str = "minilm-onnx-int8",
    per_session_folders: bool = True,
    restricted: bool = False,
    tagger: Tagger | None = None,
) -> PretagResult:
    """Suggestions for de-identified transcripts (a file, a folder, or a list of them).

    ``restricted=True`` keeps the outputs 0700/0600 (the flow's ``06_codes`` in the work
    area, before the export copies them out through the leak gate); otherwise 0750/0640.
    ``tagger`` reuses an already loaded tagger (same codebook) across calls.
    """
    from pipeline.deid.apply import roster_for

    started = time.monotonic()
    paths = (
        [p for i in inputs for p in transcript_inputs(Path(i))]
        if isinstance(inputs, list | tuple)
        else transcript_inputs(Path(inputs))  # type: ignore[arg-type]
    )
    cb_path = Path(codebook) if codebook else DEFAULT_CODEBOOK
    cb = load_codebook(cb_path)
    lexicon = load_lexicon(cb, cb_path)
    roster = roster or roster_for([], [], [])
    transcripts = []
    for p in paths:
        t = Transcript.load(p)
        check_transcript(p, t, roster)
        transcripts.append((p, t))
    coded_path = Path(coded) if coded else None
    coded_turns = load_codings(coded_path, cb) if coded_path else None
    t_load = time.monotonic()
    if tagger is None or tagger.space.codebook.version != cb.version:
        tagger = build_tagger(cb, lexicon, embedder=embedder)
    else:
        tagger.learned = None
    result = PretagResult(codebook_version=cb.version, model=tagger.model_name)
    if coded_path is not None and coded_turns is not None:
        model, result.learned_path = learned_model(
            tagger, coded_path, coded_turns, Path(models_dir)
        )
        tagger = Tagger(tagger.space, model.prior, model)
    result.load_seconds = round(time.monotonic() - t_load, 3)
    result.method = "learned" if tagger.learned else "codebook"
    modes = (RESTRICTED_DIR, RESTRICTED_FILE) if restricted else (SHARED_DIR, SHARED_FILE)
    out = make_dir(Path(out), modes[0])
    for p, t in transcripts:
        result.sessions.append(
            _one_session(p, t, out, tagger, roster, session_kind, per_session_folders, modes)
        )
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _one_session(
    path: Path,
    t: Transcript,
    out: Path,
    tagger: Tagger,
    roster: Any,
    kind: str | None,
    per_session_folders: bool,
    modes: tuple[int, int] = (SHARED_DIR, SHARED_FILE),
) -> SessionResult:
    cb = tagger.space.codebook
    turns = turn_texts(t)
    suggestions = tagger.suggest(turns)
    speakers = {(x.session_id, x.segment_id): x.speaker or "" for x in turns}
    target = make_dir(out / t.session_id, modes[0]) if per_session_folders else out
    audio = path.parent / AUDIO_NAME
    names = ["suggestions.json", "suggestions.csv", "suggestions.xlsx", f"{t.session_id}.qdpx"]
    staging = Path(tempfile.mkdtemp(prefix=".pretag-", dir=target))
    try:
        rows = _csv_rows(suggestions, cb, speakers)
        write_json(
            staging / names[0],
            [
                {
                    "session_id": s.session_id,
                    "segment_id": s.segment_id,
                    "code": s.code,
                    "score": s.score,
                    "evidence": {
                        "start": s.evidence.start,
                        "end": s.evidence.end,
                        "quote": s.evidence.quote,
                    },
                    "method": s.method,
                    "model": s.model,
                    "codebook_version": s.codebook_version,
                }
                for s in suggestions
            ],
            SHARED_FILE,
        )
        write_csv(staging / names[1], rows)
        write_xlsx(staging / names[2], rows)
        write_qdpx(
            staging / names[3],
            [SourceInput(t, kind, audio if audio.is_file() else None)],
            cb,
            suggestions,
            name=f"{t.session_id} (qscribe pre-tags)",
        )
        hits = gate_texts([staging / n for n in names], t.session_id, roster)
        if hits:
            raise PipelineError(
                f"leak gate blocked the suggestions of session {t.session_id}: {len(hits)} possible identifier(s) "
                f"({'; '.join(hits[:3])}); nothing was written.",
                hint="Add the name to the roster and de-identify again.",
            )
        for n in names:
            os.chmod(staging / n, modes[1])
            os.replace(staging / n, target / n)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SessionResult(t.session_id, target, len(turns), len(suggestions), names)
