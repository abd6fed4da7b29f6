"""`legami audit verify|checkpoint`: the tamper-evident history checked and anchored (services/audit.py).
Administrative commands: they read the whole district's history, with no --actor."""
from __future__ import annotations

import typer

from cli.common import ADMIN, JsonOpt, engine, print_json, run, say
from cli.italian import Typer
from config.settings import get_settings

audit_app = Typer(help="Registro di controllo: verifica delle catene di impronte e checkpoint firmati.",
                        no_args_is_help=True)


@audit_app.command("verify", help="Verifica ogni catena (i passi e il diario di ogni caso, il registro degli accessi ai dati "
                                  "sanitari), la coerenza di stato e versione dei casi con la loro storia e i "
                                  "checkpoint nella cartella di controllo; elenca ogni anomalia con caso e riga. "
                                  f"Esce con codice 1 se trova anomalie. {ADMIN}")
def verify(as_json: bool = JsonOpt) -> None:
    from services.audit import verify as run_verify

    result = run(lambda: run_verify(engine(), audit_dir=get_settings().audit_dir))
    if as_json:
        print_json(result.as_dict())
    else:
        say(f"Casi {result.cases}, passi {result.transitions}, letture di dati sanitari "
            f"{result.health_reads}, voci di diario {result.diary_entries}, "
            f"checkpoint confrontati {result.checkpoints}.")
        if result.ok:
            say("Registro integro: nessuna anomalia.")
        for b in result.breaks:
            say(f"ANOMALIA: {b}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint", help="Scrive il checkpoint firmato delle catene (testa e lunghezza di ognuna, "
                                      "radice e firma HMAC) nella cartella LEGAMI_AUDIT_DIR: conservarne una copia "
                                      f"fuori da questa macchina. {ADMIN}")
def checkpoint(as_json: bool = JsonOpt) -> None:
    from services.audit import audit_key
    from services.audit import checkpoint as write

    settings = get_settings()
    result = run(lambda: write(engine(), audit_dir=settings.audit_dir, key=audit_key(settings.secret_key)))
    if as_json:
        print_json(result)
        return
    say(f"Checkpoint scritto in {result['file']}: {result['catene']} catene, radice {result['radice']}.")
