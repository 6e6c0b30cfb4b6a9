"""A local Prefect server for the lab (loopback only), started without importing Prefect.

Prefect's temporary server runs no scheduler, so schedules need a real server:
``qscribe server`` runs one in the foreground, and ``qscribe serve`` starts one for as
long as it runs when ``PREFECT_API_URL`` names none.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from pipeline.errors import PipelineError

DEFAULT_PORT = 4200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]


def wait_until_up(api: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> None:
    """Wait for ``api``/health (a first start creates the database: slow machines take a while)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PipelineError(
                f"the Prefect server stopped at start (exit code {proc.returncode}).",
                hint="Is another server using the port? Try --port, or set PREFECT_API_URL.",
            )
        try:
            urllib.request.urlopen(f"{api}/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise PipelineError(f"the Prefect server did not answer within {timeout:.0f} s.")


@contextlib.contextmanager
def local_server(
    host: str = "127.0.0.1", port: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A Prefect server in a child process while the block runs; yields its API URL
    (``env``: the child's environment, this process's by default)."""
    port = port or free_port()
    env = {**(env if env is not None else os.environ), "PREFECT_UI_ENABLED": "false"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    proc = subprocess.Popen(
        command(host, port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://{host}:{port}/api"
    try:
        wait_until_up(api, proc)
        yield api
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def run_foreground(host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> int:
    """``qscribe server``: the server until Ctrl-C (the environment is already prepared)."""
    print(
        f"Prefect server on http://{host}:{port} (home {os.environ.get('PREFECT_HOME')}); "
        f"point commands at it with PREFECT_API_URL=http://{host}:{port}/api"
    )
    os.execv(sys.executable, command(host, port))
    return 0  # not reached
