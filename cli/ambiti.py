"""`legami ambito list|load CARTELLA|show CODICE`: the Ambiti an instance holds (administrative commands)."""
from __future__ import annotations

from pathlib import Path

import typer

from cli.common import ADMIN, JsonOpt, engine, print_json, run, say, table
from cli.italian import Typer

ambito_app = Typer(help="Gli Ambiti dell'istanza: comuni, distretti, sub-ambiti ed enti gestori. " + ADMIN,
                   no_args_is_help=True)


@ambito_app.command("list")
def ambito_list(as_json: bool = JsonOpt) -> None:
    """Gli Ambiti caricati, il predefinito per primo, con il numero di comuni, distretti ed enti gestori."""
    from services.ambiti import ambiti_summary

    rows = run(lambda: ambiti_summary(engine()))
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("Nessun Ambito caricato: eseguire legami init.")
        return
    table([{**r, "predefinito": "sì" if r["predefinito"] else ""} for r in rows],
          [("codice", "codice"), ("nome", "nome"), ("comuni", "comuni"), ("distretti", "distretti"),
           ("enti_gestori", "enti gestori"), ("predefinito", "predefinito")])


@ambito_app.command("load")
def ambito_load(folder: Path = typer.Argument(..., metavar="CARTELLA",
                                             help="Cartella dell'Ambito: district.toml, comuni.csv, providers.csv."),
                as_json: bool = JsonOpt) -> None:
    """Carica (o ricarica) un Ambito accanto a quelli dell'istanza; nulla è scritto se un file ha un errore."""
    from services.ambiti import ambito_detail
    from services.setup import load_ambito

    district = run(lambda: load_ambito(engine(), folder))
    detail = run(lambda: ambito_detail(engine(), district.code))
    if as_json:
        print_json(detail)
        return
    say(f"Ambito «{district.name}» ({district.code}) caricato: {len(district.comuni)} comuni, "
        f"{len(district.all_distretti())} distretti, {len(district.all_enti_gestori())} enti gestori.")


@ambito_app.command("show")
def ambito_show(code: str = typer.Argument(..., metavar="CODICE", help="Codice dell'Ambito (es. cremasco, lodi)."),
                as_json: bool = JsonOpt) -> None:
    """Un Ambito: distretti, enti gestori con i loro comuni, note e file di impostazioni che si applicano."""
    from services.ambiti import ambito_detail

    detail = run(lambda: ambito_detail(engine(), code))
    if as_json:
        print_json(detail)
        return
    say(f"{detail['nome']} ({detail['codice']}){' · predefinito' if detail['predefinito'] else ''}")
    for d in detail["distretti"]:
        say(f"Distretto {d['nome']}: {d['comuni']} comuni" + (" (provvisorio)" if detail["distretti_provvisori"]
                                                               else ""))
    for e in detail["enti_gestori"]:
        say(f"Ente gestore {e['nome']} <{e['email']}>: {e['comuni']} comuni"
            + (" (assegnazione provvisoria)" if detail["enti_gestori_provvisori"] else ""))
    for name, where in detail["impostazioni"].items():
        say(f"{name}: {where['livello']} ({where['percorso']})")
    if detail["popolazione_mancante"]:
        say("Popolazione: dato mancante per alcuni comuni.")
    if detail["note"]:
        say(f"Note: {detail['note']}")
