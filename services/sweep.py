"""The daily deadline sweep: automatic steps that fell due, reminders before, escalations after, and what colleagues
wrote the day before in the diary of a worker's cases (DOMAIN.md §13).

Set-based: open deadlines are read in keyset batches with one indexed query per batch (store/sweep.py);
nothing runs per case except the rare automatic transition (each its own unit of work through the case
service).
Idempotent: every (deadline, stage, recipient) is logged once; a rerun the same day queues nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.obligation_files import load_reminder_policy
from domain.calendar import working_days_between
from domain.errors import DomainError
from domain.italian import ROME
from domain.obligations import DeadlineReminderPolicy
from domain.registry import get_workflow
from services.cases import CaseService
from services.digest import DigestBook, DigestRun, flush
from services.directory import Directory
from services.setup import SYSTEM_USER
from store import sweep as store
from store.ambito_filter import case_in_ambito, deadline_in_ambito
from store.cases import _aware
from store.uow import reading, writing

LOOKAHEAD_DAYS = 14  # calendar days that always contain the furthest "T-n working days" reminder
PER_TRANSACTION = 100_000  # open deadlines whose reminders are logged and queued in one transaction


@dataclass
class SweepResult:
    as_of: date
    fired: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    reminders: int = 0
    escalations: int = 0
    queued: int = 0
    scanned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"al": self.as_of.isoformat(), "transizioni_automatiche": len(self.fired),
                "automatiche_rifiutate": [{"caso": c, "transizione": t, "motivo": m} for c, t, m in self.refused],
                "promemoria": self.reminders, "escalation": self.escalations, "accodati": self.queued,
                "scadenze_esaminate": self.scanned}


def run_deadline_sweep(engine: Engine, *, as_of: date, service: CaseService | None = None,
                       policy: DeadlineReminderPolicy | None = None, batch_size: int = 5000,
                       ambito: str | None = None, per_transaction: int = 0) -> SweepResult:
    """The sweep of every case of the instance, or of one Ambito's (`ambito`, its code: its cases by
    store/ambito_filter.py, its own reminders.toml by config/locate.py). Partitions by Ambito never overlap,
    and each is idempotent per day (the reminder log), so they may run in any order, on any worker, again.
    `per_transaction`: open deadlines whose reminders are logged and queued in one transaction (default
    PER_TRANSACTION)."""
    service = service or CaseService(engine)
    scope = ambito_scope_of(engine, ambito)
    policy = policy or load_reminder_policy(ambito_dir=ambito_dir_of(engine, ambito))
    where = case_in_ambito(scope)
    # the deadlines read by their own Ambito too (0023): the Ambito's, not every Ambito's joined to its cases
    deadlines_where = sa.and_(deadline_in_ambito(scope), where)
    result = SweepResult(as_of)
    fire_automatic_steps(engine, service, as_of, result, where=deadlines_where)
    with reading(engine) as conn:
        directory = Directory(conn)
    calendar = service.calendar(service.policy_on(as_of))
    _remind_before(engine, directory, calendar, policy, as_of, batch_size, result, deadlines_where, per_transaction)
    _escalate_overdue(engine, directory, policy, as_of, batch_size, result, deadlines_where, per_transaction)
    _diary_news(engine, directory, as_of, result, where)
    return result


def ambito_scope_of(engine: Engine, code: str | None):
    """The AmbitoScope of `code` (None: no bound, every case); an unknown code is refused in Italian."""
    if code is None:
        return None
    from services.ambiti import ambito_scope

    return ambito_scope(engine, code)


def ambito_dir_of(engine: Engine, code: str | None):
    """The folder the Ambito was loaded from (its own settings files), None for the instance's."""
    if code is None:
        return None
    from store import reference

    row = reference.district(engine, code)
    return row.source_dir if row is not None else None


def fire_automatic_steps(engine: Engine, service: CaseService, as_of: date, result: SweepResult,
                         where=True) -> None:
    """Steps the declarations mark automatic (pact end → verifica, call window open/close, reply window lapsed)."""
    automatic_kinds = _automatic_kinds()
    if not automatic_kinds:
        return
    rows = store.automatic_due(engine, automatic_kinds, as_of, where)
    system = service.actor(SYSTEM_USER)
    for row in rows:
        wf = get_workflow(row.case_type)
        t = wf.automatic_for(row.kind, row.state)
        rule = wf.deadline_rules().get(row.kind)
        if t is None or as_of < row.due + timedelta(days=rule.fires_after_days):
            continue
        when = max(datetime.combine(row.due + timedelta(days=rule.fires_after_days), time(0, 0), ROME),
                   _aware(row.state_since))
        reason = f"termine «{rule.label}» scaduto il {row.due:%d/%m/%Y}" if t.requires_reason else None
        try:
            service.advance(case_id=row.case_id, transition=t.name, actor=system, effective_at=when, reason=reason)
            result.fired.append((row.case_id, t.name))
        except DomainError as exc:
            result.refused.append((row.case_id, t.name, str(exc)))


def _automatic_kinds() -> set[str]:
    from domain.registry import all_workflows

    return {r.kind for wf in all_workflows() for r in wf.deadline_rules().values() if r.fires}


def _remind_before(engine, directory, calendar, policy, as_of, batch_size, result, where=True,
                   per_transaction: int = 0) -> None:
    stages: dict[tuple[date, str | None], str | None] = {}  # working days depend on (due, comune) only
    resolve = _memo(directory.resolve)

    def book_of(rows) -> DigestBook:
        book = DigestBook(as_of)
        for r in rows:
            k = (r.due, r.comune_istat)
            if k not in stages:
                stages[k] = policy.stage_before(working_days_between(calendar, as_of, r.due, r.comune_istat))
            stage = stages[k]
            if stage is None:
                continue
            for token in policy.recipients_before(r.case_type, r.kind, r.owner is not None):
                for who in resolve(token, comune=r.comune_istat, owner=r.owner, provider=r.provider_codice,
                                   ambito=r.ambito_code):
                    book.add(who, f"scadenza:{r.id}:{stage}:{who.key}", lambda r=r: _item(r, as_of, "scadenza", directory),
                             stage=stage, deadline_id=r.id)  # built only if not logged yet
        return book

    batches = store.open_due_between(engine, as_of, as_of + timedelta(days=LOOKAHEAD_DAYS), batch_size, where)
    queued = _write_in_transactions(engine, batches, book_of, as_of, result, per_transaction or PER_TRANSACTION)
    result.reminders += queued
    result.queued += queued


def _escalate_overdue(engine, directory, policy, as_of, batch_size, result, where=True,
                      per_transaction: int = 0) -> None:
    resolve = _memo(directory.resolve)

    def book_of(rows) -> DigestBook:
        logged = store.logged_stages(engine, [r.id for r in rows])
        book = DigestBook(as_of)
        for r in rows:
            earlier = [{"destinatario": log.recipient.removeprefix("email:"), "il": log.queued_on.isoformat()}
                       for log in sorted(logged.get(r.id, []), key=lambda x: x.queued_on)]
            for who in resolve("owner", comune=r.comune_istat, owner=r.owner, ambito=r.ambito_code) if r.owner else []:
                book.add(who, f"scadenza:{r.id}:scaduta:{who.key}", _item(r, as_of, "scaduta", directory),
                         stage="scaduta", deadline_id=r.id)
            escalate_to = policy.escalation_role(r.case_type, r.comune_istat is not None)
            stages = [("scaduta", escalate_to)]
            if r.source == "statutory":
                stages.append(("normativa", policy.statutory_role))
            for stage, role in stages:
                for who in resolve(role, comune=r.comune_istat, ambito=r.ambito_code):
                    item = _item(r, as_of, "escalation", directory) | {"promemoria_precedenti": earlier}
                    book.add(who, f"scadenza:{r.id}:{stage}:{who.key}", item, stage=stage, deadline_id=r.id)
        return book

    batches = store.overdue_not_escalated(engine, as_of, batch_size, where)
    queued = _write_in_transactions(engine, batches, book_of, as_of, result, per_transaction or PER_TRANSACTION)
    result.escalations += queued
    result.queued += queued


def _write_in_transactions(engine, batches, book_of, as_of: date, result: SweepResult, per_transaction: int) -> int:
    """Log each batch's reminders and queue their digests, in transactions of up to `per_transaction`
    deadlines: the log rows and the digest items they stand for always commit together, and a recipient's
    digest is appended to once per transaction (not once per batch: each append rewrites the whole jsonb
    payload, so per batch the first night cost grew with the square of the batches). Returns the items queued."""
    queued = 0
    batches = iter(batches)
    rows = next(batches, None)
    while rows is not None:
        run, seen = DigestRun(as_of), 0
        with writing(engine) as conn:
            while rows is not None and seen < per_transaction:
                result.scanned += len(rows)
                seen += len(rows)
                run.log(conn, book_of(rows))
                rows = next(batches, None)  # keyset pages by id: the next page does not depend on this commit
            queued += run.queue(conn)
    return queued


def _diary_news(engine, directory, as_of: date, result, where=True) -> None:
    """What colleagues wrote in the diary of a worker's cases the day before (kind, author, case; never the text,
    which stays behind the case page's access rule and, for a health entry, its read log)."""
    from domain.diary import kind_labels
    from store.diary import written_by_colleagues

    start = datetime.combine(as_of - timedelta(days=1), time(0, 0), ROME)
    with reading(engine) as conn:
        rows = written_by_colleagues(conn, start, start + timedelta(days=1), where)
    book = DigestBook(as_of)
    for r in rows:
        kind = kind_labels(r.case_type).get(r.kind, r.kind)
        item = {"categoria": "diario", "caso_id": r.case_id, "tipo_caso": get_workflow(r.case_type).label,
                "etichetta": f"{kind}, voce n. {r.seq} di {r.author_name}",
                "scadenza": None, "giorni": None, "comune": directory.comune_name.get(r.comune_istat),
                "fonte": None, "persona": None, "link": f"/casi/{r.case_id}#voce-{r.seq}",
                "promemoria_precedenti": [], "scritta_il": _aware(r.recorded_at).astimezone(ROME).date().isoformat()}
        for who in directory.resolve("owner", comune=r.comune_istat, owner=r.owner):
            book.add(who, f"diario:{r.case_id}:{r.seq}:{who.key}", item, stage="diario")
    with writing(engine) as conn:
        result.queued += flush(conn, book)


def _memo(fn):
    """Recipients depend only on (token, comune, owner, provider): resolve each combination once per sweep."""
    cache: dict = {}

    def resolve(token, **kw):
        k = (token, *sorted(kw.items()))
        if k not in cache:
            cache[k] = fn(token, **kw)
        return cache[k]
    return resolve


def _item(r, as_of: date, categoria: str, directory: Directory) -> dict[str, Any]:
    wf = get_workflow(r.case_type)
    initials = f"{r.cognome[:1]}. {r.nome[:1]}." if r.cognome else None
    return {
        "categoria": categoria, "caso_id": r.case_id, "tipo_caso": wf.label, "etichetta": r.label,
        "scadenza": r.due.isoformat(), "giorni": (r.due - as_of).days,
        "comune": directory.comune_name.get(r.comune_istat), "fonte": r.source, "persona": initials,
        "link": f"/casi/{r.case_id}", "promemoria_precedenti": [],
    }
