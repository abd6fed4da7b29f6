"""From the tally results to what the report shows: sections, formatted cells, tables and charts.

The main breakdown is "sub_ambito"; "type" (when given) adds a table by kind for the case types that have kinds.
Interval statistics over fewer cases than the privacy threshold are hidden here too (the tallies do not hide
them): a median over one person is that person's own figure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from domain.registry import get_workflow
from domain.registry import groups as registry_groups
from reports import format as fmt
from reports.chart import Bar, Chart, bar_chart



def groups() -> list[tuple[str, str]]:
    """The indicator groups (code, title), as the case types declare them (domain/casetypes/)."""
    return [(g.code, g.label) for g in registry_groups()]


def group_label(code: str) -> str:
    return dict(groups()).get(code, code)


DISTRICT_KEY, NO_KIND = "distretto", "—"
KEY_LABELS = {DISTRICT_KEY: "Livello distrettuale (senza comune)", NO_KIND: "Tipologia non ancora definita"}


@dataclass
class Table:
    caption: str
    key_header: str
    rows: list[tuple[str, str, str]]  # (key label, value, people)
    total: tuple[str, str, str] | None = None
    count_header: str = "Persone"
    targets: list[tuple[str, str]] | None = None  # per row: (the sub-ambito's range, band and projection)


@dataclass
class Target:
    band: str
    outcome: str
    status: str | None
    projection: str
    projection_outcome: str
    source: str


@dataclass
class Indicator:
    code: str
    label: str
    unit: str
    total: str
    people: str
    target: Target | None = None
    chart: Markup | None = None
    tables: list[Table] = field(default_factory=list)
    count_label: str = "Persone"  # what the cells' n counts


@dataclass
class Section:
    ident: str
    title: str
    indicators: list[Indicator]


def key_label(key: str, case_type: str | None = None, by: str = "sub_ambito") -> str:
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    if by == "type" and case_type:
        return dict(get_workflow(case_type).kinds).get(key, key)
    return key


def breakdown_table(lines: list[dict], total: dict, *, unit: str, threshold: int, by: str,
                    case_type: str | None = None) -> Table:
    headers = {"sub_ambito": ("Sub-ambito", "Per sub-ambito"), "type": ("Tipologia", "Per tipologia"),
               "distretto": ("Distretto", "Per distretto"), "ente_gestore": ("Ente gestore", "Per ente gestore")}
    header, caption = headers.get(by, (by, f"Per {by}"))
    rows = [(key_label(line["chiave"], case_type, by), fmt.cell(line, unit, threshold), fmt.people(line, threshold))
            for line in lines]
    targets = [row_target(line.get("obiettivo"), unit) for line in lines] \
        if any(line.get("obiettivo") for line in lines) else None
    return Table(caption, header, rows, ("Totale", fmt.cell(total, unit, threshold), fmt.people(total, threshold)),
                 targets=targets)


def row_target(target: dict | None, unit: str) -> tuple[str, str]:
    """(range, "esito; proiezione a fine anno X (esito)") of a sub-ambito's row; dashes without a target."""
    if not target:
        return (fmt.MISSING, fmt.MISSING)
    view = target_view(target, unit)
    return (view.band, f"{view.outcome}; proiezione {view.projection} ({view.projection_outcome})")


def target_view(target: dict | None, unit: str) -> Target | None:
    if not target:
        return None
    return Target(band=fmt.band(target["min"], target["max"], unit), outcome=fmt.outcome(target["esito"]),
                  status=target["esito"], projection=fmt.figure(target.get("proiezione_fine_anno"), unit),
                  projection_outcome=fmt.outcome(target.get("esito_proiezione")), source=target.get("fonte", ""))


def indicator_chart(indicator: dict, threshold: int) -> Markup | None:
    target = indicator["obiettivo"]
    if not target:
        return None
    bars = [Bar(key_label(line["chiave"]), line) for line in indicator["righe"]]
    bars.append(Bar("Totale distretto", indicator["totale"], total=True))
    projection = target.get("proiezione_fine_anno")
    shown = projection if projection != indicator["totale"]["valore"] else None
    return bar_chart(Chart(f"grafico-{indicator['codice']}", indicator["etichetta"], indicator["unita"], bars,
                           target["min"], target["max"], threshold, shown))


def indicator_view(indicator: dict, by_kind: dict | None, threshold: int, by: str = "sub_ambito") -> Indicator:
    unit, case_type = indicator["unita"], indicator["tipo_caso"]
    tables = [breakdown_table(indicator["righe"], indicator["totale"], unit=unit, threshold=threshold,
                              by=by)] if indicator["righe"] else []
    if by_kind and by_kind["righe"] and get_workflow(case_type).kinds:
        tables.append(breakdown_table(by_kind["righe"], by_kind["totale"], unit=unit, threshold=threshold,
                                      by="type", case_type=case_type))
    return Indicator(code=indicator["codice"], label=indicator["etichetta"], unit=fmt.UNIT_LABELS[unit],
                     total=fmt.cell(indicator["totale"], unit, threshold),
                     people=fmt.people(indicator["totale"], threshold),
                     target=target_view(indicator["obiettivo"], unit), chart=indicator_chart(indicator, threshold),
                     tables=tables)


def sections(results: dict[str, dict]) -> list[Section]:
    main, threshold = results["sub_ambito"], results["sub_ambito"]["soglia_riservatezza"]
    kinds = {i["codice"]: i for i in results["type"]["indicatori"]} if "type" in results else {}
    return [Section(group, title, [indicator_view(i, kinds.get(i["codice"]), threshold)
                                   for i in main["indicatori"] if i["gruppo"] == group])
            for group, title in groups()]


def deadline_view(deadline: dict, threshold: int) -> Indicator:
    """Deadlines met: the cells' n counts the people the deadlines are about (hidden under the threshold)."""
    unit, total = deadline["unita"], deadline["totale"]
    tables = []
    if deadline["righe"]:
        tables.append(breakdown_table(deadline["righe"], total, unit=unit, threshold=threshold, by="sub_ambito"))
    return Indicator(code=deadline["codice"], label=deadline["etichetta"], unit=fmt.UNIT_LABELS[unit],
                     total=fmt.cell(total, unit, threshold), people=fmt.people(total, threshold), tables=tables)


def deadline_views(result: dict) -> list[Indicator]:
    return [deadline_view(d, result["soglia_riservatezza"]) for d in result["scadenze"]]


def interval_rows(interval: dict, threshold: int) -> list[tuple[str, ...]]:
    """(key, cases, gross median, gross p90, net median, net p90), the total first."""
    keys = sorted(interval["lordo"], key=lambda k: (k != "totale", k))
    rows = []
    for key in keys:
        gross, net = interval["lordo"][key], interval["netto_sospensioni"].get(key, {})
        label = "Totale" if key == "totale" else key_label(key)
        if gross.get("soppresso"):  # decided by the tallies: a median over 1-4 people is theirs
            rows.append((label, *[fmt.hidden(threshold)] * 5))
            continue
        stats = [gross["mediana"], gross["p90"], net.get("mediana"), net.get("p90")]
        rows.append((label, fmt.number(gross["casi"]), *(fmt.figure(v, "giorni") for v in stats)))
    return rows


def interval_views(result: dict) -> list[dict]:
    threshold = result["soglia_riservatezza"]
    return [{"code": iv["codice"], "label": iv["etichetta"], "group": group_label(iv["gruppo"]),
             "rows": interval_rows(iv, threshold)} for iv in result["intervalli"]]


def backlog_rows(result: dict) -> list[tuple[str, str, str]]:
    threshold = result["soglia_riservatezza"]
    return [(get_workflow(b["tipo_caso"]).label, b["stato_etichetta"], fmt.cell(b, "n", threshold))
            for b in result["arretrato"]]


def state_interval_rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    """(case type, from -> to, cases, median, p90) of every state-to-state step; hidden ones as "n<N"."""
    threshold = result["soglia_riservatezza"]
    rows = []
    for i in result.get("intervalli_stati", []):
        step = f"{i['da_etichetta']} → {i['a_etichetta']}"
        if i["soppresso"]:
            rows.append((get_workflow(i["tipo_caso"]).label, step, *[fmt.hidden(threshold)] * 3))
        else:
            rows.append((get_workflow(i["tipo_caso"]).label, step, fmt.number(i["casi"]),
                         fmt.figure(i["mediana"], "giorni"), fmt.figure(i["p90"], "giorni")))
    return rows
