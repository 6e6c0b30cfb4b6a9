"""Voice profiles: enrolled voices kept in the restricted key area and reused.

A profile is the mean embedding of a person's enrollment clips, saved under the
person id (``<keys>/voices/<embedding>/<id>.json``). A staff member enrolled once
is recognised in every later session that lists the same id (or names the
profile with ``voice_profile``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.diarize.embedding import unit_length
from pipeline.errors import PipelineError
from pipeline.ingest import ingest, read_wav
from pipeline.manifest import Person
from pipeline.workdir import make_dir, sha256_file, write_json


def profile_path(keys_dir: Path, embedding: str, profile_id: str) -> Path:
    return keys_dir / "voices" / embedding / f"{profile_id}.json"


def load_profile(keys_dir: Path, embedding: str, profile_id: str) -> np.ndarray | None:
    path = profile_path(keys_dir, embedding, profile_id)
    if not path.is_file():
        return None
    return np.asarray(json.loads(path.read_text())["embedding"], dtype=np.float32)


def enroll(
    person: Person, embed, embedding: str, keys_dir: Path
) -> tuple[np.ndarray | None, list[str]]:
    """The person's voice from their clips (saved as a profile), or their saved profile.

    Returns the embedding (or None) and one-line problems with clips, which do not
    stop the session: the roles then come from the heuristics and the review file.
    """
    problems: list[str] = []
    if person.enrollment:
        clips, digests = [], []
        for clip in person.enrollment:
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    wav = Path(tmp) / "clip.wav"
                    digest = ingest(clip, wav, min_duration_s=1.0).source.sha256
                    clips.append(read_wav(wav))
                digests.append(digest)
            except PipelineError as exc:
                problems.append(f"{person.id} enrollment clip {exc}")
        if clips:
            vec = unit_length(np.asarray(embed(clips), dtype=np.float32).mean(axis=0))
            out = profile_path(keys_dir, embedding, person.voice_profile or person.id)
            make_dir(out.parent)
            make_dir(out.parent.parent)
            write_json(out, {"embedding": [round(float(x), 6) for x in vec], "clips": digests})
            return vec, problems
    profile = load_profile(keys_dir, embedding, person.voice_profile or person.id)
    if profile is None and person.voice_profile:
        problems.append(
            f"{person.id}: voice profile '{person.voice_profile}' not found (enroll it once with a clip)"
        )
    return profile, problems


def enrollment_inputs(people: list[Person], keys_dir: Path, embedding: str) -> list[Any]:
    """What enrolled voices depend on (clip and profile hashes): part of the roles key."""
    inputs: list[Any] = []
    for person in people:
        profile = profile_path(keys_dir, embedding, person.voice_profile or person.id)
        clips = [sha256_file(c) if Path(c).is_file() else f"missing:{c}" for c in person.enrollment]
        if clips or profile.is_file():
            inputs.append([person.id, clips, None if clips else sha256_file(profile)])
    return inputs


def enroll_people(
    people: list[Person], embed: Callable[[list[np.ndarray]], Any], embedding: str, keys_dir: Path
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Enrolled voices of ``people``, and one-line problems with their clips."""
    enrolled: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for person in people:
        vec, issues = enroll(person, embed, embedding, make_dir(keys_dir))
        problems += issues
        if vec is not None:
            enrolled[person.id] = vec
    return enrolled, problems
