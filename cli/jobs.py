"""`legami jobs partizioni|notte|deploy`: the nightly jobs partitioned by Ambito (flows/partitions.py, flows/night.py)."""
from __future__ import annotations

from datetime import date, datetime

import typer

from cli.common import ADMIN, JsonOpt, engine, print_json, run, say, table
from cli.italian import Typer

jobs_app = Typer(help="I lavori notturni per Ambito: partizioni, notte, work pool Prefect. " + ADMIN,
                 no_args_is_help=True)

DayOpt = typer.Option(None, "--giorno", help="Giorno (gg/mm/aaaa); predefinito: oggi (Europe/Rome).")


def _day(value: str | None) -> date:
    from domain.italian import ROME

    if not value:
        return datetime.now(ROME).date()
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise typer.BadParameter(f"giorno «{value}» non valido: scrivere gg/mm/aaaa", param_hint="--giorno") from None


@jobs_app.command("partizioni")
def jobs_partitions(giorno: str | None = DayOpt, as_json: bool = JsonOpt) -> None:
    """Le partizioni del giorno: lavoro, Ambito, stato, chi le ha prese, tentativi."""
    from flows.partitions import claims

    day = _day(giorno)
    rows = run(lambda: claims(engine(), day))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say(f"Nessuna partizione per il {day:%d/%m/%Y}.")
        return
    table(rows, [("lavoro", "lavoro"), ("partizione", "partizione"), ("stato", "stato"), ("di", "di"),
                 ("tentativi", "tentativi")])


@jobs_app.command("notte")
def jobs_night(giorno: str | None = DayOpt, as_json: bool = JsonOpt) -> None:
    """La notte in questo processo, partizione per partizione (senza Prefect); le partizioni già fatte si saltano."""
    from flows.partitions import run_night

    day = _day(giorno)
    rows = run(lambda: run_night(day, engine=engine()))
    if as_json:
        print_json(rows)
        return
    table([{k: r.get(k) for k in ("lavoro", "partizione", "stato")} for r in rows],
          [("lavoro", "lavoro"), ("partizione", "partizione"), ("stato", "stato")])


@jobs_app.command("deploy")
def jobs_deploy(pool: str | None = typer.Option(None, "--pool", help="Work pool (predefinito: LEGAMI_JOB_WORK_POOL)."),
                concurrency: int | None = typer.Option(None, "--concorrenza", min=1,
                                                       help="Flow run per Ambito insieme (LEGAMI_JOB_POOL_CONCURRENCY)."),
                as_json: bool = JsonOpt) -> None:
    """Crea il work pool (process) con il limite di concorrenza, le code e i deployment (PREFECT_API_URL)."""
    from config.settings import get_settings
    from flows.night import deploy

    settings = get_settings()
    result = run(lambda: deploy(pool=pool or settings.job_work_pool,
                                concurrency=concurrency or settings.job_pool_concurrency))
    if as_json:
        print_json(result)
        return
    say(f"Work pool «{result['pool']}» (limite {result['limite_pool']}), deployment: "
        f"{', '.join(result['deployment'])}; notte: {result['pianificazione']}.")
