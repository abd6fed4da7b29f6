"""`legami persona mostra|unisci|risolvi`: the person across measures (DOMAIN.md §13), as the --actor user, through
the same service calls as the API and the pages (services/person.py). No rule here."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer

from cli.cases import ActorOpt
from cli.common import JsonOpt, engine, principal, print_json, run, say
from cli.italian import Typer
from domain.italian import ROME

person_app = Typer(help="La persona tra le misure: i suoi casi, l'unione di un codice provvisorio, le discrepanze "
                        "anagrafiche (come l'utente indicato da --actor).", no_args_is_help=True)
CaseArg = typer.Argument(..., metavar="CASO", help="Numero di un caso della persona.")


def _now() -> datetime:
    return datetime.now(ROME)


@person_app.command("mostra")
def person_show(case_id: int = CaseArg, actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """I casi della persona del caso che l'utente può consultare, e quanti altri ce ne sono."""
    from services.person import person_id_of_case, person_page

    def go():
        user, today = principal(actor), _now().date()
        return person_page(engine(), user, person_id_of_case(engine(), user, case_id, today=today), today=today)

    page = run(go)
    if as_json:
        print_json(page)
        return
    who = page["persona"] or {}
    say(f"{who.get('cognome', '')} {who.get('nome', '')} ({who.get('codice_fiscale', '')})".strip())
    for c in page["casi"]:
        say(f"  caso n. {c['id']} · {c['tipo_etichetta']} · {c['stato_etichetta']} · {c['comune'] or '—'}")
    if page["altri_casi_nota"]:
        say(page["altri_casi_nota"] + ".")


@person_app.command("unisci")
def person_merge(
    provisional: str = typer.Option(..., "--provvisorio", help="Codice provvisorio (11 cifre)."),
    definitive: str = typer.Option(..., "--definitivo", help="Codice fiscale definitivo (16 caratteri)."),
    reason: str = typer.Option(..., "--motivo", help="Perché i due codici sono la stessa persona."),
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Unisce un codice provvisorio al codice fiscale definitivo (coordinatore o CSC): i casi passano alla persona
    con il codice definitivo. Le varianti per omocodia non si uniscono mai."""
    from services.person import merge_codes

    done = run(lambda: merge_codes(engine(), principal(actor), provisional=provisional, definitive=definitive,
                                   reason=reason, now=_now(), today=_now().date()))
    if as_json:
        print_json(done)
        return
    say(f"Unito: {len(done['casi_spostati'])} casi ora con il codice {done['codice_definitivo']}.")


@person_app.command("risolvi")
def person_resolve(
    case_id: int = CaseArg,
    outcome: str = typer.Option(..., "--esito", help="archivio (resta l'anagrafica in archivio) | indicato (vale "
                                                    "quanto indicato alla segnalazione del caso)"),
    note: Optional[str] = typer.Option(None, "--nota", help="Annotazione."),
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Risolve la discrepanza anagrafica registrata all'apertura del caso (coordinatore o CSC)."""
    from services.person import resolve_discrepancy

    done = run(lambda: resolve_discrepancy(engine(), principal(actor), case_id=case_id, choice=outcome, note=note,
                                           now=_now(), today=_now().date()))
    if as_json:
        print_json(done)
        return
    say(f"Discrepanza del caso {case_id} risolta: {done['esito_etichetta']}.")
