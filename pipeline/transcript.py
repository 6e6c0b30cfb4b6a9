"""The data contract: plain dataclasses, saved as JSON with a schema version.

``transcript.json`` is what every stage reads and writes::

    {"schema_version", "session_id", "source": {"path", "sha256", "duration", ...},
     "language", "segments": [{"id", "start", "end", "text", "speaker", "role",
     "words": [{"start", "end", "text", "probability", "speaker"}]}],
     "speakers", "deidentified", "provenance": [...]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError

SCHEMA_VERSION = 1

#: Roles a speaker can have. ``None`` means not assigned yet.
ROLES = ("facilitator", "staff", "member", "unknown")


@dataclass
class Word:
    """One recognised word with its timing (seconds from the start of the recording)."""

    start: float
    end: float
    text: str
    probability: float
    speaker: str | None = None


@dataclass
class Segment:
    """A stretch of speech: Whisper's segment, later split where the speaker changes."""

    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    role: str | None = None


@dataclass
class Turn:
    """Consecutive segments of one speaker (what a QDA tool calls a contribution)."""

    start: float
    end: float
    speaker: str | None
    role: str | None
    label: str | None
    text: str
    segment_ids: list[int] = field(default_factory=list)


@dataclass
class Source:
    """The recording a transcript came from."""

    path: str
    sha256: str
    duration: float
    format: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass
class Transcript:
    session_id: str
    source: Source
    language: str
    segments: list[Segment] = field(default_factory=list)
    speakers: list[dict[str, Any]] = field(default_factory=list)
    deidentified: bool = False
    provenance: list[dict[str, Any]] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # Fixed key order keeps files diffable and makes reruns byte-identical.
        return {
            "schema_version": d["schema_version"],
            "session_id": d["session_id"],
            "source": d["source"],
            "language": d["language"],
            "segments": d["segments"],
            "speakers": d["speakers"],
            "deidentified": d["deidentified"],
            "provenance": d["provenance"],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        version = d.get("schema_version")
        if version != SCHEMA_VERSION:
            raise PipelineError(
                f"transcript schema_version {version!r} is not supported (expected "
                f"{SCHEMA_VERSION}).",
                hint="Rerun the pipeline on the recording to regenerate it.",
            )
        segments = [
            Segment(
                id=s["id"],
                start=s["start"],
                end=s["end"],
                text=s["text"],
                words=[Word(**w) for w in s.get("words", [])],
                speaker=s.get("speaker"),
                role=s.get("role"),
            )
            for s in d["segments"]
        ]
        return cls(
            session_id=d["session_id"],
            source=Source(**d["source"]),
            language=d["language"],
            segments=segments,
            speakers=list(d.get("speakers", [])),
            deidentified=bool(d.get("deidentified", False)),
            provenance=list(d.get("provenance", [])),
        )

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError(f"{path}: transcript not found.") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PipelineError(
                f"{path}: not a valid transcript.json (damaged or not JSON).",
                hint="Rerun the pipeline to regenerate it.",
            ) from None
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError) as exc:
            raise PipelineError(
                f"{path}: transcript.json is missing field {exc}.",
                hint="Rerun the pipeline to regenerate it.",
            ) from None


def round_time(t: float) -> float:
    """Millisecond precision: enough for subtitles, and stable across reruns."""
    return round(float(t), 3)
