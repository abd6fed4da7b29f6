"""The indicators dashboard (/cruscotto): the tallies against the range di valutazione, per sub-ambito.

Who: sub-area coordinators (their own sub-ambito and the district total), the planning office, the
Organismo di Valutazione (aggregates only, which is all this page shows) and CSC. Social workers and
providers are refused here, whatever the menu shows. `indicator_scope` is that decision, the only one: the
page and the API's /indicatori (`indicators_for`) both go through it. Cells about fewer people than the threshold are
suppressed by the tallies (services/tallies.py) and stay suppressed: only whole rows are filtered here.

The numbers come from the day's snapshot (tally_snapshot, written by the daily flow) when there is one for
the as-of day; otherwise they are computed. Charts and tables are those of the yearly report
(reports/model.py, reports/chart.py): inline SVG with role="img" and an aria-label, and a table with the
same numbers next to each chart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal
from domain.errors import InvalidData
from domain.validation import FieldError
from domain.workflow import Role
from reports import format as fmt
from reports import model
from services.tallies import DISTRICT, compute_tallies, read_snapshot
from store import case_reads, reference

R = Role
DASHBOARD_ROLES = frozenset({R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.EVALUATOR, R.CSC_ADMIN})
REFUSED = ("il cruscotto degli indicatori è riservato ai coordinatori di sub-ambito, all'Ufficio di Piano, "
           "all'Organismo di Valutazione e a CSC")
OTHER_AREA = "il coordinatore consulta gli indicatori del proprio sub-ambito e il totale del distretto"
BREAKDOWNS = {"sub_ambito": "sub-ambito", "distretto": "distretto", "ente_gestore": "ente gestore"}


@dataclass
class Row:
    label: str
    unit: str
    cells: list[str]  # one per column key
    total: str


@dataclass
class Group:
    ident: str
    title: str
    rows: list[Row]


@dataclass
class Dashboard:
    year: int
    as_of: date
    years: list[int]
    sub_ambiti: list[str]
    chosen: str | None  # None: every sub-ambito
    locked: bool  # a coordinator: the sub-ambito cannot be changed
    from_snapshot: bool
    threshold: int
    targeted: list[model.Indicator]
    columns: list[str]  # the column keys of the other indicators' tables
    groups: list[Group] = field(default_factory=list)
    per: str = "sub_ambito"  # the breakdown: sub_ambito, distretto or ente_gestore (BREAKDOWNS)
    breakdowns: dict[str, str] = field(default_factory=lambda: dict(BREAKDOWNS))

    @property
    def hidden(self) -> str:
        return fmt.hidden(self.threshold)

    def column_label(self, key: str) -> str:
        return model.key_label(key)


def dashboard_refusal(principal: Principal) -> str | None:
    """None if the user may open the dashboard: the page and its menu entry (web/nav.py)."""
    return None if principal.role in DASHBOARD_ROLES else REFUSED


def authorize_dashboard(principal: Principal) -> None:
    reason = dashboard_refusal(principal)
    if reason is not None:
        raise AccessDenied(reason)


@dataclass(frozen=True)
class IndicatorScope:
    """The indicator cells a principal may read: one sub-ambito's rows with the district totals, or every row."""
    sub_ambito: str | None  # None: every sub-ambito, and the cases of no sub-ambito (calls, adhesions)
    locked: bool  # a coordinator: the sub-ambito is theirs and cannot be changed

    def rows(self, item: dict[str, Any]) -> dict[str, Any]:
        """An indicator (or deadline series) with only the rows in scope (its district total is kept)."""
        if self.sub_ambito is None:
            return item
        return {**item, "righe": [line for line in item["righe"] if line["chiave"] == self.sub_ambito]}

    def restrict(self, body: dict[str, Any]) -> dict[str, Any]:
        """A tallies body by sub-ambito cut to the scope: the rows and the intervals' keys (the district-wide
        backlog and state-to-state steps are district totals, kept as the totals are)."""
        if self.sub_ambito is None:
            return body
        kept = {self.sub_ambito, "totale"}
        intervals = [{**iv, "lordo": {k: v for k, v in iv["lordo"].items() if k in kept},
                      "netto_sospensioni": {k: v for k, v in iv["netto_sospensioni"].items() if k in kept}}
                     for iv in body["intervalli"]]
        return {**body, "indicatori": [self.rows(i) for i in body["indicatori"]],
                "scadenze": [self.rows(d) for d in body["scadenze"]], "intervalli": intervals}


def indicator_scope(principal: Principal, requested: str | None, known: list[str],
                    per: str = "sub_ambito") -> IndicatorScope:
    """Who reads which sub-ambito's indicators, for every entrance (page, API): the dashboard's roles only; a
    coordinator their own sub-ambito (asking for another, or another breakdown, is refused), the others any
    existing one or all, or every distretto or managing body of their Ambito (`per`).
    `known`: the district's sub-ambiti; `requested` is matched without regard to case."""
    authorize_dashboard(principal)
    requested = (requested or "").strip() or None
    if per not in BREAKDOWNS:
        raise InvalidData([FieldError("per", "Ripartizione", f"valore non ammesso «{per}» (scegliere tra "
                                                             f"{', '.join(BREAKDOWNS)})")])
    if per != "sub_ambito":
        if principal.role is R.SUBAREA_COORDINATOR:
            raise AccessDenied(OTHER_AREA)
        if requested is not None:
            raise InvalidData([FieldError("sub_ambito", "Sub-ambito", "si sceglie un sub-ambito solo nella "
                                                                       "ripartizione per sub-ambito")])
        return IndicatorScope(None, locked=False)
    match = next((a for a in known if a.lower() == requested.lower()), None) if requested else None
    if principal.role is R.SUBAREA_COORDINATOR:
        if principal.sub_ambito is None or (requested is not None and match != principal.sub_ambito):
            raise AccessDenied(OTHER_AREA)
        return IndicatorScope(principal.sub_ambito, locked=True)
    if requested is not None and match is None:
        raise InvalidData([FieldError("sub_ambito", "Sub-ambito",
                                      f"sub-ambito «{requested}» inesistente (scegliere tra {', '.join(known)})")])
    return IndicatorScope(match, locked=False)


def available_years(engine: Engine, today: date, ambito: str | None = None) -> list[int]:
    """The years from the first case's (of `ambito`, when given: not the whole instance's) to today's, latest first."""
    first = case_reads.first_opened_at(engine, ambito)
    start = min(first.year if first else today.year, today.year)
    return list(range(today.year, start - 1, -1))


def sub_ambiti(engine: Engine, principal: Principal | None = None) -> list[str]:
    """The sub-ambiti offered (of the principal's Ambito, when bound to one)."""
    ambito = principal.ambito_code if principal is not None else None
    return reference.sub_ambiti(engine, ambito)


def tallies_for(engine: Engine, *, year: int, as_of: date, ambito: Any = None,
                by: str = "sub_ambito") -> tuple[dict[str, Any], bool]:
    """The tallies by sub-ambito (or `by`) as of `as_of` (of `ambito`'s cases, a domain.conditions.AmbitoScope):
    the day's snapshot when the daily flow stored one: the instance's when it holds one Ambito (it counts them
    all), else the Ambito's own (ambito_tally_snapshot, written by the night's per-Ambito tallies)."""
    per_ambito = ambito is not None and len(reference.ambiti(engine)) > 1
    if by != "sub_ambito":
        return compute_tallies(engine, year=year, as_of=as_of, by=by, ambito=ambito), False
    body = read_snapshot(engine, as_of=as_of, ambito=ambito.code if per_ambito else None)
    stored = (body or {}).get("sub_ambito")
    if stored and stored.get("anno") == year and stored.get("al") == as_of.isoformat():
        return stored, True
    return compute_tallies(engine, year=year, as_of=as_of, by="sub_ambito",
                           ambito=ambito if per_ambito else None), False


def indicators_for(engine: Engine, principal: Principal, *, today: date, year: int,
                   sub_ambito: str | None = None, per: str = "sub_ambito") -> dict[str, Any]:
    """The API's indicators of `year` by sub-ambito (or `per`), as of today (or 31 December of a past year): the
    numbers of the dashboard, cut to the same scope."""
    scope = indicator_scope(principal, sub_ambito, sub_ambiti(engine, principal), per)
    body, _ = tallies_for(engine, year=year, as_of=min(today, date(year, 12, 31)), ambito=principal.ambito, by=per)
    return {**scope.restrict(body), "sub_ambito": scope.sub_ambito, "per": per}


def dashboard_for(engine: Engine, principal: Principal, *, today: date, year: int | None = None,
                  sub_ambito: str | None = None, per: str | None = None) -> Dashboard:
    per = (per or "").strip() or "sub_ambito"
    areas = sub_ambiti(engine, principal)
    scope = indicator_scope(principal, sub_ambito, areas, per)
    sub_ambito, locked = scope.sub_ambito, scope.locked
    years = available_years(engine, today, principal.ambito_code)
    year = year or today.year
    if year not in years:
        raise InvalidData([FieldError("anno", "Anno", f"anno {year} non disponibile (da {years[-1]} a {years[0]})")])
    as_of = min(today, date(year, 12, 31))
    result, from_snapshot = tallies_for(engine, year=year, as_of=as_of, ambito=principal.ambito, by=per)
    threshold = result["soglia_riservatezza"]
    indicators = [_named(scope.rows(i), _key_names(engine, principal, per)) for i in result["indicatori"]]
    targeted = [model.indicator_view(i, None, threshold, per) for i in indicators if i["obiettivo"]]
    if sub_ambito is not None:
        columns = [sub_ambito]
    elif per != "sub_ambito":
        present = {line["chiave"] for i in indicators for line in i["righe"]}
        columns = sorted(present - {DISTRICT}) + ([DISTRICT] if DISTRICT in present else [])
    else:
        present = {line["chiave"] for i in indicators for line in i["righe"]}
        columns = [a for a in areas if a in present] + ([DISTRICT] if DISTRICT in present else [])
    groups = []
    for ident, title in model.groups():
        rows = [_row(i, columns, threshold) for i in indicators if i["gruppo"] == ident and not i["obiettivo"]]
        groups.append(Group(ident, title, rows))
    deadlines = [_named(scope.rows(d), _key_names(engine, principal, per)) for d in result["scadenze"]]
    groups.append(Group("scadenze", "Scadenze rispettate", [_row(d, columns, threshold) for d in deadlines]))
    return Dashboard(year, as_of, years, areas, sub_ambito, locked, from_snapshot, threshold, targeted, columns,
                     groups, per)


def _key_names(engine: Engine, principal: Principal, per: str) -> dict[str, str]:
    """The managing bodies' names by code (the keys of the breakdown by ente gestore); none for the others."""
    if per != "ente_gestore":
        return {}
    return {e.codice: e.nome for e in reference.enti_gestori(engine, principal.ambito_code)}


def _named(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    if not names:
        return item
    return {**item, "righe": [{**line, "chiave": names.get(line["chiave"], line["chiave"])} for line in item["righe"]]}


def _row(item: dict[str, Any], columns: list[str], threshold: int) -> Row:
    unit = item["unita"]
    lines = {line["chiave"]: line for line in item["righe"]}
    cells = [fmt.cell(lines[k], unit, threshold) if k in lines else fmt.MISSING for k in columns]
    return Row(item["etichetta"], fmt.UNIT_LABELS.get(unit, unit), cells, fmt.cell(item["totale"], unit, threshold))
