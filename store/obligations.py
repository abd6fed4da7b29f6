"""The district obligations' reads and writes: the facts in the cases and steps that meet them
(services/facts.py says which), the manual "met" declarations and the reminders already logged.

Case types, states and step names are passed in by the caller (they live with the declarations,
domain/casetypes/); each function is one statement on the caller's connection or unit of work.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from store.tables import case_t, obligation_status_t, reminder_log_t, transition_t
from store.uow import Bind, reading, writing

# ----------------------------------------------------------------------------- facts


def steps_in_window(bind: Bind, case_type: str, transition: str, start: datetime, end: datetime,
                    path: tuple[str, ...]) -> list[Any]:
    """(comune_istat, value) of the `transition` steps of `case_type` effective in [start, end): `value` is the
    step data's JSON at `path`, read in SQL (not the whole data of every step)."""
    with reading(bind) as conn:
        return conn.execute(
            sa.select(case_t.c.comune_istat, transition_t.c.data[path].label("value"))
            .join(case_t, case_t.c.id == transition_t.c.case_id)
            .where(case_t.c.case_type == case_type, transition_t.c.transition == transition,
                   transition_t.c.effective_at >= start, transition_t.c.effective_at < end)
        ).all()


def cases_in_state(bind: Bind, case_type: str, state: str) -> list[Any]:
    """(id, state, data) of the cases of `case_type` in `state`."""
    with reading(bind) as conn:
        return conn.execute(sa.select(case_t.c.id, case_t.c.state, case_t.c.data)
                            .where(case_t.c.case_type == case_type, case_t.c.state == state)).all()


def data_of_cases_in_state(bind: Bind, case_type: str, state: str) -> list[dict[str, Any]]:
    """The data of the cases of `case_type` in `state`."""
    with reading(bind) as conn:
        return list(conn.execute(sa.select(case_t.c.data).where(case_t.c.case_type == case_type,
                                                                case_t.c.state == state)).scalars())


def isee_dsu_of_cases_in_states(bind: Bind, case_type: str, states: Iterable[str],
                                scope: sa.ColumnElement[bool] | None = None) -> list[Any]:
    """(id, owner, comune_istat, data_dsu) of the cases of `case_type` in any of `states` (within `scope`, if
    given): the ISEE's DSU date read in SQL, not the whole case data (at 100,000 cases Oggi spent ~1 s shipping
    and decoding it)."""
    dsu = case_t.c.data[("isee", "data_dsu")].as_string()
    q = (sa.select(case_t.c.id, case_t.c.owner, case_t.c.comune_istat, dsu.label("data_dsu"))
         .where(case_t.c.case_type == case_type, case_t.c.state.in_(states)))
    if scope is not None:
        q = q.where(scope)
    with reading(bind) as conn:
        return conn.execute(q).all()


def providers_of_cases_in_states_since(bind: Bind, case_type: str, states: Iterable[str],
                                       before: datetime) -> list[Any]:
    """(id, provider_codice) of the cases of `case_type` in any of `states` since before `before`."""
    with reading(bind) as conn:
        return conn.execute(
            sa.select(case_t.c.id, case_t.c.provider_codice)
            .where(case_t.c.case_type == case_type, case_t.c.state.in_(states),
                   case_t.c.state_since < before)
        ).all()


def text_of_steps(bind: Bind, transition: str, case_ids: list[int], key: str) -> list[Any]:
    """(case_id, value) of the `transition` steps of these cases: `value` the text under `key` of the step's data,
    read in SQL (a visit register's data holds every visit of the month: too much to ship for one key)."""
    with reading(bind) as conn:
        return conn.execute(
            sa.select(transition_t.c.case_id, transition_t.c.data[key].as_string().label("value"))
            .where(transition_t.c.transition == transition,
                   transition_t.c.case_id.in_(case_ids))
        ).all()


def providers_in_states(bind: Bind, case_type: str, states: Iterable[str]) -> list[Any]:
    """(provider_codice, state) of the cases of `case_type` in any of `states`."""
    with reading(bind) as conn:
        return conn.execute(sa.select(case_t.c.provider_codice, case_t.c.state)
                            .where(case_t.c.case_type == case_type,
                                   case_t.c.state.in_(sorted(states)))).all()


# ----------------------------------------------------------------------------- manual decisions, reminders


def manually_met(bind: Bind, code: str, period: str) -> dict[str, Any]:
    """{scope_key: row} of the manual "met" declarations of an obligation's period."""
    with reading(bind) as conn:
        rows = conn.execute(sa.select(obligation_status_t).where(obligation_status_t.c.code == code,
                                                                 obligation_status_t.c.period == period)).all()
    return {r.scope_key: r for r in rows}


def record_met(bind: Bind, row: dict[str, Any]) -> None:
    """Append a manual "met" declaration {code, period, scope_key, met_on, actor, actor_role, reason, recorded_at}."""
    with writing(bind) as conn:
        conn.execute(obligation_status_t.insert(), row)


def reminders_logged(bind: Bind, code: str, period: str) -> list[Any]:
    """(scope_key, recipient, queued_on, stage) of the reminders logged for an obligation's period, oldest first."""
    with reading(bind) as conn:
        return conn.execute(sa.select(reminder_log_t.c.scope_key, reminder_log_t.c.recipient,
                                      reminder_log_t.c.queued_on, reminder_log_t.c.stage)
                            .where(reminder_log_t.c.obligation_code == code, reminder_log_t.c.period == period)
                            .order_by(reminder_log_t.c.queued_on)).all()
