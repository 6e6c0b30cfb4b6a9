"""The library never imports Prefect; only flows/ does."""

import subprocess
import sys

from tests.conftest import ROOT


def test_pipeline_does_not_import_prefect():
    code = (
        "import sys, pkgutil, importlib, pipeline\n"
        "for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')]\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def test_offline_environment_is_forced():
    code = (
        "import os\nos.environ['HF_HUB_OFFLINE'] = '0'\nimport pipeline\n"
        "print(os.environ['HF_HUB_OFFLINE'], os.environ['ORT_DISABLE_TELEMETRY'],"
        " os.environ['DO_NOT_TRACK'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["1", "1", "1"]
