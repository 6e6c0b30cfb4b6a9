"""Session manifests: who is in a recording, with roles (YAML, validated with pydantic).

A manifest describes one recording::

    session_id: fg-2024-03-site-a
    kind: member_focus_group        # staff_interview | member_focus_group | other
    date: 2024-03-14
    expected_speakers: {min: 4, max: 9}   # or a number
    people:
      - {id: P01, name: Maria Lopez, aliases: [Mari], role: member}
    recording: fg-site-a.m4a        # optional: matches a batch's file to this manifest
    roster: ../rosters/site-a.yaml  # optional shared roster (people, organizations, places)

Real manifests live in ``configs/local/`` (git-ignored); only examples are committed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.config import format_validation_error, read_yaml
from pipeline.errors import PipelineError

Role = Literal["facilitator", "staff", "member"]
SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Person(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    role: Role
    #: Audio clips of this person alone (paths relative to the manifest).
    enrollment: list[Path] = Field(default_factory=list)
    #: A saved voice profile id (from an earlier session's enrollment).
    voice_profile: str | None = None

    @field_validator("enrollment", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class SpeakerBounds(_Strict):
    min: int = Field(1, ge=1)
    max: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> SpeakerBounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class Roster(_Strict):
    """Names to protect: people (the same list the manifest uses), organizations, places."""

    people: list[Person] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)


class SessionManifest(_Strict):
    session_id: str
    kind: Literal["staff_interview", "member_focus_group", "other"] = "other"
    #: The recording's file name, so a batch can match files to manifests.
    recording: str | None = None
    date: dt.date | None = None
    people: list[Person] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)
    expected_speakers: int | SpeakerBounds | None = None
    #: A shared roster file whose people/organizations/places are added to these.
    roster: Path | None = None
    #: The study codebook (YAML or REFI-QDA .qdc) to pre-tag this session's turns with
    #: (overrides ``coding.codebook`` of the settings).
    codebook: Path | None = None
    #: People from the shared roster who are not in this recording: protected by
    #: de-identification, not expected among the voices (filled by ``load_manifest``).
    roster_people: list[Person] = Field(default_factory=list)

    @field_validator("session_id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        if not SESSION_ID.match(v):
            raise ValueError(
                "use letters, digits, '-', '_' or '.', at most 64 characters "
                "(it names folders; keep names of people out of it)"
            )
        return v

    @model_validator(mode="after")
    def _unique_people(self) -> SessionManifest:
        ids = [p.id for p in self.people]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"people ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def protected_people(self) -> list[Person]:
        """Everyone whose name de-identification must remove: participants, then the roster."""
        ids = {p.id for p in self.people}
        return self.people + [p for p in self.roster_people if p.id not in ids]

    def speaker_bounds(self) -> tuple[int, int]:
        """(min, max) number of voices expected in the recording."""
        e = self.expected_speakers
        if isinstance(e, int):
            return e, e
        if isinstance(e, SpeakerBounds):
            return e.min, e.max
        n = len(self.people)
        return (1, max(n, 1) + 2) if n else (1, 10)


def load_manifest(path: str | Path) -> SessionManifest:
    """Read and validate a manifest (merging its shared roster, if it names one)."""
    path = Path(path)
    data = read_yaml(path)
    try:
        manifest = SessionManifest(**data)
    except ValidationError as exc:
        raise PipelineError(format_validation_error(str(path), exc)) from None
    base = path.parent
    manifest.people = [
        p.model_copy(update={"enrollment": [base / e for e in p.enrollment]})
        for p in manifest.people
    ]
    if manifest.codebook:
        manifest.codebook = base / manifest.codebook
    if manifest.roster:
        roster = load_roster(base / manifest.roster)
        known = {p.id for p in manifest.people}
        manifest.roster_people = [p for p in roster.people if p.id not in known]
        manifest.organizations += roster.organizations
        manifest.places += roster.places
    return manifest


def load_roster(path: str | Path) -> Roster:
    path = Path(path)
    try:
        return Roster(**read_yaml(path))
    except ValidationError as exc:
        raise PipelineError(format_validation_error(str(path), exc)) from None
