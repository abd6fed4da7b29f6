"""The one `serve` entry point: every schedule, in Europe/Rome, declared here.

Embedded default: with no PREFECT_API_URL, a `prefect server start` (SQLite, scheduler on) runs as a managed
subprocess with its home under the data folder; the deployments are served against it and it stops on exit.
Production: point PREFECT_API_URL at a Prefect server on PostgreSQL and run `legami serve-flows` on a worker host.
"""
from __future__ import annotations

import os
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


def serve_flows() -> None:
    from prefect import serve

    serve(*deployments())


def serve_in_child(api_url: str) -> int:
    """Serve in a fresh interpreter whose Prefect settings see PREFECT_API_URL from the start (Prefect reads
    its settings at import: set later, serve() would also start its own temporary server, which never fires
    schedules)."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.call([sys.executable, "-m", "flows.serve"], env=env)


class BackgroundFlows:
    """The scheduled flows beside the web application (`legami serve`): a managed Prefect server and the
    serving child process, started in a thread so the web server is up at once; `stop()` ends both."""

    def __init__(self, home: Path):
        import threading

        self.home = home
        self.child: subprocess.Popen | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="legami-flows", daemon=True)

    def start(self) -> "BackgroundFlows":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with managed_prefect_server(self.home) as url:
                env = {**os.environ, "PREFECT_API_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
                self.child = subprocess.Popen([sys.executable, "-m", "flows.serve"], env=env)
                while not self._stop.wait(1.0):
                    if self.child.poll() is not None:
                        self.error = f"il servizio delle attività pianificate è terminato ({self.child.returncode})"
                        return
        except Exception as exc:  # noqa: BLE001 - reported, the web application keeps running
            self.error = str(exc)
        finally:
            if self.child is not None and self.child.poll() is None:
                self.child.terminate()
                try:
                    self.child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.child.kill()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=40)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
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
def managed_prefect_server(home: Path, *, timeout: float = 90.0):
    """Start `prefect server start` on 127.0.0.1 (SQLite in `home`), set PREFECT_API_URL, stop it on exit."""
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


if __name__ == "__main__":  # the child started by serve_in_child, or a worker host in production
    serve_flows()
