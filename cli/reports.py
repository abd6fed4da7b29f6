"""Figures out of the case history: `legami tally`, `legami report` (aggregates, small cells suppressed), and a
person's deadlines as a calendar, `legami calendar` (that person's scope, as the .ics link on the web)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from cli.common import JsonOpt, day_in_year, engine, fail, print_json, run, say, table
from cli.italian import Typer
from config.settings import get_settings

commands = Typer()


@commands.command()
def tally(
    year: int = typer.Option(..., "--year", "--anno"),
    by: str = typer.Option("sub_ambito", "--by", "--per", help="sub_ambito | comune | type | misura | fascia_eta | "
                                                               "ente | distretto | ente_gestore"),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATA", help="Conteggi come noti a quel giorno."),
    ambito: Optional[str] = typer.Option(None, "--ambito", metavar="CODICE",
                                         help="Solo i casi di questo Ambito (predefinito: tutta l'istanza)."),
    regione: bool = typer.Option(False, "--regione", help="Ogni Ambito dell'istanza, per distretto (come la "
                                                          "pagina Regione del lettore regionale)."),
    as_json: bool = JsonOpt,
) -> None:
    """Indicatori dell'anno (dalla storia dei casi), con obiettivi e celle piccole oscurate."""
    from services.ambiti import ambito_scope
    from services.tallies import compute_tallies, read_snapshot

    day = day_in_year(year, as_of)
    if regione:
        if ambito:
            fail("--regione: mostra già ogni Ambito, non si indica con --ambito")
        return _regional(year, day, as_json)
    scope = run(lambda: ambito_scope(engine(), ambito)) if ambito else None
    stored = read_snapshot(engine(), as_of=day) if day.year == year and scope is None else None
    result = (stored or {}).get(by) or run(lambda: compute_tallies(engine(), year=year, as_of=day, by=by,
                                                                   ambito=scope))
    if as_json:
        print_json(result)
        return
    say(f"Indicatori {year} al {day:%d/%m/%Y}, per {by} (celle con meno di "
               f"{result['soglia_riservatezza']} persone oscurate)")
    keys = sorted({r["chiave"] for i in result["indicatori"] for r in i["righe"]})
    rows = []
    for i in result["indicatori"]:
        cells = {r["chiave"]: r for r in i["righe"]}
        target = i["obiettivo"]
        rows.append({"indicatore": i["etichetta"], "totale": _shown(i["totale"], result),
                     **{k: _shown(cells.get(k), result) for k in keys},
                     "obiettivo": f"{target['min']:g}-{target['max']:g}: {target['esito'] or '—'} "
                                  f"(proiezione {target['esito_proiezione'] or '—'})" if target else ""})
    table(rows, [("indicatore", "indicatore"), ("totale", "totale"), *[(k, k) for k in keys],
                 ("obiettivo", "range di valutazione")], repeat=1)
    by_area = [{"indicatore": i["etichetta"], "chiave": r["chiave"], "valore": _shown(r, result),
                "range": _band(r["obiettivo"]),
                "esito": r["obiettivo"]["esito"] or "—",
                "proiezione": "—" if r["obiettivo"]["proiezione_fine_anno"] is None
                else f"{r['obiettivo']['proiezione_fine_anno']:g} ({r['obiettivo']['esito_proiezione'] or '—'})"}
               for i in result["indicatori"] for r in i["righe"] if r.get("obiettivo")]
    if by_area:
        say("\nObiettivi per sub-ambito (range proprio o ripartito per popolazione, config/tallies.toml):")
        table(by_area, [("indicatore", "indicatore"), ("chiave", "sub-ambito"), ("valore", "valore"),
                        ("range", "range"), ("esito", "esito"), ("proiezione", "proiezione a fine anno")], repeat=1)


def _regional(year: int, day, as_json: bool) -> None:
    from services.regional import regional_indicators

    result = run(lambda: regional_indicators(engine(), None, year=year, as_of=day))
    if as_json:
        print_json(result)
        return
    say(f"Indicatori {year} al {day:%d/%m/%Y} per Ambito e distretto (in ogni Ambito celle con meno di "
        f"{result['soglia_riservatezza']} persone oscurate)")
    names = {a["codice"]: a["nome"] for a in result["ambiti"]}
    rows = [{"indicatore": i["etichetta"], "ambito": names[a["ambito"]], "distretto": d["chiave"] if d else "totale",
             "valore": _shown(d or a["totale"], result)}
            for i in result["indicatori"] for a in i["ambiti"] for d in [None, *a["distretti"]]]
    table(rows, [("indicatore", "indicatore"), ("ambito", "Ambito"), ("distretto", "distretto"),
                 ("valore", "valore")], repeat=1)


def _band(target: dict) -> str:
    low, high = target["min"], target["max"]
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _shown(cell: Optional[dict], result: dict) -> str:
    if not cell:
        return "0"
    if cell["soppresso"]:
        return f"n<{result['soglia_riservatezza']}"
    value = cell["valore"]
    return "—" if value is None else f"{value:,}".replace(",", "X").replace(".", ",").replace("X", ".")


@commands.command()
def report(
    year: int = typer.Option(..., "--year", "--anno"),
    fmt: Optional[str] = typer.Option(None, "--format", "--formato",
                                      help="pdf | html | xlsx | csv; se omesso, dall'estensione del file --out."),
    out: Path = typer.Option(..., "--out", metavar="FILE", help="File di destinazione (.pdf, .html, .xlsx, .csv)."),
    by: str = typer.Option("sub_ambito", "--by", "--per", help="Solo per csv: la ripartizione."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATA"),
) -> None:
    """Relazione annuale per l'Organismo di Valutazione (PDF/HTML con grafici), esportazioni XLSX e CSV."""
    from services.report_data import report_file

    fmt = report_format(fmt, out)
    day = day_in_year(year, as_of)
    out.write_bytes(report_file(engine(), year=year, as_of=day, fmt=fmt, by=by))
    say(f"Relazione {year} al {day:%d/%m/%Y} scritta in {out}.")


FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".xlsx": "xlsx", ".csv": "csv"}


def report_format(given: Optional[str], out: Path) -> str:
    """The report's format: the one given, which must match the file's extension, or the extension's."""
    from_name = FORMATS.get(out.suffix.lower())
    if given is None:
        if from_name is None:
            fail(f"--out: dall'estensione di «{out.name}» non si capisce il formato: usare .pdf, .html, .xlsx o "
                 ".csv, oppure --format")
        return from_name
    fmt = given.lower()
    if fmt not in set(FORMATS.values()):
        fail(f"--format: valore non ammesso «{given}» (pdf, html, xlsx, csv)")
    if from_name is not None and from_name != fmt:
        fail(f"--out: il file «{out.name}» ha l'estensione di un {from_name}, ma --format chiede {fmt}: "
             f"nulla è stato scritto")
    return fmt


@commands.command()
def calendar(
    username: str = typer.Argument(..., metavar="UTENTE", help="Nome utente della persona."),
    out: Optional[Path] = typer.Option(None, "--out", help="File .ics; se omesso stampa sullo standard output."),
) -> None:
    """Il calendario .ics di una persona: le sue scadenze e gli obblighi del suo ruolo."""
    from flows.jobs import today_in_rome
    from services.calendar_feed import calendar_for

    ics = run(lambda: calendar_for(engine(), username, today=today_in_rome(), base_url=get_settings().base_url))
    if out:
        out.write_bytes(ics)
        say(f"Calendario scritto in {out}.")
    else:
        sys.stdout.write(ics.decode("utf-8"))
