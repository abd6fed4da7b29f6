"""`legami serve-flows` and `legami serve` stop within seconds on SIGTERM and leave no process behind, even when
they are killed outright (SIGKILL); the console speaks Italian, with no Prefect banner or dead link."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the children's end is checked through /proc")

ENGLISH_BANNER = ("Your deployments", "prefect deployment run", "Prefect UI", "http://127.0.0.1:4200",
                  "Uvicorn running", "Started server process")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended: only its exit status waits to be collected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "LEGAMI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "LEGAMI_PREFECT_PORT": "0",
           "LEGAMI_PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], env=env, cwd=os.getcwd(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_children(process: subprocess.Popen, count: int, timeout: float = 180) -> list[int]:
    """The command's Prefect server and flows child, once both run (their start is slow on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = [pid for pid in _children(process.pid) if _alive(pid)]
        if len(kids) >= count and (Path(f"/proc/{process.pid}").exists()):
            flows = [pid for pid in kids if b"flows.serve" in Path(f"/proc/{pid}/cmdline").read_bytes()]
            if flows:
                return kids
        if process.poll() is not None:
            pytest.fail(f"the command ended early: {process.stdout.read()}")
        time.sleep(0.5)
    pytest.fail("the Prefect server and the flows child did not start")


def _all_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    return [pid for pid in pids if _alive(pid)]


def test_serve_flows_stops_within_seconds_on_sigterm_with_its_children_and_speaks_italian(tmp_path):
    process = _start(["serve-flows"], tmp_path)
    try:
        children = _wait_for_children(process, 2)
        time.sleep(3)  # let the flows child print whatever it prints at start
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read()
    assert process.returncode == 0, output
    assert took < 15, took
    assert _all_gone(children, 5) == []
    assert "Attività pianificate" in output and "giornata" in output and "Arresto." in output
    assert not [phrase for phrase in ENGLISH_BANNER if phrase in output], output


def test_serve_killed_outright_takes_its_prefect_server_and_flows_child_with_it(tmp_path):
    process = _start(["serve", "--host", "127.0.0.1", "--port", str(_free_port())], tmp_path)
    try:
        children = _wait_for_children(process, 2)
        process.kill()  # SIGKILL: no cleanup of its own can run
        process.wait(timeout=10)
        assert _all_gone(children, 20) == [], "orphans left behind"
    finally:
        if process.poll() is None:
            process.kill()


def test_a_taken_prefect_port_is_refused_in_italian_naming_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "LEGAMI_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
               "LEGAMI_PREFECT_PORT": str(port), "LEGAMI_PREFECT_HOME": str(tmp_path / "prefect")}
        env.pop("PREFECT_API_URL", None)
        result = subprocess.run([sys.executable, "-m", "cli.main", "serve-flows"], env=env, cwd=os.getcwd(),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"la porta {port}" in result.stdout + result.stderr
    assert "LEGAMI_PREFECT_PORT" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
