"""The Prefect flows under prefect_test_harness, and the schedules through their Cron definitions."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from config.settings import get_settings
from domain.italian import ROME
from store.db import cached_engine
from store.tables import outbox_t

from .patto_steps import open_patto


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory):
    import os

    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def configured(db_url, engine, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    monkeypatch.setenv("LEGAMI_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("LEGAMI_SMTP_HOST", raising=False)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    yield engine
    get_settings.cache_clear()
    cached_engine.cache_clear()


def test_the_deadline_sweep_flow_queues_digests_once_per_day(prefect_harness, configured, service):
    from flows.jobs import deadline_sweep_flow

    open_patto(service, service.actor("as.rossi"))  # referral 12/01/2026: taken in by 26/01
    first = deadline_sweep_flow(as_of=date(2026, 1, 19))
    again = deadline_sweep_flow(as_of=date(2026, 1, 19))
    assert (first["promemoria"], again["promemoria"]) == (1, 0)
    later = deadline_sweep_flow(as_of=date(2026, 1, 27))
    assert later["escalation"] == 1
    with configured.connect() as conn:
        keys = conn.execute(sa.select(outbox_t.c.idempotency_key).order_by(outbox_t.c.id)).scalars().all()
    assert keys == ["digest:coord.crema:2026-01-19", "digest:coord.crema:2026-01-27"]


def test_the_obligations_flow_takes_an_explicit_as_of_date(prefect_harness, configured):
    from flows.jobs import obligations_flow

    result = obligations_flow(as_of=date(2026, 8, 1))
    housing = [o for o in result["obblighi"] if o["codice"] == "misura_abitativa_30_09"]
    assert housing and housing[0]["passi_di_oggi"] == ["T-60"]
    assert result["accodati"] > 0
    assert obligations_flow(as_of=date(2026, 8, 1))["accodati"] == 0


def next_runs(name: str, start: datetime, n: int) -> list[datetime]:
    from prefect.server.schemas.schedules import CronSchedule

    from flows.serve import schedules

    cron = schedules()[name]
    dates = asyncio.run(CronSchedule(cron=cron.cron, timezone=cron.timezone).get_dates(n=n, start=start))
    return [datetime.fromisoformat(d.isoformat()) for d in dates]


def test_the_morning_run_stays_at_seven_in_rome_across_the_dst_change():
    runs = next_runs("giornata", datetime(2027, 3, 26, 12, tzinfo=timezone.utc), 4)
    assert [r.astimezone(ROME).strftime("%d/%m %H:%M") for r in runs] == [
        "27/03 07:00", "28/03 07:00", "29/03 07:00", "30/03 07:00"]
    assert [r.astimezone(timezone.utc).hour for r in runs] == [6, 5, 5, 5]  # CET then CEST
    autumn = next_runs("giornata", datetime(2026, 10, 23, 12, tzinfo=timezone.utc), 2)  # 24/10 CEST, 25/10 CET
    assert [r.astimezone(timezone.utc).hour for r in autumn] == [5, 6]


def test_dispatch_runs_every_quarter_hour_on_working_hours_only():
    runs = next_runs("invio-posta", datetime(2026, 11, 20, 17, 50, tzinfo=timezone.utc), 3)  # Friday 18:50 Rome
    assert [r.astimezone(ROME).strftime("%a %H:%M") for r in runs] == ["Fri 19:00", "Fri 19:15", "Fri 19:30"]
    monday = next_runs("invio-posta", datetime(2026, 11, 20, 19, 0, tzinfo=timezone.utc), 1)[0].astimezone(ROME)
    assert monday.strftime("%a %d/%m %H:%M") == "Mon 23/11 07:00"


def test_every_schedule_is_declared_in_the_one_serve_entry_point():
    from flows.serve import SCHEDULES, deployments

    built = deployments()
    assert [d.name for d in built] == [name for name, *_ in SCHEDULES]
    assert all(d.schedules[0].schedule.timezone == "Europe/Rome" for d in built)


def test_the_tallies_flow_stores_the_snapshot_of_its_day(prefect_harness, configured, service):
    from flows.jobs import tallies_flow
    from services.tallies import compute_tallies, read_snapshot

    open_patto(service, service.actor("as.rossi"))
    assert tallies_flow(as_of=date(2026, 11, 20)) == {"al": "2026-11-20", "ripartizioni": ["comune", "sub_ambito",
                                                                                           "type"]}
    stored = read_snapshot(configured, as_of=date(2026, 11, 20))
    fresh = compute_tallies(configured, year=2026, as_of=date(2026, 11, 20), by="comune")
    assert stored["comune"]["indicatori"] == fresh["indicatori"]


def test_the_dispatch_flow_keeps_mail_as_eml_files_when_no_smtp_is_configured(prefect_harness, configured,
                                                                              service, tmp_path):
    import email

    from flows.jobs import deadline_sweep_flow, dispatch_flow

    open_patto(service, service.actor("as.rossi"))
    deadline_sweep_flow(as_of=date(2026, 1, 19))
    assert dispatch_flow()["sent"] == 1
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes())
    assert message["To"] == "coord.crema@example.org"
    assert "19/01/2026" in message["Subject"]
    assert dispatch_flow()["sent"] == 0  # sent once
    with configured.connect() as conn:
        assert conn.execute(sa.select(outbox_t.c.status)).scalars().all() == ["sent"]
