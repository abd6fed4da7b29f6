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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from domain.access import AccessDenied, import_refusal
from domain.casetype import CaseType
from domain.conditions import Principal
from domain.engine import Actor, CaseView, Command, Decision, decide
from domain.errors import DomainError, GuardRefused, InvalidData
from domain.import_template import COMUNE, EXTERNAL_ID, OWNER, STATE, Column, ParsedRow, columns, parse_row
from domain.identity import identity_differences
from domain.validation import is_provisional_codice_fiscale
from domain.policy import Policy, policy_in_force
from domain.registry import get_case_type, value_labels
from domain.workflow import Role
from services.cases import CaseService, now_rome
from services.import_batch import BatchWriter, PastWorld, after, resolved
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


class _RowRefused(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems


def template_columns(case_type: str) -> tuple[CaseType, list[Column]]:
    ct = get_case_type(case_type)
    return ct, columns(ct, value_labels())


def run_import(engine: Any, user: Principal, case_type: str, rows: Iterable[tuple[int, Mapping[str, Any]]], *,
               file_name: str, file_sha256: str, dry_run: bool, header_problems: Iterable[Problem] = (),
               progress: Progress | None = None, total: int | None = None,
               clock: Callable[[], datetime] = now_rome, stepwise: bool = False) -> ImportResult:
    """Check every row of a file (`rows`: (row number, {header: cell})) and, unless `dry_run` or a problem, load
    them in one transaction. Raises AccessDenied if `user` may not import this type at all. The rows are written
    per batch (services/import_batch.py); `stepwise` writes each case step by step as a transition would (the
    reference the batched load is tested against)."""
    refusal = import_refusal(user, case_type)
    if refusal:
        raise AccessDenied(refusal)
    ct, cols = template_columns(case_type)
    result = ImportResult(case_type, file_name, dry_run, problems=list(header_problems))
    loader = _Loader(engine, user, ct, cols, clock, file_name, file_sha256, stepwise)
    try:
        with writing(engine) as conn:
            loader.start(conn)
            for batch in _batches(rows, BATCH):
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


class _Loader:
    def __init__(self, engine: Any, user: Principal, ct: CaseType, cols: list[Column],
                 clock: Callable[[], datetime], file_name: str, file_sha256: str, stepwise: bool = False):
        self.svc = CaseService(engine, clock=clock)
        self.engine, self.user, self.ct, self.cols, self.clock = engine, user, ct, cols, clock
        self.file_name, self.file_sha256, self.stepwise = file_name, file_sha256, stepwise
        self.headers = {(c.transition, c.path): c.header for c in cols if c.role == "field"}
        self.dates = {c.transition: c.header for c in cols if c.role == "date"}
        self.records: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}
        self.people: dict[str, dict[str, Any]] = {}
        self.policies: dict[date, Any] = {}
        self.versions: list[Policy] | None = None
        self.by_version: dict[str, Policy] = {}
        self.actors: dict[tuple[Role, str | None], Actor] = {}
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
        self.now = self.clock()
        self.known = store.imported_ids(conn, self.ct.case_type)
        self.parents = store.imported_ids(conn, self.ct.parent.case_type) if self.ct.parent else {}
        comuni = reference.comuni(conn)
        self.comuni = {**{r.nome.lower(): r.istat for r in comuni}, **{r.istat: r.istat for r in comuni}}
        self.world = PastWorld(conn, self.svc.sub_ambiti())
        self.batch = BatchWriter(self.ct.case_type, self.now.astimezone(timezone.utc), self.user.username,
                                 self.now.date())
        self.world.before_read = lambda: self.batch.flush(conn)  # a guard reading cases sees the earlier rows

    def row(self, conn: Any, number: int, cells: Mapping[str, Any], result: ImportResult, *, write: bool) -> None:
        parsed = parse_row(self.cols, number, cells)
        problems = list(parsed.problems)
        ext = parsed.external_id
        if ext and ext in self.seen:
            problems.append((EXTERNAL_ID, f"identificativo già presente alla riga {self.seen[ext]} del file"))
        elif ext:
            self.seen[ext] = number
        if ext and ext in self.known:
            result.skipped.append((number, ext, self.known[ext]))
            return
        if not problems:
            try:
                decisions, view = self._decide(parsed)
                case_id = self._write(conn, parsed, decisions, view) if write else 0
                result.loaded.append((number, ext, case_id))
                return
            except _RowRefused as refused:
                problems += refused.problems
        result.problems += [Problem(number, column, message) for column, message in problems]

    # ---------------------------------------------------------------- one row, in memory

    def _decide(self, row: ParsedRow) -> tuple[list[tuple[Actor, Decision]], CaseView]:
        wf = self.ct.workflow
        comune = self._comune(row)
        related = self._parent(row)
        if not row.steps or not wf.transition(row.steps[0].transition).opening:
            first = self.dates[wf.opening_transitions()[0].name]
            raise _RowRefused([(first, "manca la data del passo che apre il caso")])
        decisions: list[tuple[Actor, Decision]] = []
        view: CaseView | None = None
        policy = self._policy_on(row.steps[0].on)  # the opening step's, for every step of the case
        calendar = self.svc.calendar(policy)
        note = (f"importato da «{self.file_name}», riga {row.number}, id esterno {row.external_id}, "
                f"a cura di {self.user.username}")
        for step in row.steps:
            t = wf.transition(step.transition)
            actor = self._actor(t, view, row.owner)
            when = CaseService._effective(step.on, view.state_since if view else None, self.now)
            reason = f"{step.reason} [{note}]" if step.reason else f"Importazione: {note}"
            command = Command(t.name, actor, when, step.data, reason,
                              row.kind if t.opening else None, comune if t.opening else None,
                              related if t.opening else None)
            self.world.as_of = when
            try:
                d = decide(wf, view, command, policy=policy, calendar=calendar, world=self.world, now=self.now)
            except InvalidData as exc:
                raise _RowRefused([(self._header(t.name, e.field), e.message) for e in exc.errors]) from None
            except GuardRefused as exc:
                raise _RowRefused([(self.dates[t.name], r) for r in exc.reasons]) from None
            except DomainError as exc:
                raise _RowRefused([(self.dates[t.name], str(exc))]) from None
            decisions.append((actor, d))
            view = after(view, d, wf.case_type, comune, related, policy.version)
        if view.state != row.state:
            label = wf.state(view.state).label
            raise _RowRefused([(STATE, f"i passi datati portano il caso in «{label}», non in "
                                       f"«{wf.state(row.state).label}»")])
        return decisions, view

    def _actor(self, t: Any, view: CaseView | None, owner: str | None) -> Actor:
        """The importer records every step; in the role the step asks for when theirs is not among its roles (a
        provider's step: as the case's provider), so the history says who loaded it and what the step was. A
        step that makes its actor the case's owner is recorded as the owner's (the «operatore titolare» column)."""
        if t.owner_is_actor and owner:
            user = self.world.user(owner)
            if user is None or user.role not in t.roles:
                raise _RowRefused([(OWNER, f"«{owner}» non è un utente che può eseguire «{t.label}»")])
            return Actor(user.username, user.role, user.sub_ambito, user.provider_codice)
        role = self.user.role if self.user.role in t.roles else sorted(t.roles)[0]
        provider = view.provider_codice if role is Role.PROVIDER and view is not None else self.user.provider_codice
        actor = self.actors.get((role, provider))  # an Actor is frozen: one per role and provider, for every row
        if actor is None:
            actor = self.actors[(role, provider)] = Actor(self.user.username, role, self.user.sub_ambito, provider)
        return actor

    def _policy_on(self, day: date) -> Any:
        """The policy in force on `day`, among the versions loaded once per file (the file's one transaction)."""
        if day not in self.policies:
            if self.versions is None:
                self.versions = [Policy(r.version, r.valid_from, r.body, r.description)
                                 for r in reference.policy_versions(self.engine)]
                self.by_version = {p.version: p for p in self.versions}
            self.policies[day] = policy_in_force(self.versions, day)
        return self.policies[day]

    def _comune(self, row: ParsedRow) -> str | None:
        if self.ct.workflow.district_level:
            return None
        istat = self.comuni.get((row.comune or "").strip().lower())
        if istat is None:
            raise _RowRefused([(COMUNE, f"il comune «{row.comune}» non è tra i comuni dell'ambito")])
        refusal = import_refusal(self.user, self.ct.case_type, istat)
        if refusal:
            raise _RowRefused([(COMUNE, refusal)])
        return istat

    def _parent(self, row: ParsedRow) -> int | None:
        if self.ct.parent is None:
            return None
        text = (row.parent or "").strip()
        if text in self.parents:
            return self.parents[text]
        if text.isdigit():
            parent = self.world.case(int(text))
            if parent is not None and parent.case_type == self.ct.parent.case_type:
                return parent.id
        raise _RowRefused([(self.ct.parent.label, f"«{text}» non è un caso importato né un numero di caso "
                                                   f"di tipo «{self.ct.parent.case_type}»")])

    def _header(self, transition: str, path: str) -> str:
        if path in ("motivo",):
            return self.dates[transition].rsplit(" · ", 1)[0] + " · motivo"
        if path in ("comune", "tipologia"):
            return COMUNE if path == "comune" else "Tipologia"
        found = self.headers.get((transition, path))
        while found is None and "." in path:  # an error on a whole record or list: its first column
            path = path.rsplit(".", 1)[0]
            found = next((h for (t, p), h in self.headers.items() if t == transition and p.startswith(path + ".")),
                         None)
        return found or next((h for (t, p), h in self.headers.items() if t == transition and p.startswith(path)),
                             self.dates[transition])

    # ---------------------------------------------------------------- one row, written

    def _person(self, conn: Any, typed: Mapping[str, Any]) -> tuple[int, bool]:
        """The stored person with the typed codice fiscale (a new one if unknown) and whether the typed name or
        birth date differs from the stored one (flagged, as a form does: DOMAIN.md §13)."""
        stored = self.people.get(typed["codice_fiscale"])
        if stored is None:
            provisional = is_provisional_codice_fiscale(typed["codice_fiscale"])
            person_id = (store.insert_person(conn, dict(typed), provisional) if self.stepwise
                         else self.batch.person(typed))
            self.people[typed["codice_fiscale"]] = {**typed, "id": person_id,
                                                    "data_nascita": date.fromisoformat(str(typed["data_nascita"]))}
            return person_id, False
        birth = date.fromisoformat(str(typed["data_nascita"]))
        return stored["id"], bool(identity_differences(stored, {**typed, "data_nascita": birth}))

    def _write(self, conn: Any, row: ParsedRow, decisions: list[tuple[Actor, Decision]], last: CaseView) -> int:
        recorded_at = self.now.astimezone(timezone.utc)
        (actor, first), rest = decisions[0], decisions[1:]
        person_id, differs = self._person(conn, first.person) if first.person else (None, False)
        record = {"case_type": self.ct.case_type, "external_id": row.external_id, "case_id": None,
                  "file_name": self.file_name[:255], "file_sha256": self.file_sha256, "row_number": row.number,
                  "imported_by": self.user.username, "imported_at": recorded_at}
        self.records.append(record)
        if self.stepwise:
            record["case_id"] = self._write_stepwise(conn, decisions, last, person_id, differs, recorded_at)
            return record["case_id"]
        calendar = self.svc.calendar(self.by_version[last.policy_version])
        case = self.batch.case(record, decisions, comune=last.comune_istat, related=last.related_case_id,
                               policy_version=last.policy_version, person_id=person_id,
                               roll=lambda day: calendar.next_working_day(day, last.comune_istat))
        if differs:
            self.batch.discrepancy(person_id, case, first.person)
        return case  # its id once the batch is written (run_import reads it then)

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
