"""The one `serve` entry point: every schedule, in Europe/Rome, declared here.

Embedded default: with no PREFECT_API_URL, a `prefect server start` (SQLite, scheduler on) runs as a managed
subprocess with its home under the data folder; the deployments are served against it and it stops on exit.
Production: point PREFECT_API_URL at a Prefect server on PostgreSQL and run `legami serve-flows` on a worker host.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from domain.italian import ROME

TIMEZONE = ROME.key

# (deployment name, flow attribute in flows.jobs, cron in Europe/Rome, what it does)
SCHEDULES = [
    ("giornata", "daily_flow", "0 7 * * *", "ogni giorno alle 07:00: scadenze, obblighi, invio"),
    ("invio-posta", "dispatch_flow", "*/15 7-19 * * 1-5", "ogni 15 minuti nei giorni feriali 07-19: invio"),
]


def schedules():
    from prefect.schedules import Cron

    return {name: Cron(cron, timezone=TIMEZONE) for name, _, cron, _ in SCHEDULES}


def deployments():
    from flows import jobs

    crons = schedules()
    return [getattr(jobs, attr).to_deployment(name=name, schedule=crons[name]) for name, attr, _, _ in SCHEDULES]


# Prefect's own analytics and banners stay off: no network call home, no English notice on an Italian console.
QUIET_PREFECT = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"}
STOP_SECONDS = 5.0  # how long a child gets to end after SIGTERM before it is killed


def serve_flows() -> None:
    from prefect import serve

    # not paused on shutdown: that would ask the server, which may be ending at the same moment (then the
    # child would wait on it); the deployments are served again, schedules active, at the next start
    serve(*deployments(), print_starting_message=False, pause_on_shutdown=False)


def _watch_parent(grace: float = STOP_SECONDS) -> None:
    """In the child: end at most `grace` seconds after the parent is gone (Prefect's own shutdown may wait
    on a server ending at the same moment); the kernel's SIGTERM (spawn) starts that shutdown."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        time.sleep(grace)
        os._exit(0)

    threading.Thread(target=watch, name="legami-parent-watch", daemon=True).start()


def schedule_lines() -> list[str]:
    """What the console says about the schedules, in Italian (instead of Prefect's banner)."""
    return [f"  {name}: {what}" for name, _, _, what in SCHEDULES]


# ------------------------------------------------------------------------------------ child processes
# A child started here dies with Legami even if Legami is killed with SIGKILL: on Linux the kernel sends it
# SIGTERM when its parent ends (prctl PR_SET_PDEATHSIG), and it runs in Legami's process group.

_PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the forked child only calls it
except (OSError, AttributeError):  # not Linux: children are still stopped on a clean exit
    _prctl = None


def _die_with(parent: int):
    def preexec() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent ended before the line above: end now
            os.kill(os.getpid(), signal.SIGTERM)
    return preexec


def spawn(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    """Start a child that ends when this process ends, however it ends."""
    return subprocess.Popen(args, env=env, preexec_fn=_die_with(os.getpid()), **kwargs)  # noqa: PLW1509


def stop(*processes: subprocess.Popen | None, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM to every child still running, then SIGKILL to those not ended after `timeout` seconds."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def flows_child(api_url: str, log: Path) -> subprocess.Popen:
    """Serve in a fresh interpreter whose Prefect settings see PREFECT_API_URL from the start (Prefect reads
    its settings at import: set later, serve() would also start its own temporary server, which never fires
    schedules). Its output goes to `log` (Prefect's English progress lines), not to the console."""
    env = {**os.environ, **QUIET_PREFECT, "PREFECT_API_URL": api_url, "LEGAMI_FLOWS_CHILD": "1"}
    with log.open("ab") as out:
        return spawn([sys.executable, "-m", "flows.serve"], env, stdout=out, stderr=subprocess.STDOUT)


def serve_in_child(api_url: str, log: Path) -> int:
    """`legami serve-flows`: the flows child in the foreground, until it ends or this process is stopped."""
    child = flows_child(api_url, log)
    try:
        return child.wait()
    finally:
        stop(child)


class BackgroundFlows:
    """The scheduled flows beside the web application (`legami serve`): a managed Prefect server and the
    serving child process, started in a thread so the web server is up at once; `stop()` ends both."""

    def __init__(self, home: Path, port: int = 0):
        import threading

        self.home = home
        self.port = port
        self.child: subprocess.Popen | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="legami-flows", daemon=True)

    def start(self) -> "BackgroundFlows":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with managed_prefect_server(self.home, port=self.port) as url:
                self.child = flows_child(url, self.home / "flows.log")
                while not self._stop.wait(1.0):
                    if self.child.poll() is not None:
                        self.error = f"il servizio delle attività pianificate è terminato ({self.child.returncode})"
                        return
        except Exception as exc:  # noqa: BLE001 - reported, the web application keeps running
            self.error = str(exc)
        finally:
            stop(self.child)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=4 * STOP_SECONDS)


def _port(wanted: int) -> int:
    """`wanted` if it is free (0: any free port); a taken port is refused in Italian, naming the setting."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", wanted))
        except OSError:
            raise RuntimeError(f"la porta {wanted} del server Prefect locale è già in uso: scegliere un'altra "
                               "porta con LEGAMI_PREFECT_PORT (0 = una porta libera qualsiasi)") from None
        return s.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"il server Prefect è terminato (codice {process.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"il server Prefect non risponde su {url} dopo {timeout:.0f} s")


@contextmanager
def managed_prefect_server(home: Path, *, port: int = 0, timeout: float = 90.0):
    """Start `prefect server start` on 127.0.0.1:`port` (0: a free one; SQLite in `home`), yield its API URL,
    stop it on exit (and, on Linux, with this process if it is killed)."""
    home.mkdir(parents=True, exist_ok=True)
    port = _port(port)
    env = {**os.environ, **QUIET_PREFECT, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    with (home / "server.log").open("ab") as log:
        process = spawn([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                         str(port)], env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, process, timeout)
        yield url
    finally:
        stop(process)


if __name__ == "__main__":  # the child started by flows_child, or a worker host in production
    if os.environ.get("LEGAMI_FLOWS_CHILD") == "1":
        _watch_parent()
    serve_flows()
