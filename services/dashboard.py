"""The indicators dashboard (/cruscotto): the tallies against the range di valutazione, per sub-ambito.

Who: sub-area coordinators (their own sub-ambito and the district total), the planning office, the
Organismo di Valutazione (aggregates only, which is all this page shows) and CSC. Social workers and
providers are refused here, whatever the menu shows. Cells about fewer people than the threshold are
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

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal
from domain.errors import InvalidData
from domain.validation import FieldError
from domain.workflow import Role
from reports import format as fmt
from reports import model
from services.tallies import DISTRICT, compute_tallies, read_snapshot
from store.tables import SubAmbito, case_t

R = Role
DASHBOARD_ROLES = frozenset({R.SUBAREA_COORDINATOR, R.PLANNING_OFFICE, R.EVALUATOR, R.CSC_ADMIN})
REFUSED = ("il cruscotto degli indicatori è riservato ai coordinatori di sub-ambito, all'Ufficio di Piano, "
           "all'Organismo di Valutazione e a CSC")
OTHER_AREA = "il coordinatore consulta gli indicatori del proprio sub-ambito e il totale del distretto"


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

    @property
    def hidden(self) -> str:
        return fmt.hidden(self.threshold)

    def column_label(self, key: str) -> str:
        return model.key_label(key)


def authorize_dashboard(principal: Principal) -> None:
    if principal.role not in DASHBOARD_ROLES:
        raise AccessDenied(REFUSED)


def available_years(engine: Engine, today: date) -> list[int]:
    with engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(case_t.c.opened_at))).scalar()
    start = min(first.year if first else today.year, today.year)
    return list(range(today.year, start - 1, -1))


def sub_ambiti(engine: Engine) -> list[str]:
    t = SubAmbito.__table__
    with engine.connect() as conn:
        return list(conn.execute(sa.select(t.c.nome).order_by(t.c.nome)).scalars())


def tallies_for(engine: Engine, *, year: int, as_of: date) -> tuple[dict[str, Any], bool]:
    """The tallies by sub-ambito as of `as_of`: the day's snapshot when the daily flow stored one."""
    body = read_snapshot(engine, as_of=as_of)
    stored = (body or {}).get("sub_ambito")
    if stored and stored.get("anno") == year and stored.get("al") == as_of.isoformat():
        return stored, True
    return compute_tallies(engine, year=year, as_of=as_of, by="sub_ambito"), False


def _only(item: dict[str, Any], key: str | None) -> dict[str, Any]:
    """The indicator with only the chosen sub-ambito's row (the district total is kept as it is)."""
    if key is None:
        return item
    return {**item, "righe": [line for line in item["righe"] if line["chiave"] == key]}


def dashboard_for(engine: Engine, principal: Principal, *, today: date, year: int | None = None,
                  sub_ambito: str | None = None) -> Dashboard:
    authorize_dashboard(principal)
    areas = sub_ambiti(engine)
    sub_ambito = (sub_ambito or "").strip() or None
    locked = principal.role is R.SUBAREA_COORDINATOR
    if locked:
        if sub_ambito is not None and sub_ambito != principal.sub_ambito:
            raise AccessDenied(OTHER_AREA)
        sub_ambito = principal.sub_ambito
    elif sub_ambito is not None and sub_ambito not in areas:
        raise InvalidData([FieldError("sub_ambito", "Sub-ambito", f"sub-ambito «{sub_ambito}» inesistente")])
    years = available_years(engine, today)
    year = year or today.year
    if year not in years:
        raise InvalidData([FieldError("anno", "Anno", f"anno {year} non disponibile (da {years[-1]} a {years[0]})")])
    as_of = min(today, date(year, 12, 31))
    result, from_snapshot = tallies_for(engine, year=year, as_of=as_of)
    threshold = result["soglia_riservatezza"]
    indicators = [_only(i, sub_ambito) for i in result["indicatori"]]
    targeted = [model.indicator_view(i, None, threshold) for i in indicators if i["obiettivo"]]
    if sub_ambito is not None:
        columns = [sub_ambito]
    else:
        present = {line["chiave"] for i in indicators for line in i["righe"]}
        columns = [a for a in areas if a in present] + ([DISTRICT] if DISTRICT in present else [])
    groups = []
    for ident, title in model.groups():
        rows = [_row(i, columns, threshold) for i in indicators if i["gruppo"] == ident and not i["obiettivo"]]
        groups.append(Group(ident, title, rows))
    deadlines = [_only(d, sub_ambito) for d in result["scadenze"]]
    groups.append(Group("scadenze", "Scadenze rispettate", [_row(d, columns, threshold) for d in deadlines]))
    return Dashboard(year, as_of, years, areas, sub_ambito, locked, from_snapshot, threshold, targeted, columns,
                     groups)


def _row(item: dict[str, Any], columns: list[str], threshold: int) -> Row:
    unit = item["unita"]
    lines = {line["chiave"]: line for line in item["righe"]}
    cells = [fmt.cell(lines[k], unit, threshold) if k in lines else fmt.MISSING for k in columns]
    return Row(item["etichetta"], fmt.UNIT_LABELS.get(unit, unit), cells, fmt.cell(item["totale"], unit, threshold))
