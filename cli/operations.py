"""Running the district: setup, demo data, policies, the deadline sweep, obligations, the outbox, the servers.

These are administrative commands: they act as the system on the whole district's data, with no --actor
(except `obligations mark-met`, which records who declared the obligation met).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.common import (ADMIN, JsonOpt, as_of, case_service, engine, fail, first, print_json, run, say,
                        table)
from cli.italian import Typer, file_error
from cli.words import DEMO_KEYS, DISPATCH_KEYS, LOGIN_KEYS, outbox_row, outbox_state, renamed
from config.settings import get_settings

commands = Typer()
policy_app = Typer(help="Versioni della politica (importi, soglie, termini).", no_args_is_help=True)
obligations_app = Typer(help="Obblighi del distretto.", no_args_is_help=True)
outbox_app = Typer(help="Posta in uscita.", no_args_is_help=True)


# ------------------------------------------------------------------------------------ setup


@commands.command(help=f"Crea o aggiorna il database (migrazioni) e carica distretto e politiche. {ADMIN}")
def init(
    district: Optional[Path] = typer.Option(None, help="Cartella dei dati di un altro Ambito."),
    as_json: bool = JsonOpt,
) -> None:
    from services.setup import init_database

    settings = get_settings()

    def go():
        d = init_database(settings.database_url, engine(), district_path=district or settings.district_path,
                          policies_path=settings.policies_path)
        return {
            "ambito": d.name, "comuni": len(d.comuni), "sub_ambiti": [s.nome for s in d.sub_ambiti],
            "enti_accreditati": len(d.providers), "sub_ambiti_provvisori": d.sub_ambiti_provisional,
        }

    result = run(go)
    if as_json:
        print_json(result)
        return
    say(f"{result['ambito']}: {result['comuni']} comuni, {len(result['sub_ambiti'])} sub-ambiti "
               f"({', '.join(result['sub_ambiti'])}), {result['enti_accreditati']} enti accreditati.")
    if result["sub_ambiti_provvisori"]:
        say("Attenzione: l'assegnazione dei comuni ai sub-ambiti è PROVVISORIA (vedi comuni.csv).")


@commands.command("demo-data", help="Genera persone sintetiche (codici fiscali validi) e un anno realistico di "
                                    f"casi di ogni tipo dichiarato. {ADMIN}")
def demo_data(
    year: int = typer.Option(2026, "--anno"),
    seed: int = typer.Option(7, "--seme"),
    scale: float = typer.Option(1.0, "--scala", help="1.0 = un anno dell'Ambito Cremasco (DOMAIN.md §10)."),
    as_json: bool = JsonOpt,
) -> None:
    from services.demo import generate_demo

    summary = run(lambda: generate_demo(engine(), year=year, seed=seed, scale=scale))
    if as_json:
        print_json(renamed(summary, DEMO_KEYS, nested=True))
        return
    _print_demo_summary(summary)


def _print_demo_summary(summary: dict) -> None:
    say(f"Dati dimostrativi {summary['year']}: {summary['cases_total']} casi, {summary['transitions']} "
               f"passi registrati, {summary['people']} persone sintetiche ({summary['elapsed_seconds']:.1f} s).")


@commands.command(help="Prepara un Ambito dimostrativo (SQLite se non configurato) e mostra i casi per tipo e "
                       f"stato. {ADMIN}")
def demo(as_json: bool = JsonOpt) -> None:
    from services.demo import generate_demo
    from services.demo_access import demo_logins
    from services.queries import summary_by_type_and_state
    from services.setup import init_database

    settings = get_settings()
    init_database(settings.database_url, engine(), district_path=settings.district_path,
                  policies_path=settings.policies_path)
    summary = None
    if not summary_by_type_and_state(engine()):
        summary = run(lambda: generate_demo(engine()))
    rows = summary_by_type_and_state(engine())
    logins = run(lambda: demo_logins(engine(), environment=settings.environment))
    if as_json:
        print_json({"generazione": renamed(summary, DEMO_KEYS, nested=True) if summary else None, "casi": rows,
                    "credenziali": [renamed(vars(x), LOGIN_KEYS) for x in logins]})
        return
    say(f"Database: {settings.database_url}")
    if summary:
        _print_demo_summary(summary)
    else:
        say("Il database contiene già dei casi: nessun dato generato.")
    say("\nCasi per tipo e stato:")
    table(rows, [("tipo_etichetta", "tipo"), ("stato_etichetta", "stato"), ("stato", "codice"), ("casi", "casi")])
    _print_demo_logins(logins)
    who = next((x.username for x in logins if x.role == "subarea_coordinator"), "<utente>")
    say("\nAvvia l'applicazione web e le attività pianificate: legami serve  (poi http://127.0.0.1:8000)")
    say(f"Dalla riga di comando: legami case list --actor {who} --tipo patto --in-ritardo · "
               f"legami case show 1 --actor {who} · legami sweep · legami workflow show patto")


def _print_demo_logins(logins) -> None:
    say("\nCredenziali dimostrative (solo dati sintetici):")
    table([vars(x) for x in logins], [("role_label", "ruolo"), ("username", "utente"), ("password", "password"),
                                      ("scope", "ambito")])


@policy_app.command("load", help=f"Carica una nuova versione della politica (i casi aperti mantengono la propria). "
                                 f"{ADMIN}")
def policy_load(path: Path = typer.Argument(..., metavar="FILE", help="File .toml della politica."),
                as_json: bool = JsonOpt) -> None:
    from config.policy_files import load_policy_file
    from services.setup import load_policy

    try:
        policy = load_policy_file(path)
    except OSError as exc:
        fail(file_error(exc))
    except ValueError as exc:
        fail(str(exc))
    with engine().begin() as conn:
        added = load_policy(conn, policy)
    result = {"versione": policy.version, "in_vigore_dal": policy.valid_from.isoformat(), "caricata": added}
    if as_json:
        print_json(result)
    else:
        say(f"Politica {policy.version} dal {policy.valid_from:%d/%m/%Y}: "
                   + ("caricata." if added else "già presente, non modificata."))


# ------------------------------------------------------------------------------------ deadlines and obligations


@commands.command(help="Scansione delle scadenze: passi automatici, promemoria, escalation (idempotente per "
                       f"giorno). {ADMIN}")
def sweep(
    when: Optional[str] = typer.Option(None, "--as-of", metavar="DATA",
                                       help="Giorno della scansione (gg/mm/aaaa); oggi se omesso."),
    as_json: bool = JsonOpt,
) -> None:
    from services.sweep import run_deadline_sweep

    day = as_of(when)
    result = run(lambda: run_deadline_sweep(engine(), as_of=day)).as_dict()
    if as_json:
        print_json(result)
        return
    say(f"Scansione al {day:%d/%m/%Y}: {result['transizioni_automatiche']} passi automatici, "
               f"{result['promemoria']} promemoria, {result['escalation']} escalation accodati.")
    for r in result["automatiche_rifiutate"]:
        say(f"  caso {r['caso']}: {r['transizione']} non eseguita: {r['motivo']}")


@obligations_app.command("list")
def obligations_list(
    when: Optional[str] = typer.Option(None, "--as-of", metavar="DATA"),
    as_json: bool = JsonOpt,
) -> None:
    """Obblighi in corso: scadenza, ambiti ancora in sospeso, promemoria di oggi."""
    from services.obligations import obligation_overview

    rows = obligation_overview(engine(), as_of=as_of(when))
    if as_json:
        print_json(rows)
        return
    table([{**r, "in_sospeso": first([p["ambito"] for p in r["in_sospeso"]])} for r in rows],
          [("scadenza", "scadenza"), ("etichetta", "obbligo"), ("periodo", "periodo"), ("adempiuto", "adempiuto"),
           ("in_sospeso", "in sospeso"), ("passi_di_oggi", "promemoria di oggi")])


@obligations_app.command("check", help=f"Accoda i promemoria e le escalation degli obblighi (idempotente per giorno). "
                                       f"{ADMIN}")
def obligations_check(when: Optional[str] = typer.Option(None, "--as-of", metavar="DATA"),
                      as_json: bool = JsonOpt) -> None:
    from services.obligations import run_obligations_check

    result = run(lambda: run_obligations_check(engine(), as_of=as_of(when)).as_dict())
    day = as_of(when)
    if as_json:
        print_json(result)
    else:
        say(f"Obblighi al {day:%d/%m/%Y}: {result['accodati']} voci accodate.")


@obligations_app.command("mark-met")
def obligations_mark_met(
    code: str = typer.Argument(..., metavar="CODICE", help="Codice dell'obbligo (vedi «legami obligations list»)."),
    period: str = typer.Option(..., "--periodo", help="Es. 2026 o 2026-10."),
    scope: str = typer.Option(..., "--ambito", help="Es. il sub-ambito (Crema) o ente:ENTE03."),
    reason: str = typer.Option(..., "--motivo"),
    actor: str = typer.Option(..., "--actor"),
    on: Optional[str] = typer.Option(None, "--il", metavar="DATA", help="Giorno dell'adempimento; oggi se omesso."),
) -> None:
    """Dichiara adempiuto un obbligo (con motivo; resta registrato chi e quando)."""
    from services.obligations import mark_met

    svc = case_service()
    run(lambda: mark_met(engine(), code=code, period=period, scope_key=scope, actor=svc.actor(actor),
                         reason=reason, met_on=as_of(on, "--il")))
    say(f"Obbligo {code} ({period}, {scope}) registrato come adempiuto.")


# ------------------------------------------------------------------------------------ outbox


@outbox_app.command("list", help=f"Messaggi in uscita. {ADMIN}")
def outbox_list(
    status: Optional[str] = typer.Option(None, "--stato", help="in_coda | in_invio | inviato | fallito"),
    limit: int = typer.Option(50, "--limite"),
    as_json: bool = JsonOpt,
) -> None:
    from notifications.dispatch import list_outbox

    stored = run(lambda: outbox_state(status))
    rows = [outbox_row(r) for r in list_outbox(engine(), status=stored, limit=limit)]
    if as_json:
        print_json(rows)
        return
    table(rows, [("id", "id"), ("modello", "modello"), ("destinatario", "destinatario"), ("stato", "stato"),
                 ("tentativi", "tentativi"), ("prossimo_tentativo_il", "prossimo tentativo"),
                 ("ultimo_errore", "ultimo errore")])


@outbox_app.command("send", help="Invia la posta in coda (SMTP se configurato, altrimenti file .eml in "
                                 f"LEGAMI_OUTBOX_DIR). {ADMIN}")
def outbox_send(as_json: bool = JsonOpt) -> None:
    from notifications.dispatch import dispatch_from_settings

    result = renamed(dispatch_from_settings(engine(), get_settings()).as_dict(), DISPATCH_KEYS)
    if as_json:
        print_json(result)
        return
    say(f"Inviati {result['inviati']}, da ritentare {result['da_ritentare']}, falliti {result['falliti']}, "
               f"con destinatari rifiutati {result['con_destinatari_rifiutati']}.")
    if result["errore"]:
        say(f"Server di posta non disponibile: {result['errore']} ({result['rimasti_in_coda']} messaggi "
                   "restano in coda)")


# ------------------------------------------------------------------------------------ servers


def _stop_on_sigterm() -> None:
    """SIGTERM ends the command as Ctrl-C does, through its cleanup (children stopped), not in mid-air."""
    import signal

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)


@commands.command("serve-flows", help="Esegue le attività pianificate (Prefect). Senza PREFECT_API_URL avvia un "
                                      f"server Prefect locale (porta LEGAMI_PREFECT_PORT). {ADMIN}")
def serve_flows_command() -> None:
    import os

    from flows.serve import managed_prefect_server, schedule_lines, serve_flows, serve_in_child

    _stop_on_sigterm()
    if os.environ.get("PREFECT_API_URL"):
        typer.echo("Attività pianificate (Europe/Rome), verso PREFECT_API_URL:")
        typer.echo("\n".join(schedule_lines()))
        try:
            serve_flows()
        except KeyboardInterrupt:
            typer.echo("Arresto.")
        return
    settings = get_settings()
    home = settings.prefect_home.resolve()
    typer.echo(f"Avvio del server Prefect locale (dati e registri in {home})…")
    try:
        with managed_prefect_server(home, port=settings.prefect_port) as url:
            typer.echo(f"Server Prefect locale pronto sulla porta {url.rsplit(':', 1)[1].split('/')[0]}. "
                       "Attività pianificate (Europe/Rome):")
            typer.echo("\n".join(schedule_lines()))
            typer.echo("Ctrl-C per uscire.")
            code = serve_in_child(url, home / "flows.log")
    except KeyboardInterrupt:
        typer.echo("Arresto.")
        return
    except RuntimeError as exc:
        fail(str(exc))
    if code:
        fail(f"il servizio delle attività pianificate è terminato (codice {code}); registro: {home / 'flows.log'}")


@commands.command()
def assets(force: bool = typer.Option(False, "--forza", help="Reinstalla anche se già presenti.")) -> None:
    """Scarica dal registro npm (package-lock.json) Bootstrap Italia e htmx e li copia in web/static/vendor."""
    from web.assets import AssetsError, ensure_assets

    try:
        done = ensure_assets(force=force, quiet=False)
    except AssetsError as exc:
        fail(str(exc))
    say("Risorse front-end installate." if done else "Risorse front-end già aggiornate.")


@commands.command(help="Avvia l'applicazione web (e, salvo --senza-flussi, le attività pianificate: scadenze, "
                       f"promemoria, invio). {ADMIN}")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Indirizzo di ascolto."),
    port: int = typer.Option(8000, "--port", help="Porta."),
    flows: bool = typer.Option(True, "--flussi/--senza-flussi",
                               help="Avvia anche le attività pianificate (Prefect) nello stesso comando."),
    workers: int = typer.Option(1, "--workers", help="Processi web (uvicorn), da 1 a 16; oltre 1 solo con "
                                "PostgreSQL. Le attività pianificate restano nel processo principale."),
) -> None:
    import os

    import uvicorn

    from flows.serve import BackgroundFlows
    from services.setup import init_database
    from web.app import create_app
    from web.assets import AssetsError, ensure_assets

    settings = get_settings()
    if not 1 <= workers <= 16:
        fail("--workers: indicare un numero di processi da 1 a 16")
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        fail("--workers oltre 1 richiede PostgreSQL (LEGAMI_DATABASE_URL): SQLite resta a un solo processo web")
    try:
        if ensure_assets():
            say("Risorse front-end installate dal registro npm.")
    except AssetsError as exc:
        fail(str(exc))
    run(lambda: init_database(settings.database_url, engine(), district_path=settings.district_path,
                              policies_path=settings.policies_path))
    background = None
    if flows and not os.environ.get("PREFECT_API_URL"):
        home = settings.prefect_home.resolve()
        typer.echo(f"Attività pianificate: avvio del server Prefect locale (dati in {home})…")
        background = BackgroundFlows(home, port=settings.prefect_port).start()
    elif flows:
        say("Attività pianificate: servite da `legami serve-flows` verso PREFECT_API_URL (non da qui).")
    say(f"Legami su http://{host}:{port}  (Ctrl-C per uscire)")

    _stop_on_sigterm()  # uvicorn re-raises SIGTERM after its shutdown: end here, flows included
    options = {"host": host, "port": port, "log_level": "warning", "proxy_headers": True,
               "timeout_graceful_shutdown": 3}
    try:
        if workers > 1:  # each worker process builds its own app and engine from the same settings (environment)
            uvicorn.run("web.app:create_app", factory=True, workers=workers, **options)
        else:
            uvicorn.run(create_app(settings=settings, engine=engine()), **options)
    except KeyboardInterrupt:
        pass
    finally:
        if background is not None:
            if background.error:
                typer.echo(f"Attività pianificate: {background.error}", err=True)
            background.stop()
