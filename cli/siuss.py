"""`legami siuss esporta|esiti|flussi --actor ...`: the flows to INPS's Casellario dell'Assistenza, as the --actor
user (the Ufficio di Piano only), through the same service calls as the page (services/siuss.py). No rule here."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cli.cases import ActorOpt
from cli.common import JsonOpt, engine, principal, print_json, run, say
from cli.italian import Typer

siuss_app = Typer(help="Casellario dell'Assistenza (SIUSS, INPS): flussi delle prestazioni ed esiti (Ufficio di "
                       "Piano).", no_args_is_help=True)


@siuss_app.command("esporta")
def siuss_export(
    period: str = typer.Option(..., "--periodo", metavar="AAAA-MM", help="Il mese: ciò che è cambiato entro la sua "
                                                                      "fine e non è ancora stato inviato."),
    actor: str = ActorOpt,
    operator_cf: Optional[str] = typer.Option(None, "--cf-operatore", metavar="CF",
                                              help="Codice fiscale dell'operatore che trasmette (altrimenti "
                                                   "LEGAMI_SIUSS_CF_OPERATORE)."),
    folder: Optional[Path] = typer.Option(None, "--cartella", metavar="CARTELLA",
                                          help="Dove scrivere il file XML (altrimenti LEGAMI_SIUSS_DIR)."),
    as_json: bool = JsonOpt,
) -> None:
    """Scrive il flusso PS/PSA/SINA del periodo (inserimenti e cancellazioni non ancora inviati), lo valida con
    lo schema INPS e lo registra: rieseguito, non invia nulla due volte."""
    from config.settings import get_settings
    from services.siuss import export

    def go():
        result = export(engine(), principal(actor), period, operator_cf=operator_cf)
        path = None
        if result.xml is not None:
            target = folder or get_settings().siuss_dir
            target.mkdir(parents=True, exist_ok=True)
            path = target / f"{result.name}.xml"
            path.write_text(result.xml, encoding="utf-8")
        return result, path

    result, path = run(go)
    if as_json:
        print_json({**result.as_dict(), "file": str(path) if path else None})
        return
    if result.name is None:
        say(f"Nessuna variazione da inviare per il periodo {result.period}.")
    else:
        say(f"Flusso {result.name}: {result.inserts} inserimenti e {result.cancels} cancellazioni per "
            f"{result.beneficiaries} beneficiari, scritto in {path}.")
    for row in result.skipped:
        say(f"Non inviato il caso {row['caso']}: {row['motivo']}.")
    for case_type, items in result.sina_unmapped.items():
        say(f"SINA non inviato per {case_type}: mancano nei dati di valutazione {', '.join(items)}.")
    if result.provisional_note:
        say(f"Attenzione, mappatura provvisoria: {result.provisional_note}")


@siuss_app.command("esiti")
def siuss_outcomes(
    file: Path = typer.Argument(..., metavar="FILE", help="Il file JSON degli esiti INPS ({\"elenco_esiti\": [...]})."),
    actor: str = ActorOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Registra gli esiti INPS per beneficiario sui flussi e sui casi (voce «Esito del Casellario» nel diario):
    tutto il file o niente."""
    from services.siuss import record_outcomes

    def go():
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise ValueError(f"FILE: «{file}» non si legge come JSON degli esiti INPS") from None
        return record_outcomes(engine(), principal(actor), raw)

    done = run(go)
    if as_json:
        print_json(done)
    else:
        say(f"Esiti registrati: {done['esiti']} ({done['respinti']} respinti) su {len(done['casi'])} casi.")


@siuss_app.command("flussi")
def siuss_flows(actor: str = ActorOpt, as_json: bool = JsonOpt) -> None:
    """I flussi prodotti, dal più recente: contenuto ed esiti."""
    from services.siuss import flows_view

    rows = run(lambda: flows_view(engine(), principal(actor)))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("Nessun flusso SIUSS prodotto.")
    for r in rows:
        say(f"{r['nome']} (periodo {r['periodo']}): {r['prestazioni']} prestazioni, {r['beneficiari']} beneficiari; "
            f"accettate {r['accettate']}, respinte {r['respinte']}, in attesa {r['in_attesa']}.")
