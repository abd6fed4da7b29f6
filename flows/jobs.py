"""Prefect flows: thin, set-based, idempotent, each with an explicit as-of date.

Every flow builds its engine from the settings, calls one service and returns its summary. No flow or task
runs per case or per e-mail: the services select in SQL and process in batches.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow, get_run_logger, task

from config.settings import get_settings
from domain.italian import ROME


def today_in_rome() -> date:
    return datetime.now(ROME).date()


def _engine():
    from store.db import cached_engine

    return cached_engine(get_settings().database_url)


@task(name="scadenze", retries=2, retry_delay_seconds=30)
def sweep_deadlines(as_of: date) -> dict[str, Any]:
    from services.sweep import run_deadline_sweep

    return run_deadline_sweep(_engine(), as_of=as_of).as_dict()


@task(name="obblighi", retries=2, retry_delay_seconds=30)
def check_obligations(as_of: date) -> dict[str, Any]:
    from services.obligations import run_obligations_check

    return run_obligations_check(_engine(), as_of=as_of).as_dict()


@task(name="invio", retries=1, retry_delay_seconds=60)
def send_outbox() -> dict[str, Any]:
    from notifications.dispatch import dispatch_from_settings

    return dispatch_from_settings(_engine(), get_settings()).as_dict()


@task(name="conteggi", retries=1, retry_delay_seconds=60)
def materialise_tallies(as_of: date) -> dict[str, Any]:
    from services.tallies import materialise

    body = materialise(_engine(), as_of=as_of)
    return {"al": as_of.isoformat(), "ripartizioni": sorted(body)}


@task(name="checkpoint-registro", retries=1, retry_delay_seconds=60)
def audit_checkpoint() -> dict[str, Any]:
    from services.audit import audit_key, daily_checkpoint

    settings = get_settings()
    return daily_checkpoint(_engine(), audit_dir=settings.audit_dir, key=audit_key(settings.secret_key))


@flow(name="conteggi")
def tallies_flow(as_of: date | None = None) -> dict[str, Any]:
    """Materialise the day's indicators (reading them is then instant; any past day can be recomputed)."""
    return materialise_tallies(as_of or today_in_rome())


@flow(name="scadenze-giornaliere", log_prints=False)
def deadline_sweep_flow(as_of: date | None = None) -> dict[str, Any]:
    """Automatic steps due, T-n reminders, escalations of overdue deadlines: queued as daily digests."""
    result = sweep_deadlines(as_of or today_in_rome())
    get_run_logger().info("sweep %s", result)
    return result


@flow(name="obblighi-distretto")
def obligations_flow(as_of: date | None = None) -> dict[str, Any]:
    """District obligations: reminders on their lead dates, escalations after, silence once met."""
    result = check_obligations(as_of or today_in_rome())
    get_run_logger().info("obligations %s", {k: v for k, v in result.items() if k != "obblighi"})
    return result


@flow(name="invio-posta")
def dispatch_flow() -> dict[str, Any]:
    """Send what the outbox holds (SMTP, or .eml files on the embedded default without SMTP)."""
    result = send_outbox()
    get_run_logger().info("dispatch %s", result)
    return result


@flow(name="giornata")
def daily_flow(as_of: date | None = None) -> dict[str, Any]:
    """The morning run: the audit checkpoint, sweep, obligations, dispatch of what they queued, then the day's
    tallies."""
    day = as_of or today_in_rome()
    return {"registro": audit_checkpoint(), "scadenze": sweep_deadlines(day), "obblighi": check_obligations(day),
            "invio": send_outbox(), "conteggi": materialise_tallies(day)}
