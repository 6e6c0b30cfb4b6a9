"""A lab server as an admin runs it: a schedule over an incoming folder, a Dask cluster."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.slow


def config(tmp_path, models_dir, **extra):
    """Every zone under ``tmp_path`` (Prefect's home too); no diarization (not tested here)."""
    extra = {"diarization": {"enabled": False}, **extra}
    return write_config(tmp_path, models_dir, tmp_path / "prefect", extra)


def batches(logs):
    path = logs / "audit.jsonl"
    if not path.is_file():
        return []
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["event"] == "batch"]


def wait_for(check, timeout, proc):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        assert proc.poll() is None, "qscribe serve exited"
        time.sleep(1)
    return False


def test_schedule_picks_up_a_dropped_file_once(tmp_path, models_dir, clips):
    incoming, out = tmp_path / "incoming", tmp_path / "out"
    incoming.mkdir()
    cfg = config(tmp_path, models_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    cmd = [sys.executable, "-m", "flows.cli", "--config", str(cfg), "serve"]
    cmd += ["--in", str(incoming), "--out", str(out), "--interval", "5", "--timezone", "UTC"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    logs = tmp_path / "logs"
    try:
        # An empty incoming folder is a tick with nothing to do, not a failure.
        assert wait_for(lambda: batches(logs), 300, proc), "no scheduled run happened"
        assert batches(logs)[-1]["recordings"] == 0
        shutil.copy(clips["bowling"], incoming / "REC_20240314_101512.wav")
        done = out / "rec" / "transcript.txt"
        assert wait_for(done.is_file, 300, proc), "the dropped file was not transcribed"
        written = done.stat().st_mtime_ns
        seen = len(batches(logs))
        assert wait_for(lambda: len(batches(logs)) >= seen + 2, 120, proc)
        last = batches(logs)[-1]
        assert last["recordings"] == 1 and last["already_done"] == 1 and last["failed"] == 0
        assert done.stat().st_mtime_ns == written, "a tick with nothing new wrote again"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_dask_cluster_at_an_address_runs_a_batch(tmp_path, models_dir, clips, prefect_harness):
    from distributed import LocalCluster

    from flows.env import run_options
    from flows.transcribe import run

    incoming = tmp_path / "in"
    incoming.mkdir()
    for name, path in clips.items():
        shutil.copy(path, incoming / f"{name}.wav")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        opts = run_options(
            config(tmp_path, models_dir),
            {"runner": {"kind": "dask", "dask_address": cluster.scheduler_address}},
        )
        rows = run(str(incoming), str(tmp_path / "out"), opts, show_progress=False)
    assert {r["status"] for r in rows} == {"done"}, rows
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(clips)
