"""`legami firma verifica FILE [--estrai PATH] [--json]`: the verification of a signed PDF or .p7m received outside
Legami (by PEC, on a stick), through the same call as an upload (services/signatures.py). No database, no rule
here. Exit code 0 when the signature is intact and not «non attendibile», 1 otherwise or with no signature."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.common import JsonOpt, fail, labelled, print_json, run, say
from cli.italian import Typer, file_error

signature_app = Typer(help="Firme digitali: verifica di un PDF firmato (PAdES) o di un file .p7m (CAdES).",
                      no_args_is_help=True)


@signature_app.command("verifica")
def verify(
    path: Path = typer.Argument(..., metavar="FILE", help="Il PDF firmato o il file .p7m da verificare."),
    extract: Optional[Path] = typer.Option(None, "--estrai", metavar="PERCORSO",
                                           help="Scrive qui il documento contenuto nel .p7m."),
    as_json: bool = JsonOpt,
) -> None:
    """Verifica integrità e certificato della firma; la fiducia nell'autorità è «non verificata» senza archivio di
    fiducia (LEGAMI_SIGNATURE_TRUST_DIR)."""
    from services.signatures import verify_signature

    try:
        content = path.read_bytes()
    except OSError as exc:
        fail(file_error(exc))
    media_type = "application/pkcs7-mime" if path.suffix.lower() in (".p7m", ".p7s") else "application/octet-stream"
    report = run(lambda: verify_signature(content, media_type))
    if report is None:
        if as_json:
            print_json(None)
        else:
            say(f"Il file «{path.name}» non contiene firme digitali.")
        raise typer.Exit(1)
    if extract is not None:
        if report.inner_content is None:
            fail(f"--estrai: «{path.name}» non contiene un documento da estrarre (solo i .p7m lo contengono)")
        try:
            extract.write_bytes(report.inner_content)
        except OSError as exc:
            fail(file_error(exc))
    if as_json:
        print_json({**report.as_record(), "estratto": str(extract) if extract else None})
    else:
        labelled("Formato", report.formato)
        labelled("Firmatario", report.firmatario_nome)
        labelled("Codice fiscale", report.firmatario_cf)
        labelled("Firmato il", report.firma_data)
        labelled("Integra", report.integra)
        labelled("Fiducia", report.fiducia)
        if report.altri_firmatari:
            labelled("Altri firmatari", list(report.altri_firmatari))
        say(report.dettaglio)
        if extract is not None:
            say(f"Documento firmato scritto in {extract}.")
    if not report.integra or report.fiducia == "non attendibile":
        raise typer.Exit(1)
