"""`legami import TIPO FILE [--dry-run]` and `legami import modello TIPO FILE.xlsx`: loading existing cases from
a spreadsheet, as the --actor user (coordinator or Ufficio di Piano), through services/importing.py. No rule here."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cli.common import JsonOpt, engine, fail, principal, print_json, run, say
from cli.italian import Typer

commands = Typer()


@commands.command("import")
def import_cases(
    case_type: str = typer.Argument(..., metavar="TIPO", help="Tipo di caso (patto, fna_domanda, sad_caso, ...), "
                                                              "oppure «modello» per scrivere il modello."),
    path: str = typer.Argument(..., metavar="FILE", help="Il file da importare (.xlsx o .csv con «;»); dopo "
                                                          "«modello»: il tipo di caso."),
    output: Optional[str] = typer.Argument(None, metavar="MODELLO.xlsx", help="Solo con «modello»: il file "
                                                                                "da scrivere."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Chi importa (coordinatore di sub-ambito o Ufficio "
                                                             "di Piano): i passi sono registrati a suo nome."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Controlla ogni riga e non scrive nulla."),
    report: Optional[str] = typer.Option(None, "--problemi", metavar="FILE",
                                         help="Scrive i problemi trovati in questo file (.csv o .xlsx)."),
    as_json: bool = JsonOpt,
) -> None:
    """Importa i casi esistenti da un foglio (una riga per caso, nello stato indicato, con le date dei passi già
    eseguiti): tutto o niente per file; una riga già importata (stesso identificativo esterno) è saltata.
    «legami import modello TIPO FILE.xlsx» scrive il modello del tipo di caso."""
    if case_type == "modello":
        _template(path, output, as_json)
        return
    if output is not None:
        fail(f"argomento in più: «{output}» (solo «legami import modello TIPO FILE.xlsx» ne prende tre)")
    if not actor:
        fail("--actor: indicare chi importa (coordinatore di sub-ambito o Ufficio di Piano)")
    result = run(lambda: _load(case_type, Path(path), actor, dry_run, report))
    if as_json:
        print_json(result.as_dict())
    else:
        _summary(result)
    if result.problems:
        raise typer.Exit(1)


def _template(case_type: str, output: Optional[str], as_json: bool) -> None:
    from services.import_files import write_template

    if not output:
        fail("manca il file da scrivere: «legami import modello TIPO FILE.xlsx»")
    run(lambda: write_template(case_type, output))
    if as_json:
        print_json({"tipo": case_type, "modello": output})
    else:
        say(f"Modello di importazione di «{case_type}» scritto in {output}.")


def _load(case_type: str, path: Path, actor: str, dry_run: bool, report: Optional[str]):
    from services.import_files import Table, problems_csv, problems_xlsx, sha256_of
    from services.importing import run_import

    if not path.is_file():
        raise ValueError(f"FILE: «{path}» non esiste")
    user = principal(actor)
    table = Table(path, case_type)
    shown = sys.stderr.isatty()  # the bar on a terminal only: a log or a pipe gets the summary alone
    with typer.progressbar(length=table.total or 0, label="Righe controllate", file=sys.stderr,
                           hidden=not shown) as bar:
        def progress(done: int, _total: int | None) -> None:
            bar.update(done - bar.pos)

        result = run_import(engine(), user, case_type, table.rows(), file_name=path.name,
                            file_sha256=sha256_of(path), dry_run=dry_run, header_problems=table.problems,
                            progress=progress, total=table.total)
    if report:
        data = problems_xlsx(result) if report.lower().endswith(".xlsx") else problems_csv(result)
        Path(report).write_bytes(data)
    return result


def _summary(result) -> None:
    if result.problems:
        say(f"{len(result.problems)} problemi in {result.rows} righe: nessun caso importato.")
        for p in result.problems[:50]:
            say(f"  riga {p.row}, «{p.column}»: {p.message}")
        if len(result.problems) > 50:
            say(f"  … e altri {len(result.problems) - 50} (--problemi FILE li scrive tutti)")
        return
    skipped = f"; {len(result.skipped)} già importate, saltate" if result.skipped else ""
    if result.dry_run:
        say(f"Prova: {result.rows} righe senza problemi, {len(result.loaded)} da importare{skipped}. "
            "Nulla è stato scritto.")
    else:
        say(f"Casi importati: {len(result.loaded)} (righe del file: {result.rows}){skipped}.")
