"""Architecture rules, checked on the code itself.

- The library never imports Prefect; only flows/ does.
- Loading settings imports no engine (names are checked against the registry).
- Layers: the base modules import only each other; only the stages import the stages;
  the library imports no application (flows/, review/) and no tools/.
- Flows build no work paths: folders belong to the stages.
"""

import ast
import re
import subprocess
import sys

import yaml

from tests.conftest import ROOT

#: The base layer: everything else may import these, they import nothing else of pipeline.
BASE = {
    "pipeline",
    "pipeline.errors",
    "pipeline.offline",
    "pipeline.registry",
    "pipeline.workdir",
    "pipeline.transcript",
    "pipeline.config",
    "pipeline.manifest",
}


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _module(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _library():
    return sorted((ROOT / "pipeline").rglob("*.py"))


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


def test_loading_settings_imports_no_engine():
    code = (
        "import sys\nfrom pipeline.config import load_settings\nload_settings()\n"
        "heavy = ('pipeline.asr', 'pipeline.diarize', 'pipeline.deid', 'pipeline.speakers',"
        " 'torch', 'ctranslate2', 'faster_whisper', 'presidio_analyzer', 'spacy')\n"
        "print([m for m in sys.modules if m.startswith(heavy)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_base_modules_import_only_the_base():
    for path in _library():
        name = _module(path)
        if name not in BASE:
            continue
        inner = {i for i in _imports(path) if i.startswith("pipeline.")}
        above = {i for i in inner if not any(i == b or i.startswith(b + ".") for b in BASE)}
        assert not above, f"{name} (base layer) imports {sorted(above)}"


def test_only_stages_import_stages_and_the_library_imports_no_app():
    for path in _library():
        name = _module(path)
        for imp in _imports(path):
            assert not imp.startswith(("flows", "review", "tools", "tests")), (
                f"{name} imports {imp}"
            )
            if imp.startswith("pipeline.stages"):
                assert name.startswith("pipeline.stages"), f"{name} imports {imp}"


def test_flows_build_no_work_paths():
    folder = re.compile(r"""["']0\d_[a-z]+|STAGE_DIRS|\.stage\(""")
    for path in sorted((ROOT / "flows").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not folder.search(text), f"{path.name} builds a work path: leave it to the stages"


def test_base_settings_file_matches_the_defaults():
    """Defaults live in pipeline/config.py; the committed YAML only documents them."""
    from pipeline.config import BASE_CONFIG, Settings

    defaults = Settings().model_dump(mode="json")
    written = yaml.safe_load(BASE_CONFIG.read_text())
    for section, values in written.items():
        for key, value in (values or {}).items():
            assert defaults[section][key] == value, f"{section}.{key}: {value} in the YAML"


def test_offline_environment_is_forced():
    """A stray shell variable cannot turn a download or telemetry back on."""
    code = (
        "import os\nos.environ['HF_HUB_OFFLINE'] = '0'\n"
        "os.environ['TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS'] = 'https://example.org/list'\n"
        "import pipeline\n"
        "print(os.environ['HF_HUB_OFFLINE'], os.environ['ORT_DISABLE_TELEMETRY'],"
        " os.environ['DO_NOT_TRACK'], repr(os.environ['TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["1", "1", "1", "''"]
