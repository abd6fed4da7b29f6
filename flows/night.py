"""The night over a Prefect work pool: one flow run per Ambito (or per group of Ambiti), on any worker.

- `partizione` (deployment `legami-partizione/partizione`, work queue "partizioni"): runs flows.partitions'
  jobs for the Ambiti it is given; each (job, day, Ambito) is claimed in job_partition, so a run started twice, or on
  two workers at once, does the work once.
- `notte` (deployment `legami-notte/notte`, work queue "notte", the one schedule: Cron in Europe/Rome): fans out one
  `partizione` flow run per group with run_deployment(timeout=0), watches them, and submits again the group of a run
  that crashed or failed once its partitions' leases have expired (a worker killed mid-run); then the dispatch,
  once for the instance.
The work pool (process type) has a concurrency limit (LEGAMI_JOB_POOL_CONCURRENCY + 1 for the parent), its queue
"partizioni" the same limit without it. `legami jobs deploy` creates pool, queues and deployments; workers on any
machine run `prefect worker start --pool legami --type process` with Legami installed and its settings.
The embedded default (flows/serve.py: the whole instance in one flow, a managed server) is unchanged.
"""
from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timezone
from typing import Any

from prefect import flow, get_run_logger

from domain.italian import ROME
from flows import partitions

PARTITION_FLOW, NIGHT_FLOW = "legami-partizione", "legami-notte"
PARTITION_DEPLOYMENT, NIGHT_DEPLOYMENT = f"{PARTITION_FLOW}/partizione", f"{NIGHT_FLOW}/notte"
NIGHT_CRON = "30 1 * * *"  # every night at 01:30, Europe/Rome (declared here, once)
QUEUES = ("notte", "partizioni")
POLL_SECONDS = 2.0


def _day(day: str | None) -> date:
    return date.fromisoformat(day) if day else datetime.now(ROME).date()


@flow(name=PARTITION_FLOW)
def partition_flow(ambiti: list[str], day: str, jobs: list[str] | None = None) -> list[dict[str, Any]]:
    """The jobs (default: sweep, obligations, tallies) of a group of Ambiti for `day`, each partition claimed."""
    done = partitions.run_ambiti(ambiti, date.fromisoformat(day), tuple(jobs or partitions.PER_AMBITO))
    get_run_logger().info("partizioni %s", [(d["lavoro"], d["partizione"], d["stato"]) for d in done])
    return done


@flow(name=NIGHT_FLOW)
def night_flow(day: str | None = None, ambiti_per_run: int | None = None) -> dict[str, Any]:
    """Fan out the night's partitions over the work pool, retry a crashed group, then dispatch once."""
    from config.settings import get_settings
    from store.db import cached_engine

    settings = get_settings()
    engine = cached_engine(settings.database_url)
    as_of = _day(day)
    codes = partitions.ambiti(engine)
    size = ambiti_per_run or settings.job_ambiti_per_run
    groups = [codes[i:i + size] for i in range(0, len(codes), size)]
    runs = watch_groups(engine, groups, as_of)
    dispatch = partitions.run_partition("invio", partitions.WHOLE, as_of, engine=engine)
    summary = {"giorno": as_of.isoformat(), "gruppi": len(groups), "flow_run": runs, "invio": dispatch["stato"]}
    get_run_logger().info("notte %s", summary)
    return summary


def _submit(group: list[str], as_of: date) -> Any:
    from prefect.deployments import run_deployment

    return run_deployment(PARTITION_DEPLOYMENT, parameters={"ambiti": group, "day": as_of.isoformat()}, timeout=0)


def watch_groups(engine, groups: list[list[str]], as_of: date, *, poll: float = POLL_SECONDS,
                 give_up_after: float = 6 * 3600) -> int:
    """Run every group as a flow run and wait until all their partitions are done (or out of attempts). A group
    whose run ended while one of its partitions is not done is submitted again: at once if that partition failed
    or its lease expired, after the lease otherwise (a live worker still holds it). Returns the runs submitted."""
    from prefect import get_client

    active = {i: _submit(g, as_of) for i, g in enumerate(groups)}
    submitted, wait_until = len(active), {}
    deadline = time.monotonic() + give_up_after
    with get_client(sync_client=True) as client:
        while (active or wait_until) and time.monotonic() < deadline:
            time.sleep(poll)
            for i, run in list(active.items()):
                if client.read_flow_run(run.id).state.is_final():
                    del active[i]
                    wait_until[i] = 0.0
            now = datetime.now(timezone.utc)
            for i in [i for i, t in wait_until.items() if t <= time.time()]:
                rows = [partitions.store.one(engine, job, as_of, code) for code in groups[i]
                        for job in partitions.PER_AMBITO]
                missing = [r for r in rows if r is None or r.status != "done"]
                live = [r.lease_until for r in missing if r is not None and r.status == "running"
                        and r.lease_until is not None and _aware(r.lease_until) > now]
                if not missing or all(r is not None and r.status == "failed"
                                      and r.attempts >= partitions.MAX_ATTEMPTS for r in missing):
                    del wait_until[i]
                elif live:
                    wait_until[i] = max(_aware(t) for t in live).timestamp() + poll
                else:
                    del wait_until[i]
                    active[i] = _submit(groups[i], as_of)
                    submitted += 1
    return submitted


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def _pool(pool: str, concurrency: int, limits: dict[str, int]) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    async with get_client() as client:
        try:
            await client.create_work_pool(WorkPoolCreate(name=pool, type="process",
                                                         concurrency_limit=concurrency + 1))
        except ObjectAlreadyExists:
            await client.update_work_pool(pool, WorkPoolUpdate(concurrency_limit=concurrency + 1))
        for queue, limit in limits.items():
            try:
                found = await client.read_work_queue_by_name(queue, work_pool_name=pool)
                await client.update_work_queue(found.id, concurrency_limit=limit)
            except ObjectNotFound:
                await client.create_work_queue(name=queue, work_pool_name=pool, concurrency_limit=limit)


def deploy(*, pool: str, concurrency: int) -> dict[str, Any]:
    """Create (or update) the process work pool with its concurrency limit, its two queues and the two
    deployments; the night's schedule, Cron in Europe/Rome, is on `notte` only. Needs PREFECT_API_URL."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    limits = {"notte": 1, "partizioni": concurrency}
    asyncio.run(_pool(pool, concurrency, limits))
    ids = {}
    for fn, name, queue, schedule in ((partition_flow, "partizione", "partizioni", None),
                                      (night_flow, "notte", "notte", Cron(NIGHT_CRON, timezone=ROME.key))):
        deployment = fn.to_deployment(name=name, work_pool_name=pool, work_queue_name=queue,
                                      entrypoint_type=EntrypointType.MODULE_PATH,
                                      schedule=schedule)
        ids[f"{fn.name}/{name}"] = str(deployment.apply())
    return {"pool": pool, "tipo": "process", "limite_pool": concurrency + 1, "code": limits, "deployment": ids,
            "pianificazione": f"{NIGHT_CRON} ({ROME.key})"}
