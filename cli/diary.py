"""`legami diario list|add CASO --actor ...`: the case diary, as the --actor user, through the same service calls as
the API (services/diary.py): scope, the data classes the user sees, the health-read log. No rule here."""
from __future__ import annotations

from typing import Optional

import typer

from cli.cases import ActorOpt
from cli.common import JsonOpt, engine, principal, print_json, records, run, say
from cli.italian import Typer

diary_app = Typer(help="Diario del caso: colloqui, visite domiciliari, telefonate, relazioni, riunioni d'équipe "
                       "(come l'utente indicato da --actor).", no_args_is_help=True)
CaseArg = typer.Argument(..., metavar="CASO", help="Numero del caso.")


@diary_app.command("list")
def diary_list(case_id: int = CaseArg, actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """Le voci del diario del caso che l'utente può vedere, dalla più vecchia (la lettura di voci sanitarie è
    registrata)."""
    from services.diary import read_entries

    rows = run(lambda: read_entries(engine(), principal(actor), case_id))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("Nessuna voce del diario visibile.")
        return
    shown = [{**r, "titolo": f"n. {r['numero']} · {r['tipo_etichetta']} · {r['avvenuto_il_testo']} · {r['autore']}"
                             + (f" (rettificata dalla voce n. {r['rettificata_da']})" if r["rettificata_da"] else ""),
              "partecipanti": ", ".join(r["partecipanti"]) or None}
             for r in rows]
    records(shown, "titolo", [("classe", "classe"), ("partecipanti", "partecipanti"), ("rettifica_di", "rettifica"),
                              ("testo", "testo")])


@diary_app.command("add")
def diary_add(
    case_id: int = CaseArg,
    actor: str = ActorOpt,
    kind: str = typer.Option(..., "--tipo", help="colloquio | visita_domiciliare | telefonata | relazione | "
                                                 "riunione_equipe (o un tipo proprio del tipo di caso)"),
    when: str = typer.Option(..., "--il", metavar="DATA", help="Data e ora del contatto: gg/mm/aaaa [hh:mm], "
                                                             "non nel futuro."),
    text: str = typer.Option(..., "--testo", help="Il testo della voce, o @file.txt"),
    participants: Optional[str] = typer.Option(None, "--partecipanti", help="Nomi separati da virgole."),
    data_class: str = typer.Option("sociale", "--classe", help="sociale | sanitaria (cifrata, letture registrate)"),
    supersedes: Optional[int] = typer.Option(None, "--rettifica", metavar="N",
                                             help="Numero della voce che questa corregge (che resta)."),
    as_json: bool = JsonOpt,
) -> None:
    """Aggiunge una voce al diario del caso (le voci non si modificano: una correzione è una nuova voce con
    --rettifica)."""
    from pathlib import Path

    from services.diary import add_entry

    def go() -> int:
        try:
            body = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
        except (OSError, UnicodeDecodeError):
            raise ValueError(f"--testo: il file «{text[1:]}» non si legge (testo UTF-8)") from None
        return add_entry(engine(), principal(actor), case_id, {
            "tipo": kind, "avvenuto_il": when, "testo": body, "partecipanti": participants or "",
            "classe": data_class, "rettifica_di": supersedes})

    number = run(go)
    if as_json:
        print_json({"caso": case_id, "numero": number})
    else:
        say(f"Voce n. {number} registrata nel diario del caso {case_id}.")
