"""Import of existing cases from a spreadsheet (DOMAIN.md §15): a dry run, or a load, all or nothing per file.

Each row is one case (domain/import_template.py). Its steps are replayed through the engine, in date order, with
their past effective dates: the same forms' models judge the data, the same guards the steps, and the deadlines
are the engine's own (computed from the past dates, as if the steps had been recorded then). Every step is
recorded in the case's tamper-evident history as what it is, an import (its reason names the file, the row and
the external id; the actor is the importer); no e-mail is queued for a step of the past.

All or nothing per file: the rows are checked one by one on the database as it stands, and written in the same
single transaction while no row has a problem; the first problem stops the writing (the rest is still checked,
so the report lists every problem), and the transaction is rolled back. A dry run checks and writes nothing.
A row whose external id is already loaded (a second import of the same file) is skipped and adds nothing.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from domain.access import AccessDenied, import_refusal
from domain.casetype import CaseType
from domain.conditions import Principal
from domain.engine import Actor, CaseView, Decision
from domain.errors import DomainError
from domain.import_template import EXTERNAL_ID, Column, ParsedRow, columns, parse_row
from domain.identity import identity_differences
from domain.validation import is_provisional_codice_fiscale
from domain.policy import Policy
from domain.registry import get_case_type, value_labels
from services import import_parallel
from services.cases import CaseService, now_rome
from services.import_batch import BatchWriter, PastWorld, resolved
from services.import_check import RowChecker, RowRefused
from store import cases as repo
from store import import_writes as writes
from store import imports as store
from store import persons, reference
from store.uow import writing

Progress = Callable[[int, int | None], None]  # (rows done, rows in all if known)


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    case_type: str
    file_name: str
    dry_run: bool
    rows: int = 0
    loaded: list[tuple[int, str, int]] = field(default_factory=list)  # (row, external id, case id)
    skipped: list[tuple[int, str, int]] = field(default_factory=list)  # already imported: (row, id, case id)
    problems: list[Problem] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return not self.dry_run and not self.problems and bool(self.loaded)

    def as_dict(self) -> dict[str, Any]:
        return {"tipo": self.case_type, "file": self.file_name, "prova": self.dry_run, "righe": self.rows,
                "caricati": 0 if self.dry_run or self.problems else len(self.loaded),
                "da_caricare": len(self.loaded), "gia_importati": len(self.skipped),
                "casi": [{"riga": r, "id_esterno": e, "caso": c} for r, e, c in self.loaded if c] if self.written else [],
                "problemi": [{"riga": p.row, "colonna": p.column, "problema": p.message} for p in self.problems]}


class _Discard(Exception):
    """Leaves the file's transaction rolled back (a dry run, or a file with a problem)."""


def template_columns(case_type: str) -> tuple[CaseType, list[Column]]:
    ct = get_case_type(case_type)
    return ct, columns(ct, value_labels())


def run_import(engine: Any, user: Principal, case_type: str, rows: Iterable[tuple[int, Mapping[str, Any]]], *,
               file_name: str, file_sha256: str, dry_run: bool, header_problems: Iterable[Problem] = (),
               progress: Progress | None = None, total: int | None = None,
               clock: Callable[[], datetime] = now_rome, stepwise: bool = False,
               workers: int | None = None) -> ImportResult:
    """Check every row of a file (`rows`: (row number, {header: cell})) and, unless `dry_run` or a problem, load
    them in one transaction. Raises AccessDenied if `user` may not import this type at all. The rows are written
    per batch (services/import_batch.py); `stepwise` writes each case step by step as a transition would (the
    reference the batched load is tested against). A large file's rows are checked by `workers` processes
    (services/import_parallel.py; default: the setting, else by the machine's cores) while this one writes."""
    refusal = import_refusal(user, case_type)
    if refusal:
        raise AccessDenied(refusal)
    ct, cols = template_columns(case_type)
    result = ImportResult(case_type, file_name, dry_run, problems=list(header_problems))
    loader = _Loader(engine, user, ct, cols, clock, file_name, file_sha256, stepwise)
    try:
        with _collector_on_new_objects(), writing(engine) as conn:
            loader.start(conn)
            parallel = 0 if stepwise else import_parallel.workers_for(workers, total)
            if parallel:
                import_parallel.load(loader, conn, _batches(rows, BATCH), result, dry_run=dry_run,
                                     workers=parallel, progress=progress, total=total)
            for batch in () if parallel else _batches(rows, BATCH):
                loader.prefetch(conn, batch)
                for number, cells in batch:
                    result.rows += 1
                    loader.row(conn, number, cells, result, write=not dry_run and not result.problems)
                    if progress is not None and result.rows % 100 == 0:
                        progress(result.rows, total)
                loader.flush(conn)  # the batch's records, so memory stays flat over a long file
            if dry_run or result.problems:
                raise _Discard  # all or nothing per file: nothing of this file stays
    except _Discard:
        pass
    if progress is not None:
        progress(result.rows, total)
    result.loaded = [(number, ext, resolved(case)) for number, ext, case in result.loaded]
    return result


@contextmanager
def _collector_on_new_objects() -> Iterator[None]:
    """The cyclic garbage collector walks only what the load creates: the objects alive before it (modules,
    models, the declarations) are set aside while it runs (gc.freeze) and given back after (gc.unfreeze). A full
    collection walked all of them every few thousand rows: ~25 us per row of a 50,000-row load (bench/import).
    The rows themselves hold no cycles; garbage cycles among the older objects wait for the load's end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


BATCH = 500  # rows read ahead: the people they name are looked up in one query


def _batches(rows: Iterable[tuple[int, Mapping[str, Any]]], size: int):
    batch: list[tuple[int, Mapping[str, Any]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Loader(RowChecker):
    def __init__(self, engine: Any, user: Principal, ct: CaseType, cols: list[Column],
                 clock: Callable[[], datetime], file_name: str, file_sha256: str, stepwise: bool = False):
        super().__init__(user, ct, cols, file_name)
        self.svc = CaseService(engine, clock=clock)
        self.engine, self.clock = engine, clock
        self.file_sha256, self.stepwise = file_sha256, stepwise
        self.records: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}
        self.people: dict[str, dict[str, Any]] = {}
        self.cf_headers = [c.header for c in cols if c.role == "field" and c.path == "persona.codice_fiscale"]

    def flush(self, conn: Any) -> None:
        self.batch.flush(conn)
        writes.record(conn, self.records)
        if self.stepwise:  # no reminder for the past (the batched load settles them as it writes them)
            store.settle_missed_deadlines(conn, [r["case_id"] for r in self.records], self.now.date())
        self.records = []

    def prefetch(self, conn: Any, batch: list[tuple[int, Mapping[str, Any]]]) -> None:
        """The stored people the batch's rows name, in one read (the previous batch's are forgotten)."""
        codici = [str(cells.get(h) or "").strip().upper() for _, cells in batch for h in self.cf_headers]
        self.people = store.people(conn, [c for c in codici if c])

    def start(self, conn: Any) -> None:
        now = self.clock()
        self.known = store.imported_ids(conn, self.ct.case_type)
        parents = store.imported_ids(conn, self.ct.parent.case_type) if self.ct.parent else {}
        rows = reference.comuni(conn)
        comuni = {**{r.nome.lower(): r.istat for r in rows}, **{r.istat: r.istat for r in rows}}
        versions = [Policy(r.version, r.valid_from, r.body, r.description)
                    for r in reference.policy_versions(self.engine)]
        self.ready(now, PastWorld(conn, self.svc.sub_ambiti()), versions, self.svc.calendar, comuni, parents)
        self.batch = BatchWriter(self.ct.case_type, self.now.astimezone(timezone.utc), self.user.username,
                                 self.now.date())
        self.world.before_read = lambda: self.batch.flush(conn)  # a guard reading cases sees the earlier rows

    def repeated(self, ext: str, number: int) -> tuple[str, str] | None:
        """The problem of an external id already met earlier in the file (None the first time)."""
        if ext and ext in self.seen:
            return (EXTERNAL_ID, f"identificativo già presente alla riga {self.seen[ext]} del file")
        if ext:
            self.seen[ext] = number
        return None

    def row(self, conn: Any, number: int, cells: Mapping[str, Any], result: ImportResult, *, write: bool) -> None:
        parsed = parse_row(self.cols, number, cells)
        problems = list(parsed.problems)
        ext = parsed.external_id
        repeated = self.repeated(ext, number)
        if repeated:
            problems.append(repeated)
        if ext and ext in self.known:
            result.skipped.append((number, ext, self.known[ext]))
            return
        self.settle(conn, parsed, problems, result, write=write)

    def settle(self, conn: Any, parsed: ParsedRow, problems: list[tuple[str, str]], result: ImportResult, *,
               write: bool, case_id: int | None = None) -> None:
        """A parsed row decided (unless it already has problems) and queued for writing; `case_id`: its id given
        beforehand (a load with workers), else drawn when its batch is written."""
        if not problems:
            try:
                decisions, view = self.decide_row(parsed)
                written = self._write(conn, parsed, decisions, view, case_id) if write else 0
                result.loaded.append((parsed.number, parsed.external_id, written))
                return
            except RowRefused as refused:
                problems += refused.problems
        result.problems += [Problem(parsed.number, column, message) for column, message in problems]

    # ---------------------------------------------------------------- one row, written

    def _person(self, conn: Any, typed: Mapping[str, Any]) -> tuple[int, bool]:
        """The stored person with the typed codice fiscale (a new one if unknown) and whether the typed name or
        birth date differs from the stored one (flagged, as a form does: DOMAIN.md §13)."""
        stored = self.people.get(typed["codice_fiscale"])
        if stored is None:  # (the batch tells a provisional code when it writes the person)
            person_id = (store.insert_person(conn, dict(typed), is_provisional_codice_fiscale(typed["codice_fiscale"]))
                         if self.stepwise else self.batch.person(typed))
            self.people[typed["codice_fiscale"]] = {**typed, "id": person_id,
                                                    "data_nascita": date.fromisoformat(str(typed["data_nascita"]))}
            return person_id, False
        birth = date.fromisoformat(str(typed["data_nascita"]))
        return stored["id"], bool(identity_differences(stored, {**typed, "data_nascita": birth}))

    def _record(self, external_id: str, number: int, case_id: int | None) -> dict[str, Any]:
        record = {"case_type": self.ct.case_type, "external_id": external_id, "case_id": case_id,
                  "file_name": self.file_name[:255], "file_sha256": self.file_sha256, "row_number": number,
                  "imported_by": self.user.username, "imported_at": self.now.astimezone(timezone.utc)}
        self.records.append(record)
        return record

    def _write(self, conn: Any, row: ParsedRow, decisions: list[tuple[Actor, Decision]], last: CaseView,
               case_id: int | None = None) -> Any:
        (actor, first), rest = decisions[0], decisions[1:]
        person_id, differs = self._person(conn, first.person) if first.person else (None, False)
        record = self._record(row.external_id, row.number, case_id)
        if self.stepwise:
            record["case_id"] = self._write_stepwise(conn, decisions, last, person_id, differs,
                                                     record["imported_at"])
            return record["case_id"]
        calendar = self.svc.calendar(self.by_version[last.policy_version])
        case = self.batch.case(record, decisions, comune=last.comune_istat, related=last.related_case_id,
                               policy_version=last.policy_version, person_id=person_id,
                               roll=lambda day: calendar.next_working_day(day, last.comune_istat))
        if differs:
            self.batch.discrepancy(person_id, case, first.person)
        return case  # its id once the batch is written (run_import reads it then)

    def write_built(self, conn: Any, number: int, external_id: str, case_id: int, person: Any,
                    rows: tuple) -> Any:
        """A row checked and built by a worker (services/import_parallel.py), queued under its given id."""
        person_id, differs = self._person(conn, person) if person else (None, False)
        case = self.batch.built(self._record(external_id, number, case_id), person_id, rows)
        if differs:
            self.batch.discrepancy(person_id, case, person)
        return case

    def _write_stepwise(self, conn: Any, decisions: list[tuple[Actor, Decision]], last: CaseView,
                        person_id: int | None, differs: bool, recorded_at: datetime) -> int:
        (actor, first), rest = decisions[0], decisions[1:]
        opening = CaseView(None, self.ct.case_type, first.kind, None, last.comune_istat, None,
                           first.effective_at.date(), None, last.policy_version, {},
                           related_case_id=last.related_case_id)
        case_id = repo.insert_case(conn, decision=first, view=opening, actor=actor, recorded_at=recorded_at,
                                   person_id=person_id)
        if differs:  # the stored person is kept, what the file says beside it (DOMAIN.md §13), as a form would
            persons.record_discrepancy(conn, person_id=person_id, case_id=case_id, typed=first.person,
                                       recorded_at=recorded_at, recorded_by=self.user.username)
        for actor, d in rest:
            case = repo.load_case(conn, case_id)
            repo.apply_decision(conn, case=case, decision=d, actor=actor, recorded_at=recorded_at)
            if d.resume_shift_days:
                calendar = self.svc.calendar(self.svc.policy(case.policy_version))
                repo.resume_paused_deadlines(conn, case_id, d.resume_shift_days,
                                             lambda day: calendar.next_working_day(day, case.comune_istat))
        return case_id


def rows_of_case(case_id: int, engine: Any) -> dict[str, Any]:
    """A case of the database as a row of its type's import template (export into the template)."""
    from domain.import_template import Step, row_cells

    found = store.case_for_template(engine, case_id)
    if found is None:
        raise DomainError(f"caso {case_id} inesistente")
    ct, cols = template_columns(found["case_type"])
    steps: dict[str, Step] = {}
    for s in found["steps"]:
        data = dict(s["data"])
        t = ct.workflow.transition(s["transition"])
        if t.opening and found["codice_fiscale"]:
            data["persona"] = {k: found[k] for k in ("codice_fiscale", "cognome", "nome", "data_nascita", "email",
                                                      "telefono") if found[k] is not None}
        steps[s["transition"]] = Step(s["transition"], s["on"], data, s["reason"] if t.requires_reason else None)
    return row_cells(cols, external_id=f"caso-{case_id}", state=found["state"], comune=found["comune_istat"],
                     kind=found["kind"], parent=found["parent_external_id"] or (
                         f"caso-{found['related_case_id']}" if found["related_case_id"] else None),
                     steps=list(steps.values()), owner=found["owner"])
