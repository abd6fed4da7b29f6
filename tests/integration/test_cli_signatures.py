"""`legami firma verifica`: a signed file received outside Legami is checked from the console, in Italian, with
--json and an exit code a script can read; the document inside a .p7m can be extracted. No database."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.signing_fixtures import SIGNER_CF, cades_sign, make_pki, pades_sign, plain_pdf, tamper

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("firme")
    pki = make_pki()
    p7m = cades_sign(plain_pdf(), pki)
    (folder / "patto.pdf.p7m").write_bytes(p7m)
    (folder / "alterato.pdf.p7m").write_bytes(tamper(p7m, b"Patto per", b"Pacco per"))
    (folder / "patto.pdf").write_bytes(pades_sign(plain_pdf(), pki))
    (folder / "semplice.pdf").write_bytes(plain_pdf())
    return folder


def test_a_signed_p7m_is_shown_in_italian_and_its_document_extracted(files, monkeypatch):
    monkeypatch.delenv("LEGAMI_SIGNATURE_TRUST_DIR", raising=False)
    out = files / "estratto.pdf"
    result = runner.invoke(app, ["firma", "verifica", str(files / "patto.pdf.p7m"), "--estrai", str(out)])
    assert result.exit_code == 0, result.output
    assert "Firmatario: Mario Rossi" in result.output and f"Codice fiscale: {SIGNER_CF}" in result.output
    assert "Fiducia: non verificata" in result.output
    assert out.read_bytes() == plain_pdf()


def test_the_json_of_a_signed_pdf_is_the_recorded_report(files):
    result = runner.invoke(app, ["firma", "verifica", str(files / "patto.pdf"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["formato"], report["integra"], report["firmatario_cf"]) == ("PAdES", True, SIGNER_CF)


def test_an_altered_or_unsigned_file_exits_non_zero(files):
    altered = runner.invoke(app, ["firma", "verifica", str(files / "alterato.pdf.p7m")])
    assert altered.exit_code == 1 and "Integra: no" in altered.output and "alterato" in altered.output
    unsigned = runner.invoke(app, ["firma", "verifica", str(files / "semplice.pdf"), "--json"])
    assert unsigned.exit_code == 1 and json.loads(unsigned.output) is None


@pytest.mark.parametrize("args, named", [
    (["firma", "verifica", "non-esiste.p7m"], "non-esiste.p7m"),
    (["firma", "verifica", "{pdf}", "--estrai", "x.pdf"], "--estrai"),
])
def test_bad_input_is_one_italian_line_naming_what_is_wrong(files, args, named):
    result = runner.invoke(app, [a.replace("{pdf}", str(files / "patto.pdf")) for a in args])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Errore: ") and named in lines[0]
