"""The command line as an RA runs it: offline, killed and resumed, against a server.

Each test starts ``qscribe`` in a fresh process with its own PREFECT_HOME, so
Prefect runs in its real ephemeral mode (or against a real server) and what it
stores can be inspected afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.slow


def qscribe(
    config: Path, *args: str, env: dict | None = None, net: list[str] | None = None, **kw
) -> subprocess.CompletedProcess:
    cmd = [*(net or []), sys.executable, "-m", "flows.cli", "--config", str(config), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, **kw)


def no_network_prefix() -> list[str]:
    """Run in a new network namespace with only loopback up (Prefect's local API uses it)."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed to prove the pipeline runs offline")
    for flags in (["-n"], ["-rn"]):
        probe = subprocess.run(["unshare", *flags, "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", *flags, "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"]
    pytest.skip("this machine does not allow network namespaces (unshare -n)")


def phrases(text: str, n: int = 3) -> set[str]:
    words = re.findall(r"[a-z']+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def files_containing(folder: Path, needles: set[str]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for p in folder.rglob("*"):
        if p.is_file():
            blob = p.read_bytes().lower()
            found = [n for n in needles if n.encode() in blob]
            if found:
                hits[str(p)] = found[:3]
    return hits


#: Each run's key gives its session a random export id: the one thing two runs differ in.
EXPORT_ID = re.compile(rb'"export_id": "[0-9a-f]+"')


def all_files(*folders: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(f)): EXPORT_ID.sub(b'"export_id": ""', p.read_bytes())
        for f in folders
        for p in sorted(f.rglob("*"))
        if p.is_file()
    }


def test_offline_run_keeps_text_out_of_prefect_and_telemetry(tmp_path, conversation, models_dir):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(conversation[0], incoming / "focus-group-3.wav")
    (incoming / "broken.m4a").write_bytes(os.urandom(2048))
    prefect_home = tmp_path / "prefect"
    config = write_config(tmp_path, models_dir, prefect_home=prefect_home)
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the pipeline must set it itself
    env.pop("PREFECT_HOME", None)
    out = tmp_path / "out"

    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "fg3.yaml").write_text(MANIFEST)

    proc = qscribe(
        config,
        "transcribe",
        str(incoming),
        "--out",
        str(out),
        "--session",
        str(manifests),
        env=env,
        net=no_network_prefix(),
    )
    assert proc.returncode == 1, proc.stderr[-3000:]  # one file failed, the batch finished
    assert "focus-group-3.wav" in proc.stdout and "done" in proc.stdout
    failure = [line for line in proc.stdout.splitlines() if line.startswith("broken.m4a")]
    assert len(failure) == 1 and "cannot be decoded" in failure[0]

    # The de-identified outputs: labels instead of names, nothing identifying anywhere.
    txt = (out / "fg-3" / "transcript.txt").read_text()
    assert "[FACILITATOR]" in txt and "[MEMBER-" in txt and "[PHONE]" in txt
    for path in (out / "fg-3").iterdir():
        text = path.read_text().lower()
        for name in ("dana", "whitfield", "rosa", "delgado", "becker", "riverside"):
            assert name not in text, (path.name, name)
        assert not re.search(r"5\D?5\D?5\D?0\D?1\D?4\D?2|five five five", text), path.name
    identified = json.loads(
        (tmp_path / "work" / "fg-3" / "04_roles" / "transcript.json").read_text()
    )
    assert "Delgado" in json.dumps(identified) or "Whitfield" in json.dumps(identified)
    spoken = phrases(" ".join(s["text"] for s in identified["segments"]))
    assert len(spoken) > 20

    # Prefect's home (database, logs, settings) holds none of the transcript.
    assert prefect_home.is_dir() and any(prefect_home.iterdir())
    assert files_containing(prefect_home, spoken) == {}
    # Nor do the run logs or what was printed.
    assert files_containing(tmp_path / "logs", spoken) == {}
    assert not any(p in (proc.stdout + proc.stderr).lower() for p in spoken)
    # onnxruntime's telemetry store was never created (its VAD session ran).
    assert not (home / ".cache" / "Microsoft").exists()

    # The restricted work area: 0700 folders, 0600 files.
    work = tmp_path / "work"
    for p in [work, *work.rglob("*")]:
        want = 0o700 if p.is_dir() else 0o600
        assert p.stat().st_mode & 0o777 == want, p


MANIFEST = """
session_id: fg-3
kind: member_focus_group
recording: focus-group-3.wav
people:
  - {id: F01, name: Dana Whitfield, role: facilitator}
  - {id: M01, name: Rosa Delgado, role: member}
  - {id: M02, name: Tom Becker, role: member}
places: [Riverside Diner]
"""


@pytest.fixture(scope="module")
def call(tmp_path_factory, espeak):
    """A two-voice phone call of about 30 s (long enough for several ASR pieces)."""
    from tests.conftest import CONVERSATION
    from tests.support.synth import VOICE_BANK, Voice, render, write_audio

    voices = {k: Voice(**VOICE_BANK[3 + i]) for i, k in enumerate("ABC")}
    r = render([*CONVERSATION[::-1], *CONVERSATION[1:3]], voices)
    return write_audio(tmp_path_factory.mktemp("call") / "call.wav", r.audio, r.sample_rate)


def test_killed_batch_resumes_to_identical_outputs(tmp_path, conversation, call, models_dir):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    shutil.copy(call, incoming / "a-call.wav")
    shutil.copy(conversation[0], incoming / "b-group.wav")

    def setup(name):
        root = tmp_path / name
        return write_config(
            root, models_dir, prefect_home=root / "prefect", chunk_minutes=0.15
        ), root

    ref_cfg, ref_root = setup("uninterrupted")
    done = qscribe(ref_cfg, "transcribe", str(incoming), "--out", str(ref_root / "out"), "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]

    cfg, root = setup("killed")
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "--config",
        str(cfg),
        "transcribe",
        str(incoming),
        "--out",
        str(root / "out"),
        "--quiet",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if list((root / "work").glob("a-call/02_asr/chunks/*.json")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # like a power cut: no cleanup runs
        proc.wait()
    assert not (root / "out" / "b-group").exists()

    again = qscribe(cfg, "transcribe", str(incoming), "--out", str(root / "out"), "--quiet")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resumed" in again.stdout
    assert all_files(root / "out") == all_files(ref_root / "out")
    leftovers = [p for p in root.rglob("*") if ".tmp-" in p.name]
    assert leftovers == []


def test_runs_against_a_running_prefect_server(tmp_path, clips, models_dir):
    from flows.server import local_server

    server_home = tmp_path / "server-home"
    env = {**os.environ, "PREFECT_HOME": str(server_home)}
    with local_server(env=env) as api:
        incoming = tmp_path / "in"
        incoming.mkdir()
        shutil.copy(clips["speech"], incoming / "jfk.wav")
        config = write_config(tmp_path, models_dir, prefect_home=tmp_path / "client-home")
        proc = qscribe(
            config,
            "transcribe",
            str(incoming),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            env={**os.environ, "PREFECT_API_URL": api},
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        req = urllib.request.Request(
            f"{api}/flow_runs/filter",
            data=b"{}",
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        runs = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert [r["state_type"] for r in runs] == ["COMPLETED"]
        spoken = phrases((tmp_path / "out" / "jfk" / "transcript.txt").read_text())
        assert files_containing(server_home, spoken) == {}
