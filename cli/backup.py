"""`legami backup` and `legami restore`: copies of the database (with the folders and key files its settings name)
that restore. Administrative commands: they act on the whole district's data, with no --actor.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from cli.common import ADMIN, JsonOpt, fail, print_json, run, say
from cli.italian import Typer
from config.settings import get_settings

commands = Typer()


@commands.command(help="Copia di sicurezza in un archivio .tar.gz: il database (SQLite: copia in linea, coerente "
                       "anche mentre l'applicazione scrive; PostgreSQL: pg_dump), le cartelle e i file di chiavi "
                       "configurati, e un manifest.json con l'impronta SHA-256 di ogni parte, la versione di Legami "
                       "e la revisione del database. L'archivio contiene dati personali: conservarlo protetto. "
                       f"{ADMIN}")
def backup(
    out: Optional[Path] = typer.Option(None, "--out", help="File dell'archivio; se omesso "
                                       "legami-backup-AAAAMMGG-HHMMSS.tar.gz nella --cartella."),
    folder: Path = typer.Option(Path("."), "--cartella", help="Cartella delle copie (se --out è omesso)."),
    keep_days: Optional[int] = typer.Option(None, "--conserva-giorni", min=1,
                                            help="Elimina dalla cartella le copie legami-backup-* più vecchie di "
                                                 "N giorni (dopo aver scritto la nuova)."),
    as_json: bool = JsonOpt,
) -> None:
    from services.backup import create_backup, default_archive, locations_from_settings, prune_backups

    settings = get_settings()
    archive = out or default_archive(folder)
    manifest = run(lambda: create_backup(settings.database_url, archive, locations=locations_from_settings(settings)))
    removed = prune_backups(archive.parent, keep_days=keep_days) if keep_days else []
    result = {"archivio": str(archive), "database": manifest["backend"], "revisione": manifest["alembic_revision"],
              "legami": manifest["legami_version"], "creato_il": manifest["created_at"],
              "parti": [{"percorso": p["path"], "sha256": p["sha256"], "byte": p["size"]} for p in manifest["parts"]],
              "copie_eliminate": removed}
    if as_json:
        print_json(result)
        return
    size = sum(p["size"] for p in manifest["parts"])
    say(f"Copia scritta in {archive}: database {manifest['backend']} alla revisione "
               f"{manifest['alembic_revision']}, parti {len(manifest['parts'])} "
               f"({f'{size:,}'.replace(',', '.')} byte prima della compressione).")
    if removed:
        say(f"Copie più vecchie di {keep_days} giorni eliminate: {', '.join(removed)}")


@commands.command(help="Ripristina una copia fatta con `legami backup` nel database configurato (e nelle cartelle "
                       "configurate). Controlla prima l'impronta SHA-256 di ogni parte e la revisione; rifiuta un "
                       "database o una cartella non vuoti senza --sovrascrivi. Il database resta alla revisione "
                       f"della copia (`legami init` lo aggiorna). {ADMIN}")
def restore(
    archive: Path = typer.Argument(..., metavar="ARCHIVIO", help="L'archivio .tar.gz da ripristinare."),
    overwrite: bool = typer.Option(False, "--sovrascrivi", help="Sostituisce il contenuto attuale con la copia."),
    verify_only: bool = typer.Option(False, "--solo-verifica",
                                     help="Controlla l'archivio (impronte, manifest, revisione) senza scrivere nulla."),
    as_json: bool = JsonOpt,
) -> None:
    from services.backup import locations_from_settings, restore_backup

    settings = get_settings()
    if not archive.is_file():
        fail(f"archivio non trovato: {archive}")
    result = run(lambda: restore_backup(archive, settings.database_url, locations=locations_from_settings(settings),
                                        overwrite=overwrite, verify_only=verify_only))
    if as_json:
        print_json(result)
        return
    made = datetime.fromisoformat(result["creato_il"])
    from domain.italian import ROME

    what = (f"copia del {made.astimezone(ROME):%d/%m/%Y %H:%M} (Legami {result['legami']}, database "
            f"{result['database']}, revisione {result['revisione']}, parti: {result['parti']})")
    if verify_only:
        say(f"Archivio integro: {what}. Nulla è stato scritto.")
        return
    say(f"Ripristinata la {what} in {settings.database_url.split('@')[-1]}.")
    if result["revisione_attuale_di_legami"] != result["revisione"]:
        say(f"Questa versione di Legami è alla revisione {result['revisione_attuale_di_legami']}: "
                   "eseguire `legami init` per aggiornare il database.")
