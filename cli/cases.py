"""`legami case ...` and `legami workflow ...`.

Every case command acts as the user named by --actor, through the same service calls as the REST API
(web/routes/api.py): `ScopedCaseService` to open, advance and read (scope, redaction, health-read log),
`scoped_filter` for lists and summaries. No scope rule is written here.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

import typer

from cli.common import (
    JsonOpt,
    cell,
    engine,
    labelled,
    parse_data,
    parse_when,
    principal,
    print_json,
    records,
    run,
    say,
    scoped_service,
    table,
)
from cli.italian import Typer
from domain.registry import all_workflows

case_app = Typer(help="Casi: apertura, avanzamento, consultazione (come l'utente indicato da --actor).",
                       no_args_is_help=True)
workflow_app = Typer(help="Le dichiarazioni dei tipi di caso.", no_args_is_help=True)

ActorOpt = typer.Option(..., "--actor", help="Utente per conto del quale si opera: se ne applicano ruolo, "
                                             "sub-ambito e riservatezza dei dati, come nell'applicazione web.")


@case_app.command("open")
def case_open(
    case_type: str = typer.Argument(..., metavar="TIPO", help=" | ".join(w.case_type for w in all_workflows())),
    actor: str = typer.Option(..., "--actor", help="Utente che registra (se ne applicano ruolo e sub-ambito)."),
    data: Optional[str] = typer.Option(None, "--data", help="Dati JSON, o @file.json"),
    comune: Optional[str] = typer.Option(None, "--comune", help="Codice ISTAT del comune."),
    kind: Optional[str] = typer.Option(None, "--tipologia"),
    related: Optional[int] = typer.Option(None, "--collegato", help="Caso collegato (es. il bando FNA)."),
    effective: Optional[str] = typer.Option(None, "--efficace", metavar="DATA", help="Data di efficacia (gg/mm/aaaa)."),
    reason: Optional[str] = typer.Option(None, "--motivo"),
    as_json: bool = JsonOpt,
) -> None:
    """Apre un caso (segnalazione, domanda, bando, invito)."""
    from services.access import authorize_read

    svc = scoped_service()
    payload, when = parse_data(data), parse_when(effective)

    def go() -> int:
        user = principal(actor)
        if related is not None:  # the linked case must be one the user may read, as in the API
            authorize_read(svc.engine, user, related, today=svc.today())
        return svc.open_case(user, case_type=case_type, data=payload, comune_istat=comune, kind=kind,
                             related_case_id=related, effective_at=when, reason=reason)

    case_id = run(go)
    from services.referral import notice_for

    notice = notice_for(svc.engine, principal(actor), case_id, today=svc.today())
    if as_json:
        print_json({"id": case_id, "persona_nota": notice})
    else:
        say(f"Caso {case_id} aperto.")
        if notice:
            say(notice)


@case_app.command("advance")
def case_advance(
    case_id: int = typer.Argument(..., metavar="CASO", help="Numero del caso."),
    transition: str = typer.Argument(..., metavar="TRANSIZIONE", help="La transizione (vedi «legami case show»)."),
    actor: str = typer.Option(..., "--actor", help="Utente che esegue il passo (se ne applicano ruolo e sub-ambito)."),
    data: Optional[str] = typer.Option(None, "--data", help="Dati JSON, o @file.json"),
    effective: Optional[str] = typer.Option(None, "--efficace", metavar="DATA", help="Data di efficacia (gg/mm/aaaa)."),
    reason: Optional[str] = typer.Option(None, "--motivo"),
    version: Optional[int] = typer.Option(None, "--versione", help="Versione del caso vista (conflitto se è cambiata)."),
    as_json: bool = JsonOpt,
) -> None:
    """Esegue una transizione su un caso."""
    from services.api_queries import case_state

    svc = scoped_service()
    payload, when = parse_data(data), parse_when(effective)
    seq = run(lambda: svc.advance(principal(actor), case_id=case_id, transition=transition, data=payload,
                                  effective_at=when, reason=reason, expected_version=version))
    state = case_state(svc.engine, case_id)
    if as_json:
        print_json({"id": case_id, "seq": seq, "stato": state["stato"]})
    else:
        say(f"Caso {case_id}: {state['stato_etichetta']} ({state['stato']}).")


@case_app.command("show")
def case_show(case_id: int = typer.Argument(..., metavar="CASO", help="Numero del caso."), actor: str = ActorOpt,
              as_json: bool = JsonOpt) -> None:
    """Stato, storia, scadenze e transizioni possibili di un caso, con i soli dati visibili all'utente
    (la lettura di dati sanitari è registrata)."""
    svc = scoped_service()
    d = run(lambda: svc.read(principal(actor), case_id))
    d = {**d, "scadenze": [italian_deadline(x, today=svc.today()) for x in d["scadenze"]]}
    if as_json:
        print_json(d)
        return
    who = d["persona"]
    say(f"Caso {d['id']} · {d['tipo_etichetta']}" + (f" ({d['tipologia']})" if d["tipologia"] else ""))
    say(f"Stato: {d['stato_etichetta']} ({d['stato']})" + (f" · esito: {d['esito']}" if d["esito"] else ""))
    if who:
        say(f"Persona: {who['cognome']} {who['nome']} · {who['codice_fiscale']}")
    if d["comune"]:
        say(f"Comune: {d['comune']} · sub-ambito {d['sub_ambito']}")
    say(f"Assegnatario: {d['assegnatario'] or '—'} · politica {d['versione_politica']}")
    if d["dati_riservati"]:
        labelled("Dati riservati al suo ruolo", d["dati_riservati"])
    say("\nDati:")
    _data_lines(d["dati"])
    say("\nStoria:")
    table(d["storia"], [("seq", "n."), ("etichetta", "passo"), ("a", "stato"), ("attore", "chi"),
                        ("efficace_il", "efficace il"), ("motivo", "motivo")])
    say("\nScadenze:")
    table(d["scadenze"], [("etichetta", "scadenza"), ("scadenza", "entro"), ("stato", "stato"),
                          ("ritardo", "in ritardo"), ("fonte", "fonte")])
    say("\nProssime transizioni:")
    table(d["prossime_transizioni"], [("transizione", "comando"), ("etichetta", "passo"), ("ruoli", "ruoli")])


DEADLINE_STATES = {"open": "aperta", "met": "chiusa", "cancelled": "annullata", "expired": "scaduta"}
DEADLINE_BASES = {"working": "lavorativi", "calendar": "di calendario"}
DEADLINE_SOURCES = {"statutory": "normativa", "configured": "configurata"}


def italian_deadline(deadline: dict[str, Any], *, today: date) -> dict[str, Any]:
    """A deadline of `case show` in Italian words (as `workflow show` names them), with how late it is or was:
    a step done after its deadline stays late («sì, di 318 giorni») after the deadline is closed."""
    due = date.fromisoformat(deadline["scadenza"])
    closed = deadline.get("chiusa_il")
    until = date.fromisoformat(closed) if closed else (today if deadline["stato"] == "open" else None)
    late = (until - due).days if until is not None and until > due else 0
    return {**deadline, "stato": DEADLINE_STATES.get(deadline["stato"], deadline["stato"]),
            "base": DEADLINE_BASES.get(deadline["base"], deadline["base"]),
            "fonte": DEADLINE_SOURCES.get(deadline["fonte"], deadline["fonte"]), "giorni_di_ritardo": late,
            "ritardo": (f"sì, di {late} giorn{'o' if late == 1 else 'i'}" if late else "no")}


def _data_lines(data: dict[str, Any]) -> None:
    shown = {k: v for k, v in data.items() if k != "persona"}  # the person is on its own line above
    if not shown:
        say("(nessun dato)")
    for key, value in shown.items():
        labelled(key, value, indent=2)


@case_app.command("list")
def case_list(
    actor: str = ActorOpt,
    case_type: Optional[str] = typer.Option(None, "--tipo"),
    state: Optional[str] = typer.Option(None, "--stato"),
    comune: Optional[str] = typer.Option(None, "--comune", help="Codice ISTAT o nome."),
    sub_ambito: Optional[str] = typer.Option(None, "--sub-ambito"),
    overdue: bool = typer.Option(False, "--in-ritardo", help="Solo casi con scadenze superate."),
    owner: Optional[str] = typer.Option(None, "--assegnatario"),
    limit: int = typer.Option(200, "--limite"),
    as_json: bool = JsonOpt,
) -> None:
    """Elenco dei casi che l'utente può consultare, con filtri."""
    from services.access import scoped_filter
    from services.queries import CaseFilter, list_cases

    svc = scoped_service()
    today = svc.today()
    scope = run(lambda: scoped_filter(principal(actor), today=today))
    rows = list_cases(engine(), CaseFilter(case_type, state, comune, sub_ambito, overdue, owner, limit),
                      today=today, scope=scope)
    if as_json:
        print_json(rows)
        return
    table(rows, [("id", "id"), ("tipo", "tipo"), ("tipologia", "tipologia"), ("stato_etichetta", "stato"),
                 ("comune", "comune"), ("sub_ambito", "sub-ambito"), ("assegnatario", "assegnatario"),
                 ("prossima_scadenza", "prossima scadenza"), ("in_ritardo", "in ritardo")])


@case_app.command("summary")
def case_summary(actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """Casi per tipo e stato, tra quelli che l'utente può consultare."""
    from services.access import summary_in_scope

    svc = scoped_service()
    rows = run(lambda: summary_in_scope(svc.engine, principal(actor), today=svc.today()))
    if as_json:
        print_json(rows)
    else:
        table(rows, [("tipo_etichetta", "tipo"), ("stato_etichetta", "stato"), ("stato", "codice"), ("casi", "casi")])


# ------------------------------------------------------------------------------------ workflows


@workflow_app.command("list")
def workflow_list(as_json: bool = JsonOpt) -> None:
    """I tipi di caso dichiarati."""
    rows = [{"tipo": w.case_type, "etichetta": w.label, "stati": len(w.states), "transizioni": len(w.transitions)}
            for w in all_workflows()]
    print_json(rows) if as_json else table(rows, [("tipo", "tipo"), ("etichetta", "etichetta"),
                                                  ("stati", "stati"), ("transizioni", "transizioni")])


@workflow_app.command("show")
def workflow_show(
    case_type: str = typer.Argument(..., metavar="TIPO", help=" | ".join(w.case_type for w in all_workflows())),
    mermaid: bool = typer.Option(False, "--mermaid", help="Solo il diagramma Mermaid."),
    as_json: bool = JsonOpt,
) -> None:
    """La dichiarazione di un tipo di caso: le transizioni (da, a, ruoli, condizioni, scadenze che avviano);
    con --mermaid il diagramma degli stati."""
    from domain.diagram import to_mermaid, transition_rows
    from domain.registry import get_workflow

    wf = run(lambda: get_workflow(case_type))
    if as_json:
        print_json({
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
    say(f"{wf.label} ({wf.case_type})\n")
    rows = [{**r, "titolo": f"{r['transizione']}: {cell(r['da']) or '∅'} → {r['a']}",
             "scadenze": [f"{s['etichetta']}: {s['termine']} ({s['fonte']})" for s in r["scadenze"]]}
            for r in transition_rows(wf)]
    records(rows, "titolo", [("etichetta", "passo"), ("ruoli", "ruoli"), ("condizioni", "condizioni"),
                             ("scadenze", "avvia scadenze")])
    say(f"\nDiagramma (Mermaid): legami workflow show {wf.case_type} --mermaid")
