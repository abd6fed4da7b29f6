"""`legami`: the command line, thin over the service layer."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer

from config.settings import get_settings
from domain.errors import DomainError, InvalidData

app = typer.Typer(help="Legami: casi, scadenze ed esiti dei servizi sociali d'Ambito.", no_args_is_help=True)
case_app = typer.Typer(help="Casi: apertura, avanzamento, consultazione.", no_args_is_help=True)
workflow_app = typer.Typer(help="Le dichiarazioni dei tipi di caso.", no_args_is_help=True)
policy_app = typer.Typer(help="Versioni della politica (importi, soglie, termini).", no_args_is_help=True)
app.add_typer(case_app, name="case")
app.add_typer(workflow_app, name="workflow")
app.add_typer(policy_app, name="policy")
obligations_app = typer.Typer(help="Obblighi del distretto.", no_args_is_help=True)
outbox_app = typer.Typer(help="Posta in uscita.", no_args_is_help=True)
app.add_typer(obligations_app, name="obligations")
app.add_typer(outbox_app, name="outbox")
user_app = typer.Typer(help="Utenze: amministratore, password, sblocco.", no_args_is_help=True)
app.add_typer(user_app, name="user")

JsonOpt = typer.Option(False, "--json", help="Stampa in JSON.")


def _engine():
    from store.db import cached_engine

    return cached_engine(get_settings().database_url)


def _service():
    from services.cases import CaseService

    return CaseService(_engine())


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"Errore: {message}", err=True)
    raise typer.Exit(code)


def _run(fn):
    """Translate domain errors to Italian messages and a non-zero exit, at the edge only."""
    try:
        return fn()
    except InvalidData as exc:
        typer.echo("Errore: dati non validi", err=True)
        for e in exc.errors:
            typer.echo(f"  - {e}", err=True)
        raise typer.Exit(1)
    except (DomainError, ValueError) as exc:  # ValueError: configuration files and options, in Italian
        _fail(str(exc))


def _parse_data(data: Optional[str]) -> dict[str, Any]:
    if not data:
        return {}
    text = Path(data[1:]).read_text(encoding="utf-8") if data.startswith("@") else data
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"--data: JSON non valido ({exc.msg}, riga {exc.lineno})")
    if not isinstance(value, dict):
        _fail("--data: serve un oggetto JSON")
    return value


def _parse_when(value: Optional[str]) -> date | datetime | None:
    if not value:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--efficace: data non valida «{value}» (gg/mm/aaaa, aaaa-mm-gg o ISO 8601)")


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    if not rows:
        typer.echo("(nessun risultato)")
        return
    cells = [[h for _, h in columns]] + [[_cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for n, row in enumerate(cells):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * w for w in widths))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return text


# ------------------------------------------------------------------------------------ setup


@app.command()
def init(
    district: Optional[Path] = typer.Option(None, help="Cartella dei dati di un altro Ambito."),
    as_json: bool = JsonOpt,
) -> None:
    """Crea o aggiorna il database (migrazioni) e carica distretto e politiche."""
    from services.setup import init_database

    settings = get_settings()

    def go():
        d = init_database(settings.database_url, _engine(), district_path=district or settings.district_path,
                          policies_path=settings.policies_path)
        return {
            "ambito": d.name, "comuni": len(d.comuni), "sub_ambiti": [s.nome for s in d.sub_ambiti],
            "enti_accreditati": len(d.providers), "sub_ambiti_provvisori": d.sub_ambiti_provisional,
        }

    result = _run(go)
    if as_json:
        _print_json(result)
        return
    typer.echo(f"{result['ambito']}: {result['comuni']} comuni, {len(result['sub_ambiti'])} sub-ambiti "
               f"({', '.join(result['sub_ambiti'])}), {result['enti_accreditati']} enti accreditati.")
    if result["sub_ambiti_provvisori"]:
        typer.echo("Attenzione: l'assegnazione dei comuni ai sub-ambiti è PROVVISORIA (vedi comuni.csv).")


@app.command("demo-data")
def demo_data(
    year: int = typer.Option(2026, "--anno"),
    seed: int = typer.Option(7, "--seme"),
    scale: float = typer.Option(1.0, "--scala", help="1.0 = un anno dell'Ambito Cremasco (DOMAIN.md §10)."),
    as_json: bool = JsonOpt,
) -> None:
    """Genera persone sintetiche (codici fiscali validi) e un anno realistico di casi dei tre tipi."""
    from services.demo import generate_demo

    summary = _run(lambda: generate_demo(_engine(), year=year, seed=seed, scale=scale))
    if as_json:
        _print_json(summary)
        return
    _print_demo_summary(summary)


def _print_demo_summary(summary: dict) -> None:
    typer.echo(f"Dati dimostrativi {summary['year']}: {summary['cases_total']} casi, {summary['transitions']} "
               f"passi registrati, {summary['people']} persone sintetiche, {summary['sad_visits']} visite SAD "
               f"({summary['elapsed_seconds']:.1f} s).")


@app.command()
def demo(as_json: bool = JsonOpt) -> None:
    """Prepara un Ambito dimostrativo (SQLite se non configurato) e mostra i casi per tipo e stato."""
    from services.demo import generate_demo
    from services.demo_access import demo_logins
    from services.queries import summary_by_type_and_state
    from services.setup import init_database

    settings = get_settings()
    init_database(settings.database_url, _engine(), district_path=settings.district_path,
                  policies_path=settings.policies_path)
    summary = None
    if not summary_by_type_and_state(_engine()):
        summary = _run(lambda: generate_demo(_engine()))
    rows = summary_by_type_and_state(_engine())
    logins = _run(lambda: demo_logins(_engine(), environment=settings.environment))
    if as_json:
        _print_json({"generazione": summary, "casi": rows, "credenziali": [vars(x) for x in logins]})
        return
    typer.echo(f"Database: {settings.database_url}")
    if summary:
        _print_demo_summary(summary)
    else:
        typer.echo("Il database contiene già dei casi: nessun dato generato.")
    typer.echo("\nCasi per tipo e stato:")
    _table(rows, [("tipo_etichetta", "tipo"), ("stato_etichetta", "stato"), ("stato", "codice"), ("casi", "casi")])
    _print_demo_logins(logins)
    typer.echo("\nAvvia l'applicazione web e le attività pianificate: legami serve  (poi http://127.0.0.1:8000)")
    typer.echo("Dalla riga di comando: legami case list --tipo patto --in-ritardo · legami case show 1 · "
               "legami sweep · legami workflow show patto")


def _print_demo_logins(logins) -> None:
    typer.echo("\nCredenziali dimostrative (solo dati sintetici):")
    for login in logins:
        typer.echo(f"  {login.role_label:<42} utente {login.username:<26} password {login.password}"
                   f"   ({login.scope})")


@policy_app.command("load")
def policy_load(path: Path, as_json: bool = JsonOpt) -> None:
    """Carica una nuova versione della politica (i casi aperti mantengono la propria)."""
    from config.policy_files import load_policy_file
    from services.setup import load_policy

    try:
        policy = load_policy_file(path)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    with _engine().begin() as conn:
        added = load_policy(conn, policy)
    result = {"versione": policy.version, "in_vigore_dal": policy.valid_from.isoformat(), "caricata": added}
    if as_json:
        _print_json(result)
    else:
        typer.echo(f"Politica {policy.version} dal {policy.valid_from:%d/%m/%Y}: "
                   + ("caricata." if added else "già presente, non modificata."))


# ------------------------------------------------------------------------------------ cases


@case_app.command("open")
def case_open(
    case_type: str = typer.Argument(..., help="patto | fna_bando | fna_domanda | sad_adesione | sad_caso"),
    actor: str = typer.Option(..., "--actor", help="Utente che registra."),
    data: Optional[str] = typer.Option(None, "--data", help="Dati JSON, o @file.json"),
    comune: Optional[str] = typer.Option(None, "--comune", help="Codice ISTAT del comune."),
    kind: Optional[str] = typer.Option(None, "--tipologia"),
    related: Optional[int] = typer.Option(None, "--collegato", help="Caso collegato (es. il bando FNA)."),
    effective: Optional[str] = typer.Option(None, "--efficace", help="Data di efficacia (gg/mm/aaaa)."),
    reason: Optional[str] = typer.Option(None, "--motivo"),
    as_json: bool = JsonOpt,
) -> None:
    """Apre un caso (segnalazione, domanda, bando, invito)."""
    svc = _service()
    payload, when = _parse_data(data), _parse_when(effective)
    case_id = _run(lambda: svc.open_case(
        case_type=case_type, actor=svc.actor(actor), data=payload, kind=kind, comune_istat=comune,
        related_case_id=related, effective_at=when, reason=reason))
    if as_json:
        _print_json({"id": case_id})
    else:
        typer.echo(f"Caso {case_id} aperto.")


@case_app.command("advance")
def case_advance(
    case_id: int,
    transition: str,
    actor: str = typer.Option(..., "--actor"),
    data: Optional[str] = typer.Option(None, "--data", help="Dati JSON, o @file.json"),
    effective: Optional[str] = typer.Option(None, "--efficace", help="Data di efficacia (gg/mm/aaaa)."),
    reason: Optional[str] = typer.Option(None, "--motivo"),
    version: Optional[int] = typer.Option(None, "--versione", help="Versione del caso vista (conflitto se è cambiata)."),
    as_json: bool = JsonOpt,
) -> None:
    """Esegue una transizione su un caso."""
    svc = _service()
    payload, when = _parse_data(data), _parse_when(effective)
    seq = _run(lambda: svc.advance(case_id=case_id, transition=transition, actor=svc.actor(actor),
                                   data=payload, effective_at=when, reason=reason, expected_version=version))
    from services.queries import case_detail

    detail = case_detail(_engine(), case_id)
    if as_json:
        _print_json({"id": case_id, "seq": seq, "stato": detail["stato"]})
    else:
        typer.echo(f"Caso {case_id}: {detail['stato_etichetta']} ({detail['stato']}).")


@case_app.command("show")
def case_show(case_id: int, as_json: bool = JsonOpt) -> None:
    """Stato, storia, scadenze e transizioni possibili di un caso."""
    from services.queries import case_detail

    d = _run(lambda: case_detail(_engine(), case_id))
    if as_json:
        _print_json(d)
        return
    who = d["persona"]
    typer.echo(f"Caso {d['id']} · {d['tipo_etichetta']}" + (f" ({d['tipologia']})" if d["tipologia"] else ""))
    typer.echo(f"Stato: {d['stato_etichetta']} ({d['stato']})" + (f" · esito: {d['esito']}" if d["esito"] else ""))
    if who:
        typer.echo(f"Persona: {who['cognome']} {who['nome']} · {who['codice_fiscale']}")
    if d["comune"]:
        typer.echo(f"Comune: {d['comune']} · sub-ambito {d['sub_ambito']}")
    typer.echo(f"Assegnatario: {d['assegnatario'] or '—'} · politica {d['versione_politica']}")
    typer.echo("\nStoria:")
    _table(d["storia"], [("seq", "n."), ("etichetta", "passo"), ("a", "stato"), ("attore", "chi"),
                         ("efficace_il", "efficace il"), ("motivo", "motivo")])
    typer.echo("\nScadenze:")
    _table(d["scadenze"], [("etichetta", "scadenza"), ("scadenza", "entro"), ("stato", "stato"),
                           ("in_ritardo", "in ritardo"), ("fonte", "fonte")])
    typer.echo("\nProssime transizioni:")
    _table(d["prossime_transizioni"], [("transizione", "comando"), ("etichetta", "passo"), ("ruoli", "ruoli")])


@case_app.command("list")
def case_list(
    case_type: Optional[str] = typer.Option(None, "--tipo"),
    state: Optional[str] = typer.Option(None, "--stato"),
    comune: Optional[str] = typer.Option(None, "--comune", help="Codice ISTAT o nome."),
    sub_ambito: Optional[str] = typer.Option(None, "--sub-ambito"),
    overdue: bool = typer.Option(False, "--in-ritardo", help="Solo casi con scadenze superate."),
    owner: Optional[str] = typer.Option(None, "--assegnatario"),
    limit: int = typer.Option(200, "--limite"),
    as_json: bool = JsonOpt,
) -> None:
    """Elenco dei casi con filtri."""
    from services.queries import CaseFilter, list_cases

    rows = list_cases(_engine(), CaseFilter(case_type, state, comune, sub_ambito, overdue, owner, limit))
    if as_json:
        _print_json(rows)
        return
    _table(rows, [("id", "id"), ("tipo", "tipo"), ("tipologia", "tipologia"), ("stato_etichetta", "stato"),
                  ("comune", "comune"), ("sub_ambito", "sub-ambito"), ("assegnatario", "assegnatario"),
                  ("prossima_scadenza", "prossima scadenza"), ("in_ritardo", "in ritardo")])


@case_app.command("summary")
def case_summary(as_json: bool = JsonOpt) -> None:
    """Casi per tipo e stato."""
    from services.queries import summary_by_type_and_state

    rows = summary_by_type_and_state(_engine())
    if as_json:
        _print_json(rows)
    else:
        _table(rows, [("tipo_etichetta", "tipo"), ("stato_etichetta", "stato"), ("stato", "codice"), ("casi", "casi")])


# ------------------------------------------------------------------------------------ workflows


@workflow_app.command("list")
def workflow_list(as_json: bool = JsonOpt) -> None:
    """I tipi di caso dichiarati."""
    from domain.registry import all_workflows

    rows = [{"tipo": w.case_type, "etichetta": w.label, "stati": len(w.states), "transizioni": len(w.transitions)}
            for w in all_workflows()]
    _print_json(rows) if as_json else _table(rows, [("tipo", "tipo"), ("etichetta", "etichetta"),
                                                    ("stati", "stati"), ("transizioni", "transizioni")])


@workflow_app.command("show")
def workflow_show(
    case_type: str,
    mermaid: bool = typer.Option(False, "--mermaid", help="Solo il diagramma Mermaid."),
    as_json: bool = JsonOpt,
) -> None:
    """La dichiarazione di un tipo di caso: tabella delle transizioni e diagramma Mermaid."""
    from domain.diagram import to_mermaid, transition_rows
    from domain.registry import get_workflow

    wf = _run(lambda: get_workflow(case_type))
    if as_json:
        _print_json({
            "tipo": wf.case_type, "etichetta": wf.label, "tipologie": dict(wf.kinds),
            "stati": [{"stato": s.name, "etichetta": s.label, "terminale": s.terminal, "sospeso": s.suspended}
                      for s in wf.states],
            "transizioni": transition_rows(wf),
            "esito": wf.outcome.description if wf.outcome else None,
            "mermaid": to_mermaid(wf),
        })
        return
    if mermaid:
        typer.echo(to_mermaid(wf))
        return
    typer.echo(f"{wf.label} ({wf.case_type})\n")
    rows = [{**r, "da": r["da"], "scadenze": [f"{s['etichetta']}: {s['termine']} ({s['fonte']})" for s in r["scadenze"]]}
            for r in transition_rows(wf)]
    _table(rows, [("transizione", "transizione"), ("da", "da"), ("a", "a"), ("ruoli", "ruoli"),
                  ("condizioni", "condizioni"), ("scadenze", "avvia scadenze")])
    typer.echo("\n```mermaid\n" + to_mermaid(wf) + "\n```")


# ------------------------------------------------------------------------------------ deadlines


def _as_of(value: Optional[str]) -> date:
    when = _parse_when(value)
    if when is None:
        from flows.jobs import today_in_rome

        return today_in_rome()
    return when if not isinstance(when, datetime) else when.date()


def _day_in_year(year: int, as_of: Optional[str]) -> date:
    """The as-of day of a yearly figure: the one given, else today or the year's last day if it is over."""
    return _as_of(as_of) if as_of else min(_as_of(None), date(year, 12, 31))


@app.command()
def sweep(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Giorno della scansione (gg/mm/aaaa); oggi se omesso."),
    as_json: bool = JsonOpt,
) -> None:
    """Scansione delle scadenze: passi automatici, promemoria, escalation (idempotente per giorno)."""
    from services.sweep import run_deadline_sweep

    day = _as_of(as_of)
    result = _run(lambda: run_deadline_sweep(_engine(), as_of=day)).as_dict()
    if as_json:
        _print_json(result)
        return
    typer.echo(f"Scansione al {day:%d/%m/%Y}: {result['transizioni_automatiche']} passi automatici, "
               f"{result['promemoria']} promemoria, {result['escalation']} escalation accodati.")
    for r in result["automatiche_rifiutate"]:
        typer.echo(f"  caso {r['caso']}: {r['transizione']} non eseguita: {r['motivo']}")


@obligations_app.command("list")
def obligations_list(
    as_of: Optional[str] = typer.Option(None, "--as-of"),
    as_json: bool = JsonOpt,
) -> None:
    """Obblighi in corso: scadenza, ambiti ancora in sospeso, promemoria di oggi."""
    from services.obligations import obligation_overview

    rows = obligation_overview(_engine(), as_of=_as_of(as_of))
    if as_json:
        _print_json(rows)
        return
    _table([{**r, "in_sospeso": _first([p["ambito"] for p in r["in_sospeso"]])} for r in rows],
           [("scadenza", "scadenza"), ("etichetta", "obbligo"), ("periodo", "periodo"), ("adempiuto", "adempiuto"),
            ("in_sospeso", "in sospeso"), ("passi_di_oggi", "promemoria di oggi")])


def _first(items: list[str], shown: int = 6) -> str:
    """A readable cell: the first few and how many in all (the JSON output keeps every one)."""
    text = ", ".join(items[:shown])
    return f"{len(items)}: {text}, …" if len(items) > shown else text


@obligations_app.command("check")
def obligations_check(as_of: Optional[str] = typer.Option(None, "--as-of"), as_json: bool = JsonOpt) -> None:
    """Accoda i promemoria e le escalation degli obblighi (idempotente per giorno)."""
    from services.obligations import run_obligations_check

    result = run_obligations_check(_engine(), as_of=_as_of(as_of)).as_dict()
    _print_json(result) if as_json else typer.echo(f"Obblighi al {result['al']}: {result['accodati']} voci accodate.")


@obligations_app.command("mark-met")
def obligations_mark_met(
    code: str,
    period: str = typer.Option(..., "--periodo", help="Es. 2026 o 2026-10."),
    scope: str = typer.Option(..., "--ambito", help="Es. il sub-ambito (Crema) o ente:ENTE03."),
    reason: str = typer.Option(..., "--motivo"),
    actor: str = typer.Option(..., "--actor"),
    on: Optional[str] = typer.Option(None, "--il"),
) -> None:
    """Dichiara adempiuto un obbligo (con motivo; resta registrato chi e quando)."""
    from services.obligations import mark_met

    svc = _service()
    _run(lambda: mark_met(_engine(), code=code, period=period, scope_key=scope, actor=svc.actor(actor),
                          reason=reason, met_on=_as_of(on)))
    typer.echo(f"Obbligo {code} ({period}, {scope}) registrato come adempiuto.")


@outbox_app.command("list")
def outbox_list(
    status: Optional[str] = typer.Option(None, "--stato", help="pending | sending | sent | failed"),
    limit: int = typer.Option(50, "--limite"),
    as_json: bool = JsonOpt,
) -> None:
    """Messaggi in uscita."""
    from notifications.dispatch import list_outbox

    rows = list_outbox(_engine(), status=status, limit=limit)
    if as_json:
        _print_json(rows)
        return
    _table(rows, [("id", "id"), ("template", "modello"), ("recipient", "destinatario"), ("status", "stato"),
                  ("attempts", "tentativi"), ("last_error", "ultimo errore")])


@outbox_app.command("send")
def outbox_send(as_json: bool = JsonOpt) -> None:
    """Invia la posta in coda (SMTP se configurato, altrimenti file .eml in LEGAMI_OUTBOX_DIR)."""
    from notifications.dispatch import dispatch_from_settings

    result = dispatch_from_settings(_engine(), get_settings()).as_dict()
    if as_json:
        _print_json(result)
        return
    typer.echo(f"Inviati {result['sent']}, da ritentare {result['retried']}, falliti {result['failed']}, "
               f"con destinatari rifiutati {result['partial']}.")
    if result["error"]:
        typer.echo(f"Server di posta non disponibile: {result['error']} ({result['deferred']} messaggi restano in coda)")


@app.command()
def tally(
    year: int = typer.Option(..., "--year", "--anno"),
    by: str = typer.Option("sub_ambito", "--by", "--per", help="sub_ambito | comune | type | misura | fascia_eta | ente"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Conteggi come noti a quel giorno."),
    as_json: bool = JsonOpt,
) -> None:
    """Indicatori dell'anno (dalla storia dei casi), con obiettivi e celle piccole oscurate."""
    from services.tallies import compute_tallies, read_snapshot

    day = _day_in_year(year, as_of)
    stored = read_snapshot(_engine(), as_of=day) if day.year == year else None
    result = (stored or {}).get(by) or _run(lambda: compute_tallies(_engine(), year=year, as_of=day, by=by))
    if as_json:
        _print_json(result)
        return
    typer.echo(f"Indicatori {year} al {day:%d/%m/%Y}, per {by} (celle con meno di "
               f"{result['soglia_riservatezza']} persone oscurate)")
    keys = sorted({r["chiave"] for i in result["indicatori"] for r in i["righe"]})
    rows = []
    for i in result["indicatori"]:
        cells = {r["chiave"]: r for r in i["righe"]}
        target = i["obiettivo"]
        rows.append({"indicatore": i["etichetta"], "totale": _shown(i["totale"], result),
                     **{k: _shown(cells.get(k), result) for k in keys},
                     "obiettivo": f"{target['min']:g}-{target['max']:g}: {target['esito'] or '—'} "
                                  f"(proiezione {target['esito_proiezione'] or '—'})" if target else ""})
    _table(rows, [("indicatore", "indicatore"), ("totale", "totale"), *[(k, k) for k in keys],
                  ("obiettivo", "range di valutazione")])


def _shown(cell: Optional[dict], result: dict) -> str:
    if not cell:
        return "0"
    if cell["soppresso"]:
        return f"n<{result['soglia_riservatezza']}"
    value = cell["valore"]
    return "—" if value is None else f"{value:,}".replace(",", "X").replace(".", ",").replace("X", ".")


@app.command()
def report(
    year: int = typer.Option(..., "--year", "--anno"),
    fmt: str = typer.Option("pdf", "--format", "--formato", help="pdf | html | xlsx | csv"),
    out: Path = typer.Option(..., "--out", help="File di destinazione."),
    by: str = typer.Option("sub_ambito", "--by", "--per", help="Solo per csv: la ripartizione."),
    as_of: Optional[str] = typer.Option(None, "--as-of"),
) -> None:
    """Relazione annuale per l'Organismo di Valutazione (PDF/HTML con grafici), esportazioni XLSX e CSV."""
    from reports import report_csv, report_html, report_pdf, report_xlsx
    from services.report_data import collect_results, district_details
    from services.tallies import compute_tallies

    day = _day_in_year(year, as_of)
    engine = _engine()
    if fmt == "csv":
        out.write_text(report_csv(compute_tallies(engine, year=year, as_of=day, by=by)), encoding="utf-8")
    elif fmt in ("pdf", "html", "xlsx"):
        results = collect_results(engine, year=year, as_of=day)
        name, note = district_details(engine)
        if fmt == "xlsx":
            out.write_bytes(report_xlsx(results, sub_ambiti_note=note))
        else:
            html = report_html(results, district_name=name, sub_ambiti_note=note)
            out.write_bytes(report_pdf(html)) if fmt == "pdf" else out.write_text(html, encoding="utf-8")
    else:
        _fail(f"--format: valore non ammesso «{fmt}» (pdf, html, xlsx, csv)")
    typer.echo(f"Relazione {year} al {day:%d/%m/%Y} scritta in {out}.")


@app.command()
def calendar(
    username: str,
    out: Optional[Path] = typer.Option(None, "--out", help="File .ics; se omesso stampa sullo standard output."),
) -> None:
    """Il calendario .ics di una persona: le sue scadenze e gli obblighi del suo ruolo."""
    from flows.jobs import today_in_rome
    from services.calendar_feed import calendar_for

    ics = _run(lambda: calendar_for(_engine(), username, today=today_in_rome(), base_url=get_settings().base_url))
    if out:
        out.write_bytes(ics)
        typer.echo(f"Calendario scritto in {out}.")
    else:
        sys.stdout.write(ics.decode("utf-8"))


@app.command("serve-flows")
def serve_flows_command() -> None:
    """Esegue le attività pianificate (Prefect). Senza PREFECT_API_URL avvia un server Prefect locale."""
    import os

    from flows.serve import managed_prefect_server, serve_flows, serve_in_child

    if os.environ.get("PREFECT_API_URL"):
        serve_flows()
        return
    home = get_settings().prefect_home.resolve()
    typer.echo(f"Avvio del server Prefect locale (dati in {home})…")
    with managed_prefect_server(home) as url:
        typer.echo(f"Server Prefect pronto su {url}; attività pianificate in Europe/Rome. Ctrl-C per uscire.")
        try:
            raise typer.Exit(serve_in_child(url))
        except KeyboardInterrupt:
            typer.echo("Arresto.")


@app.command()
def assets(force: bool = typer.Option(False, "--forza", help="Reinstalla anche se già presenti.")) -> None:
    """Scarica dal registro npm (package-lock.json) Bootstrap Italia e htmx e li copia in web/static/vendor."""
    from web.assets import AssetsError, ensure_assets

    try:
        done = ensure_assets(force=force, quiet=False)
    except AssetsError as exc:
        _fail(str(exc))
    typer.echo("Risorse front-end installate." if done else "Risorse front-end già aggiornate.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Indirizzo di ascolto."),
    port: int = typer.Option(8000, "--port", help="Porta."),
    flows: bool = typer.Option(True, "--flussi/--senza-flussi",
                               help="Avvia anche le attività pianificate (Prefect) nello stesso comando."),
) -> None:
    """Avvia l'applicazione web (e, salvo --senza-flussi, le attività pianificate: scadenze, promemoria, invio)."""
    import os
    import signal

    import uvicorn

    from flows.serve import BackgroundFlows
    from services.setup import init_database
    from web.app import create_app
    from web.assets import AssetsError, ensure_assets

    settings = get_settings()
    try:
        if ensure_assets():
            typer.echo("Risorse front-end installate dal registro npm.")
    except AssetsError as exc:
        _fail(str(exc))
    _run(lambda: init_database(settings.database_url, _engine(), district_path=settings.district_path,
                               policies_path=settings.policies_path))
    background = None
    if flows and not os.environ.get("PREFECT_API_URL"):
        home = settings.prefect_home.resolve()
        typer.echo(f"Attività pianificate: avvio del server Prefect locale (dati in {home})…")
        background = BackgroundFlows(home).start()
    elif flows:
        typer.echo("Attività pianificate: servite da `legami serve-flows` verso PREFECT_API_URL (non da qui).")
    typer.echo(f"Legami su http://{host}:{port}  (Ctrl-C per uscire)")

    def _stop(signum, frame):  # uvicorn re-raises SIGTERM after its shutdown: end here, flows included
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        uvicorn.run(create_app(settings=settings, engine=_engine()), host=host, port=port, log_level="info",
                    proxy_headers=True)
    except KeyboardInterrupt:
        pass
    finally:
        if background is not None:
            if background.error:
                typer.echo(f"Attività pianificate: {background.error}", err=True)
            background.stop()


# ------------------------------------------------------------------------------------ users


PasswordOpt = typer.Option(..., "--password", prompt="Password", hide_input=True, confirmation_prompt=True,
                           help="Chiesta a video se omessa (almeno 12 caratteri).")


@user_app.command("create-admin")
def user_create_admin(
    username: str,
    email: str = typer.Option(..., "--email"),
    full_name: str = typer.Option("Amministratore", "--nome"),
    password: str = PasswordOpt,
) -> None:
    """Crea il primo amministratore (gestisce le utenze; non apre fascicoli: ruolo «evaluator»)."""
    from services.auth import create_admin

    _run(lambda: create_admin(_engine(), username, email, password, full_name=full_name))
    typer.echo(f"Amministratore «{username}» creato.")


@user_app.command("create")
def user_create(
    username: str,
    full_name: str = typer.Option(..., "--nome"),
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(..., "--ruolo", help="social_worker, subarea_coordinator, planning_office, ..."),
    sub_ambito: Optional[str] = typer.Option(None, "--sub-ambito"),
    provider: Optional[str] = typer.Option(None, "--ente"),
    with_password: bool = typer.Option(False, "--con-password", help="Chiede subito una password locale."),
) -> None:
    """Crea un'utenza (la password si può impostare dopo con «user set-password»)."""
    from services.auth import create_user

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if with_password else None
    _run(lambda: create_user(_engine(), username, full_name, email, role, sub_ambito=sub_ambito,
                             provider_codice=provider, password=password))
    typer.echo(f"Utente «{username}» creato.")


@user_app.command("set-password")
def user_set_password(username: str, password: str = PasswordOpt) -> None:
    """Imposta o reimposta la password locale di un utente (e ne toglie il blocco)."""
    from services.auth import set_password

    _run(lambda: set_password(_engine(), username, password))
    typer.echo(f"Password di «{username}» aggiornata.")


@user_app.command("unlock")
def user_unlock(username: str) -> None:
    """Toglie il blocco per tentativi di accesso falliti."""
    from services.auth import unlock

    _run(lambda: unlock(_engine(), username))
    typer.echo(f"Accesso di «{username}» sbloccato.")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
