"""Shared fixtures: one settings file, one model load and one Prefect harness per session.

Prefect reads its environment when first imported, so the project-local
PREFECT_HOME and the offline variables are set here, before any test module
imports the flows.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _find_real() -> Path:
    """../shared/data/real next to the checkout (or above it), or QSCRIBE_REAL_DATA."""
    if os.environ.get("QSCRIBE_REAL_DATA"):
        return Path(os.environ["QSCRIBE_REAL_DATA"])
    for parent in ROOT.parents:
        if (parent / "shared" / "data" / "real").is_dir():
            return parent / "shared" / "data" / "real"
    return ROOT.parent / "shared" / "data" / "real"


REAL = _find_real()
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="qscribe-tests-"))

from pipeline import offline  # noqa: E402  (no prefect import)

offline.apply_prefect(_SESSION_TMP / "prefect")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
# The key passphrase for every test run (the de-identification stage needs one).
os.environ["QSCRIBE_PASSPHRASE"] = "test suite passphrase"
# Keep every test away from the real OS keyring and ~/.config.
os.environ["QSCRIBE_KEYRING"] = "0"
os.environ["QSCRIBE_SECRETS_DIR"] = str(_SESSION_TMP / "secrets")

sys.path.insert(0, str(ROOT))


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def session_tmp() -> Path:
    return _SESSION_TMP


@pytest.fixture(scope="session")
def models_dir() -> Path:
    # Shared with the project so the joined base model is assembled once per machine.
    return ROOT / "var" / "models"


def write_config(
    folder: Path,
    models_dir: Path,
    prefect_home: Path | None = None,
    extra: dict | None = None,
    **asr,
) -> Path:
    """A settings file with every zone under ``folder`` (and tiny.en, the test model);
    ``extra`` adds other sections (``{"diarization": {"enabled": False}}``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {
        "paths": {
            "work": str(folder / "work"),
            "keys": str(folder / "keys"),
            "models": str(models_dir),
            "prefect_home": str(prefect_home or os.environ["PREFECT_HOME"]),
            "logs": str(folder / "logs"),
        },
        "asr": {"model": "tiny.en", **asr},
        **(extra or {}),
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="session")
def config_file(session_tmp, models_dir) -> Path:
    """Test settings: tiny.en, work folders in a temp dir."""
    return write_config(session_tmp / "cfg", models_dir)


@pytest.fixture(scope="session")
def settings(config_file):
    from pipeline.config import load_settings

    return load_settings(config_file)


@pytest.fixture(scope="session")
def engine(settings):
    from pipeline.asr import get_engine

    return get_engine(settings.asr, settings.paths.models)


@pytest.fixture(scope="session")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real recordings not found at {REAL} (set QSCRIBE_REAL_DATA)")
    return REAL


@pytest.fixture(scope="session")
def espeak():
    from tests.support.synth import espeak_available

    if not espeak_available():
        pytest.fail("espeak-ng is missing: run `make setup` (installs espeak-ng and sox)")


CONVERSATION = [
    ("A", "Hello everyone, my name is Dana Whitfield and I run this group."),
    ("B", "Hi, I'm Rosa Delgado. You can call me at five five five, zero one four two."),
    ("C", "And I am Tom Becker. We usually meet at the Riverside Diner on Friday."),
    ("A", "Thank you both. What do you enjoy about those dinners?"),
    ("B", "Mostly the company. It feels like being with friends."),
]


@pytest.fixture(scope="session")
def conversation(session_tmp, espeak):
    """A three-voice recording with names, a phone number and a place (about 25 s)."""
    from tests.support.synth import VOICE_BANK, Voice, render, write_audio

    voices = {k: Voice(**VOICE_BANK[i]) for i, k in enumerate("ABC")}
    r = render(CONVERSATION, voices)
    path = write_audio(session_tmp / "media" / "conversation.wav", r.audio, r.sample_rate)
    return path, r


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness (temporary API and database) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def stage(name: str, session, cfg, manifest=None, **kw):
    """Run one pipeline stage by name (``src=``, ``out=`` as the stage needs)."""
    from pipeline.stages import run_named

    return run_named(name, session, cfg, manifest, **kw)


CLIPS = {
    "speech": "Ask not what your country can do for you.",
    "bowling": "We go bowling on Friday nights with two of the staff.",
    "diner": "The diner was loud, but the food was good and cheap.",
}


@pytest.fixture(scope="session")
def clips(session_tmp, espeak) -> dict[str, Path]:
    """Three short one-voice recordings with known words (wav), made here with espeak-ng."""
    from tests.support.synth import VOICE_BANK, Voice, render, write_audio

    out = {}
    for i, (name, text) in enumerate(CLIPS.items()):
        r = render([("A", text)], {"A": Voice(**VOICE_BANK[i])})
        out[name] = write_audio(session_tmp / "clips" / f"{name}.wav", r.audio, r.sample_rate)
    return out
