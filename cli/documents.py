"""`legami documenti list|add|get`: a case's documents, as the --actor user, through the same service calls as the
API (services/documents.py): scope, the data classes the user sees, the checks on upload, the health-read log.
No rule here."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.cases import ActorOpt
from cli.common import JsonOpt, engine, principal, print_json, records, run, say
from cli.italian import Typer

documents_app = Typer(help="Documenti del caso: patto firmato, attestazione ISEE, certificati, relazioni degli "
                           "enti, atti generati (come l'utente indicato da --actor).", no_args_is_help=True)
CaseArg = typer.Argument(..., metavar="CASO", help="Numero del caso.")


@documents_app.command("list")
def documents_list(case_id: int = CaseArg, actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """I documenti del caso che l'utente può vedere, dal più vecchio (l'elenco di documenti sanitari è
    registrato)."""
    from services.documents import list_documents

    rows = run(lambda: list_documents(engine(), principal(actor), case_id))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("Nessun documento visibile.")
        return
    shown = [{**r, "titolo": f"n. {r['id']} · {r['tipo_etichetta']} · {r['nome_file']} · {r['dimensione_testo']}",
              "protocollo": r["protocollo_testo"] or None,
              "firma": _signature(r["firma"]), "caricato": f"{r['caricato_il_testo']} da {r['caricato_da']}"}
             for r in rows]
    records(shown, "titolo", [("classe", "classe"), ("protocollo", "protocollo"), ("firma", "firma"),
                              ("caricato", "caricato"), ("sha256", "SHA-256")])


def _signature(firma: dict | None) -> str | None:
    if firma is None:
        return None
    state = {True: "integra", False: "ALTERATO dopo la firma", None: "non verificata"}[firma["integra"]]
    who = f", {firma['firmatario']}" if firma["firmatario"] else ""
    return f"{firma['formato'] or 'firma'} {state}{who} (fiducia: {firma['fiducia'] or 'non verificata'})"


@documents_app.command("add")
def documents_add(
    case_id: int = CaseArg,
    file: Path = typer.Argument(..., metavar="FILE", help="Il file da caricare (PDF, JPEG, PNG, P7M)."),
    actor: str = ActorOpt,
    doc_type: str = typer.Option(..., "--tipo", help="patto_firmato | isee | certificato | relazione_ente | altro"),
    data_class: str = typer.Option("sociale", "--classe", help="sociale | sanitario (cifrato, letture registrate)"),
    number: Optional[str] = typer.Option(None, "--protocollo", help="Numero di protocollo dell'Ente."),
    day: Optional[str] = typer.Option(None, "--protocollo-data", metavar="DATA", help="Data di protocollo, "
                                                                                     "gg/mm/aaaa."),
    as_json: bool = JsonOpt,
) -> None:
    """Carica un documento nel caso (il tipo di file è letto dal contenuto; un documento non si modifica né si
    cancella)."""
    from services.documents import add_document

    def go() -> int:
        try:
            content = file.read_bytes()
        except OSError:
            raise ValueError(f"FILE: il file «{file}» non si legge") from None
        return add_document(engine(), principal(actor), case_id, content=content, filename=file.name,
                            doc_type=doc_type, data_class=data_class, protocollo_numero=number,
                            protocollo_data=day)

    doc_id = run(go)
    if as_json:
        print_json({"caso": case_id, "documento": doc_id})
    else:
        say(f"Documento n. {doc_id} caricato nel caso {case_id}.")


@documents_app.command("get")
def documents_get(
    doc_id: int = typer.Argument(..., metavar="DOCUMENTO", help="Numero del documento."),
    target: Path = typer.Argument(..., metavar="DESTINAZIONE", help="Dove scrivere il file (non deve esistere)."),
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Scarica un documento in un file (la lettura di un documento sanitario è registrata)."""
    from services.documents import read_document

    def go() -> dict:
        meta, content = read_document(engine(), principal(actor), doc_id)
        try:
            with target.open("xb") as out:
                out.write(content)
        except FileExistsError:
            raise ValueError(f"DESTINAZIONE: «{target}» esiste già") from None
        except OSError:
            raise ValueError(f"DESTINAZIONE: non si può scrivere «{target}»") from None
        return meta

    meta = run(go)
    if as_json:
        print_json({"documento": doc_id, "file": str(target), "sha256": meta["sha256"], "nome_file": meta["nome_file"]})
    else:
        say(f"Documento n. {doc_id} ({meta['nome_file']}) scritto in {target}.")
