"""Each case type's indicator aggregates at the finest grain (comune, kind, FNA measure, birth year, provider), one
query per case type, and the distinct people per key of the requested breakdown (a second statement per case
type: a person may sit in several grain cells)."""
from __future__ import annotations

from collections import defaultdict, namedtuple
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.indicators import AGE_BANDS, Measure, Period
from domain.registry import get_case_type, get_workflow
from store.tables import case_t, person_t, transition_t
from store.tallies.keys import by_key, comune_t, in_ambito, key_sql, steps_in_ambito


def _json(path: tuple[str, ...]):
    return transition_t.c.data[path[0]] if len(path) == 1 else transition_t.c.data[path]


def _grain(case_type: str):
    """The finest breakdown an indicator is computed at, per case type."""
    birth_year = sa.cast(sa.extract("year", person_t.c.data_nascita), sa.Integer)
    chosen = get_case_type(case_type).breakdowns
    misura = case_t.c.data[chosen.misura_field].as_string() if chosen.misura_field else sa.null()
    return [case_t.c.comune_istat, comune_t.c.sub_ambito, case_t.c.kind, misura.label("misura"),
            (birth_year if chosen.age_bands else sa.null()).label("nato"),
            case_t.c.provider_codice]


def _unlabel(column):
    return getattr(column, "element", column)


_Cell = namedtuple("_Cell", "comune_istat sub_ambito kind misura nato provider_codice rows people total valued")


def _field(m: Measure):
    if not m.field:
        return sa.literal(0.0)
    if m.from_case:
        return (case_t.c.data[m.field[0]] if len(m.field) == 1 else case_t.c.data[m.field]).as_float()
    return _json(m.field).as_float()


def _measure_condition(m: Measure):
    cond = transition_t.c.transition.in_(m.transitions)
    for path, expected in m.where:
        cond = sa.and_(cond, _json(path).as_string() == expected)
    return cond


def measure_cells(conn: Connection, measures: tuple[Measure, ...], period: Period) -> dict[str, list[Any]]:
    """Each measure's cells at the finest grain, one query per case type (one pass over the steps its measures
    count): each measure's aggregates take only its own steps (CASE inside the aggregate), and its cells are the
    grain rows where it counted at least one step, as a query of its own would return them."""
    by_type: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        by_type[m.case_type].append(m)
    cells: dict[str, list[Any]] = {}
    for case_type, group in by_type.items():
        grain = _grain(case_type)
        columns = []
        for m in group:
            cond = _measure_condition(m)
            value = _field(m)
            columns += [sa.func.count(sa.case((cond, 1))),
                        sa.func.count(sa.distinct(sa.case((cond, case_t.c.person_id)))),
                        sa.func.coalesce(sa.func.sum(sa.case((cond, value))), 0.0),
                        sa.func.count(sa.case((cond, value)))]
        q = _measure_steps(case_type, group, period).add_columns(*grain, *columns)
        rows = conn.execute(q.group_by(*(c for c in grain if not isinstance(_unlabel(c), sa.sql.elements.Null)))).all()
        for k, m in enumerate(group):
            at = len(grain) + 4 * k
            cells[m.code] = [_Cell(*r[:len(grain)], *r[at:at + 4]) for r in rows if r[at]]
    return cells


def _measure_steps(case_type: str, group: list[Measure], period: Period):
    """The steps of the period that the measures of one case type count (a select with no columns yet)."""
    steps = sorted({name for m in group for name in m.transitions})
    return (sa.select()
            .select_from(transition_t.join(case_t, case_t.c.id == transition_t.c.case_id)
                         .outerjoin(comune_t, comune_t.c.istat == case_t.c.comune_istat)
                         .outerjoin(person_t, person_t.c.id == case_t.c.person_id))
            .where(transition_t.c.transition.in_(steps), case_t.c.case_type == case_type, in_ambito(period),
                   steps_in_ambito(period),
                   transition_t.c.effective_on >= period.start, transition_t.c.effective_on <= period.end,
                   transition_t.c.recorded_at < period.recorded_before))


def measure_people(conn: Connection, measures: tuple[Measure, ...], period: Period,
                   by: str) -> dict[str, dict[str, int]]:
    """Distinct people per key of the breakdown and in total ("totale"), for each measure about people: the grain
    cells cannot be summed for this (a person with cases of two kinds, or in two comuni, is one person)."""
    by_type: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        if get_workflow(m.case_type).has_person:
            by_type[m.case_type].append(m)
    people: dict[str, dict[str, int]] = {}
    for case_type, group in by_type.items():
        q = _measure_steps(case_type, group, period).add_columns(
            *(sa.func.count(sa.distinct(sa.case((_measure_condition(m), case_t.c.person_id)))) for m in group))
        rows = by_key(conn, q, _grain_key_sql(by, case_type, period.year))
        for k, m in enumerate(group):
            people[m.code] = {key: figures[k] for key, figures in rows}
    return people


def _grain_key_sql(by: str, case_type: str, year: int):
    """`keys.key` as a SQL expression over a case type's grain (FNA measure and age band where the grain has them)."""
    misura, nato = (_unlabel(c) for c in _grain(case_type)[3:5])
    if by == "misura" and not isinstance(misura, sa.sql.elements.Null):
        return sa.func.coalesce(misura, "—")
    if by == "fascia_eta" and not isinstance(nato, sa.sql.elements.Null):
        age = sa.literal(year) - nato
        return sa.case(*((age.between(low, high), label) for low, high, label in AGE_BANDS), else_="—")
    return key_sql(by)
