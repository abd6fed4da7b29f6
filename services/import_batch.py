"""The import's batched load (services/importing.py): each checked row's case is built in memory, in its final
state, from the engine's decisions, and a batch of rows is written with one executemany per table
(store/import_writes.py) instead of an INSERT and, per later step, a read and an UPDATE per case.

What is written is what the step-by-step load (`_Loader._write_stepwise`, kept as the reference) writes: the
same person, the case row as the last step leaves it (kind, owner, provider, outcome, data and its sealed health
part as `store.cases.apply_decision` would have updated them), every step's history row chained to the previous
one's hash (`store.cases._audit_row`, the same function), each step's sealed health part, and the deadlines as
the steps opened, met, expired, cancelled, paused and resumed them (`store.cases._update_deadlines`,
`_insert_deadlines`, `resume_paused_deadlines`, replayed on the case's own list). tests/integration/
test_import_batch.py loads the same files both ways and compares every row.

Nothing here decides: the rows reach this module already checked by the forms' models, the guards and the engine.
Any read of other cases by a later row's guards (the world) first writes what is pending
(`_Loader.world.before_read`), so a row sees every earlier row of the file, as in the step-by-step load.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from domain.audit import GENESIS
from domain.engine import Actor, CaseView, Decision, ProviderView
from domain.person import PersonCase
from domain.validation import is_provisional_codice_fiscale
from services.world import StoreWorld
from store import import_writes as writes
from store import imports as store
from store import persons
from store.cases import _audit_row, _utc
from store.sealed import seal, split

Roll = Callable[[date], date]  # a day moved to the next working day (of the case's comune)

OPEN, PAUSED = "open", "paused"


class Pending:
    """An id given when the batch is written (a person's, a case's): ids are drawn for exactly the rows written."""

    __slots__ = ("id",)

    def __init__(self) -> None:
        self.id: int | None = None


def resolved(value: Any) -> Any:
    return value.id if type(value) is Pending else value


class BatchWriter:
    """The pending rows of a batch, written by `flush`. Memory: one batch of rows at a time."""

    def __init__(self, case_type: str, recorded_at: datetime, recorded_by: str, import_day: date):
        self.case_type, self.recorded_at, self.recorded_by = case_type, recorded_at, recorded_by
        self.import_day = import_day
        self.person_ids, self.case_ids = writes.Ids("person"), writes.Ids("case_file")
        self.deadline_ids = writes.Ids("deadline")
        self._clear()

    def _clear(self) -> None:
        self.people: list[tuple[Pending, Mapping[str, Any]]] = []
        self.cases: list[tuple[Pending, dict[str, Any], tuple]] = []
        self.discrepancies: list[tuple[Any, Pending, Mapping[str, Any]]] = []

    def person(self, typed: Mapping[str, Any]) -> Pending:
        """A new person (neither stored nor pending): its id to come."""
        ref = Pending()
        self.people.append((ref, typed))
        return ref

    def discrepancy(self, person_id: Any, case: Pending, typed: Mapping[str, Any]) -> None:
        self.discrepancies.append((person_id, case, typed))

    def case(self, record: dict[str, Any], decisions: list[tuple[Actor, Decision]], *, comune: str | None,
             related: int | None, policy_version: str, person_id: Any, roll: Roll) -> Pending:
        """A row's case (its decisions: the first opens it), written with the batch; `record` (its case_import
        row) gets its id then."""
        ref = Pending()
        self.cases.append((ref, record, (decisions, comune, related, policy_version, person_id, roll)))
        return ref

    def built(self, record: dict[str, Any], person_id: Any, rows: tuple) -> Pending:
        """A row's case whose rows a worker process built (`rows_of`), under the id given beforehand
        (`record["case_id"]`); only its person's id is set here, when the batch is written."""
        ref = Pending()
        self.cases.append((ref, record, (person_id, rows)))
        return ref

    def rows_of(self, sql: Any, case_id: int, decisions: list[tuple[Actor, Decision]], *, comune: str | None,
                related: int | None, policy_version: str, roll: Roll) -> tuple:
        """A case's rows as `flush` writes them (its person's id left blank): case, history, health parts,
        deadlines (without their ids) and which deadlines were missed before the import day."""
        rows = _Rows()
        self._case_rows(sql, rows, case_id, decisions, comune, related, policy_version, None, roll)
        return rows.cases[0], rows.steps, rows.health, rows.deadlines, rows.deadlines_missed

    @property
    def pending(self) -> bool:
        return bool(self.cases or self.people)

    def flush(self, conn: Any) -> None:
        if not self.pending:
            return
        sql = writes.adapters(conn)
        for ref, id_ in zip([r for r, _ in self.people], self.person_ids.take(conn, len(self.people))):
            ref.id = id_
        people = [(ref.id, typed["codice_fiscale"], typed.get("cognome"), typed.get("nome"),
                   sql.day(date.fromisoformat(str(typed["data_nascita"]))), typed.get("email"), typed.get("telefono"),
                   is_provisional_codice_fiscale(typed["codice_fiscale"])) for ref, typed in self.people]
        rows = _Rows()
        drawn = iter(self.case_ids.take(conn, sum(1 for _, record, _ in self.cases if record["case_id"] is None)))
        for ref, record, args in self.cases:  # an id given beforehand (a load with workers) or drawn now
            if record["case_id"] is None:
                record["case_id"] = next(drawn)
            ref.id = id_ = record["case_id"]
            if len(args) == 2:  # built by a worker
                person_id, (case, steps, health, deadlines, missed) = args
                rows.cases.append((*case[:5], resolved(person_id), *case[6:]))
                rows.steps += steps
                rows.health += health
                rows.deadlines += deadlines
                rows.deadlines_missed += missed
            else:
                self._case_rows(sql, rows, id_, *args)
        deadlines = [(id_, *row) for id_, row in zip(self.deadline_ids.take(conn, len(rows.deadlines)), rows.deadlines)]
        writes.write_batch(conn, people, rows.cases, rows.steps, rows.health, deadlines)
        # no reminder for the past (store.imports.settle_missed_deadlines, here without reading them back)
        writes.settle(conn, [d[0] for d, (_, missed) in zip(deadlines, rows.deadlines_missed) if missed],
                      self.import_day)
        for person_id, case, typed in self.discrepancies:  # the stored person kept, the file's beside it (§13)
            persons.record_discrepancy(conn, person_id=resolved(person_id), case_id=case.id, typed=dict(typed),
                                       recorded_at=self.recorded_at, recorded_by=self.recorded_by)
        self._clear()

    def _case_rows(self, sql: Any, rows: _Rows, case_id: int, decisions: list[tuple[Actor, Decision]],
                   comune: str | None, related: int | None, policy_version: str, person_id: Any, roll: Roll) -> None:
        first = decisions[0][1]
        kind, owner, provider, outcome, outcome_reason = first.kind, first.owner, first.provider_codice, None, None
        data, health = split(self.case_type, first.case_data)
        stored = first.case_data  # the case's data as load_case would read it back
        head = GENESIS
        deadlines: list[list[Any]] = []  # [kind, label, due, basis, source, status, started_seq, closed_on, days]
        for seq, (actor, d) in enumerate(decisions, 1):
            row, head, step_health = _audit_row(sql, self.case_type, case_id, seq, d, actor, self.recorded_at,
                                                _utc(d.effective_at), head)
            rows.steps.append(row)
            if step_health:
                rows.health.append((case_id, seq, *seal(step_health, case_id, seq)))
            if seq > 1:  # what apply_decision updates on the case row
                kind = d.kind if d.kind is not None else kind
                owner = d.owner if d.owner is not None else owner
                provider = d.provider_codice if d.provider_codice is not None else provider
                if d.outcome is not None:
                    outcome, outcome_reason = d.outcome.value, d.outcome_reason
                if d.transition.merge_data and d.case_data != stored:
                    data, health = split(self.case_type, d.case_data)
                    stored = d.case_data
                _close(deadlines, d)
            deadlines += [[n.kind, n.label, n.due, n.basis, n.source, OPEN, seq, None, 0] for n in d.new_deadlines]
            if seq > 1 and d.resume_shift_days:
                for dl in deadlines:
                    if dl[5] == PAUSED:
                        dl[2], dl[5] = roll(dl[2] + timedelta(days=d.resume_shift_days)), OPEN
                        dl[8] += d.resume_shift_days
        last = decisions[-1][1]
        if health:
            rows.health.append((case_id, 0, *seal(health, case_id, 0)))
        rows.cases.append((case_id, self.case_type, kind, last.to_state, comune, resolved(person_id), owner, related,
                           provider, policy_version, sql.ts(_utc(first.effective_at)), sql.ts(_utc(last.effective_at)),
                           outcome, outcome_reason, sql.json(data), len(decisions), head,
                           comune, decisions[0][0].username))  # the last two: its Ambito (CASE_AMBITO)
        day = sql.day
        rows.deadlines += [(case_id, k, label, day(due), basis, source, status, started, day(closed), days)
                           for k, label, due, basis, source, status, started, closed, days in deadlines]
        rows.deadlines_missed += [(case_id, dl[5] == OPEN and dl[2] < self.import_day) for dl in deadlines]


class _Rows:
    __slots__ = ("cases", "deadlines", "deadlines_missed", "health", "steps")

    def __init__(self) -> None:
        self.cases: list[tuple] = []
        self.steps: list[tuple] = []
        self.health: list[tuple] = []
        self.deadlines: list[tuple] = []
        self.deadlines_missed: list[tuple[int, bool]] = []  # per deadline row: already missed on the import day


def _close(deadlines: list[list[Any]], d: Decision) -> None:
    """store.cases._update_deadlines on the case's own list: met or expired by kind, cancelled, paused."""
    on = d.effective_at.date()
    for status, kinds in (("met", d.met), ("expired", d.expired)):
        if kinds:
            for dl in deadlines:
                if dl[5] in (OPEN, PAUSED) and dl[0] in kinds:
                    dl[5], dl[7] = status, on
    if d.cancel_open_deadlines:
        for dl in deadlines:
            if dl[5] in (OPEN, PAUSED):
                dl[5], dl[7] = "cancelled", on
    if d.pause_deadlines:
        for dl in deadlines:
            if dl[5] == OPEN:
                dl[5] = PAUSED


class PastWorld(StoreWorld):
    """The world as a past step saw it: another case (the call an application was made on) in the state it was in
    on the step's date, read from its history, not in the state it has reached since. Before any read of cases
    or people, `before_read` writes the rows still pending (the batch's), so a guard sees every earlier row."""

    as_of: datetime | None = None
    before_read: Callable[[], None] = staticmethod(lambda: None)

    def case(self, case_id: int) -> CaseView | None:
        self.before_read()
        view = super().case(case_id)
        if view is not None and self.as_of is not None and view.state_since and view.state_since > self.as_of:
            state = store.state_on(self.conn, case_id, self.as_of.astimezone(timezone.utc))
            view = replace(view, state=state) if state else None
        return view

    def provider(self, codice: str) -> ProviderView | None:
        self.before_read()
        return super().provider(codice)

    def committed_on_call(self, call_id: int) -> Decimal:
        self.before_read()
        return super().committed_on_call(call_id)

    def related_cases(self, case_id: int, case_type: str) -> list[CaseView]:
        self.before_read()
        return super().related_cases(case_id, case_type)

    def cases_of_person(self, codice_fiscale: str) -> list[PersonCase]:
        self.before_read()
        return super().cases_of_person(codice_fiscale)


_VIEW_FIELDS = ("id", "case_type", "kind", "state", "comune_istat", "owner", "opened_on", "state_since", "policy_version",
                "data", "version", "related_case_id", "provider_codice", "person", "audit_hash")
assert tuple(f.name for f in fields(CaseView)) == _VIEW_FIELDS, "CaseView changed: update after()"


def after(view: CaseView | None, d: Decision, case_type: str, comune: str | None, related: int | None,
           policy_version: str) -> CaseView:
    """The case as the next step sees it, without reading it back (what store.cases would load)."""
    if view is None:
        person = d.person and {"codice_fiscale": d.person["codice_fiscale"],
                               "data_nascita": date.fromisoformat(str(d.person["data_nascita"]))}
        return CaseView(None, case_type, d.kind, d.to_state, comune, d.owner, d.effective_at.date(), d.effective_at,
                        policy_version, d.case_data, 1, related, d.provider_codice, person)
    # dataclasses.replace(view, ...) field by field (replace walks the fields by name: 3x the cost)
    return CaseView(view.id, view.case_type, d.kind or view.kind, d.to_state, view.comune_istat,
                    d.owner or view.owner, view.opened_on, d.effective_at, view.policy_version, d.case_data,
                    view.version + 1, view.related_case_id, d.provider_codice or view.provider_codice, view.person,
                    view.audit_hash)
