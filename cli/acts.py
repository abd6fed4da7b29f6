"""`legami atti elenco|genera CASO --actor ...`: the generated acts (PDF/A), as the --actor user, through the same
service calls as the API (services/acts.py): scope, the act's data classes, the documents' store. No rule here."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cli.cases import ActorOpt
from cli.common import JsonOpt, engine, principal, print_json, records, run, say
from cli.italian import Typer

acts_app = Typer(help="Atti generati in PDF/A (patto da firmare, avvisi FNA, voucher SAD, scheda Bonus Famiglia), "
                      "come l'utente indicato da --actor.", no_args_is_help=True)
CaseArg = typer.Argument(..., metavar="CASO", help="Numero del caso.")


@acts_app.command("elenco")
def acts_list(case_id: int = CaseArg, actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """Gli atti che lo stato del caso offre all'utente e quelli già generati che può leggere."""
    from services.acts import generated_acts, offered_acts

    def go() -> dict:
        return {"offerti": offered_acts(engine(), principal(actor), case_id),
                "generati": generated_acts(engine(), principal(actor), case_id)}

    found = run(go)
    if as_json:
        print_json(found)
        return
    if not found["offerti"] and not found["generati"]:
        say("Nessun atto offerto o generato per questo caso.")
        return
    records([{**a, "titolo_riga": f"{a['atto']}: {a['titolo']}"} for a in found["offerti"]], "titolo_riga",
            [("passo_etichetta", "passo")])
    records([{**d, "titolo_riga": f"n. {d['id']} · {d['nome_file']} · {d['caricato_il_testo']}"}
             for d in found["generati"]], "titolo_riga", [("caricato_da", "da"), ("sha256", "sha256")])


@acts_app.command("genera")
def acts_generate(
    case_id: int = CaseArg,
    act: str = typer.Argument(..., metavar="ATTO", help="Nome dell'atto (vedi «legami atti elenco CASO»)."),
    actor: str = ActorOpt,
    contents: Optional[Path] = typer.Option(None, "--contenuti", metavar="FILE.json",
                                            help="Solo per il patto da firmare: obiettivi, impegni, misura "
                                                 "economica, date e firmatari non ancora registrati."),
    output: Optional[Path] = typer.Option(None, "--file", metavar="FILE.pdf", help="Salva anche una copia del PDF."),
    as_json: bool = JsonOpt,
) -> None:
    """Genera l'atto dai dati del caso e lo archivia tra i documenti del caso (con la sua impronta SHA-256)."""
    from services.acts import generate_act
    from services.documents import read_document

    def go() -> dict:
        given = None
        if contents is not None:
            try:
                given = json.loads(contents.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                raise ValueError(f"--contenuti: il file «{contents}» non si legge (JSON UTF-8)") from None
        doc = generate_act(engine(), principal(actor), case_id, act, contents=given)
        if output is not None:
            output.write_bytes(read_document(engine(), principal(actor), doc["id"])[1])
        return doc

    doc = run(go)
    if as_json:
        print_json(doc)
    else:
        say(f"Atto «{doc['atto_titolo']}» generato: documento n. {doc['id']} ({doc['nome_file']}), "
            f"SHA-256 {doc['sha256']}.")
