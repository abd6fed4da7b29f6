"""A synthetic year of work for demos and load checks: users, people and cases of every registered type.

Each case type declares its generator with itself (`CaseType.demo`, in its package under
domain/casetypes/); this module only prepares the district and its users, implements the generators'
context (`domain.demo.DemoContext`) over the real `CaseService`, runs every registered generator by
ascending `order` (then registry order), and sums up. Every case is opened and advanced through the
service (declarations, guards, audit, deadlines, outbox), with a fixed clock and explicit effective
dates, so the result is exactly what a year of operators' clicks would have produced. Sizes follow
DOMAIN.md §10 at scale 1.0. All people are invented (`domain.demo_people`).

The generator catches nothing: a DomainError means a generator built bad data.
"""
from __future__ import annotations

import random
import time as _time
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy.engine import Engine

from domain.demo import ComuneInfo, DemoContext, DemoGenerator, DemoTally, ProviderInfo, Run
from domain.demo_people import make_persona
from domain.registry import all_case_types
from domain.workflow import Role
from domain.italian import ROME
from services.cases import CaseService
from services.demo_users import create_demo_users
from services.setup import SYSTEM_USER
from store import case_reads, reference, users
from store.uow import reading, writing


def generate_demo(engine: Engine, *, year: int = 2026, seed: int = 7, scale: float = 1.0,
                  today: date | None = None) -> dict:
    """Fill an initialised database with a synthetic year of work; returns a summary.

    `today` (default: the earlier of today and 31 December of `year`) is the day the demo stops:
    no step is dated after it. It may not be after the real date (dates of birth and of the ISEE
    declarations are refused when in the future).
    """
    started = _time.perf_counter()
    today = today or min(date.today(), date(year, 12, 31))
    if today > date.today():
        raise ValueError(f"la data di fine della demo ({today:%d/%m/%Y}) non può essere nel futuro")
    if scale < 0:
        raise ValueError("la scala non può essere negativa")
    if not reference.initialised(engine):
        raise ValueError("database non inizializzato: eseguire prima «legami init»")
    ctx = _ServiceContext(engine, year=year, seed=seed, scale=scale, today=today)
    ctx.check_database()
    ctx.create_users()
    generators = demo_generators()
    if today >= date(year, 1, 2):
        for gen in generators:
            gen(ctx)
        ctx.settle_past_mail()
    return _summary(ctx, generators, _time.perf_counter() - started)


def demo_generators() -> list[DemoGenerator]:
    """The registered case types' generators, each once, by ascending `order` then registry order."""
    found: list[DemoGenerator] = []
    for ct in all_case_types():
        if ct.demo is not None and not any(g is ct.demo for g in found):
            found.append(ct.demo)
    return sorted(found, key=lambda g: getattr(g, "order", 0))


OFFICE_OPENS = time(9, 0)
STEP_SPACING = timedelta(seconds=20)  # steps recorded the same day follow each other by 20 s from 09:00


class _ServiceContext(DemoContext):
    """The generators' context over the real case service. Its clock follows the steps: each step is recorded
    on its effective day, from 09:00 (a step of today never later than now), so `tally --as-of` an earlier
    day, the deadlines' history and the outbox look as a real year leaves them."""

    def __init__(self, engine: Engine, *, year: int, seed: int, scale: float, today: date):
        self.engine = engine
        self.year, self.seed, self.scale, self.today = year, seed, scale, today
        self.now = datetime.combine(today, time(18, 0), ROME)
        self.svc = CaseService(engine, clock=lambda: self.now)
        self._steps_on: dict[date, int] = defaultdict(int)
        self.rng = random.Random(seed)
        self.system_user = SYSTEM_USER
        self.shared: dict[str, Any] = {}
        self.facts: dict[str, Any] = {}
        self.notes: list[str] = []
        self._actors: dict[str, Any] = {}
        self._cfs: set[str] = set()
        self._load_reference()

    # ------------------------------------------------------------------ reference data and users

    def _load_reference(self) -> None:
        with reading(self.engine) as conn:
            comuni = sorted(reference.comuni(conn), key=lambda r: r.istat)
            self._providers = reference.providers(conn)
            self.sub_ambiti = reference.sub_ambiti(conn)
        self.comuni = [ComuneInfo(r.istat, r.belfiore, r.nome, r.popolazione or 1, r.sub_ambito) for r in comuni]
        self.providers: list[ProviderInfo] = []
        crema = [ci for ci in self.comuni if ci.nome.lower() == "crema"]
        self.hospital_belfiore = crema[0].belfiore if crema else None

    def check_database(self) -> None:
        with reading(self.engine) as conn:
            cases = case_reads.totals(conn)["cases"]
            system = users.user(conn, SYSTEM_USER, active=None)
        if not self.comuni or system is None:
            raise ValueError("database non inizializzato: eseguire prima «legami init»")
        if cases:
            raise ValueError(f"il database contiene già {cases} casi: la demo va generata su un database nuovo")
        self.calendar = self.svc.calendar(self.svc.policy_on(date(self.year, 1, 1)))

    def create_users(self) -> None:
        staff = create_demo_users(self.engine, self.comuni, self.sub_ambiti,
                                  [(r.codice, r.nome) for r in self._providers])
        self.workers, self.coordinators = staff.workers, staff.coordinators
        self.users_by_role = staff.by_role
        self.providers = [ProviderInfo(r.codice, r.nome, frozenset(r.comuni or ()), staff.provider_users[r.codice])
                          for r in self._providers]

    def users(self, role: Role) -> list[str]:
        return self.users_by_role.get(role.value, [])

    def policy_on(self, day: date):
        return self.svc.policy_on(day)

    def _actor(self, username: str):
        if username not in self._actors:
            self._actors[username] = self.svc.actor(username)
        return self._actors[username]

    # ------------------------------------------------------------------ driving the service

    def _record_on(self, day: date) -> None:
        """Set the clock to the next free moment of `day`'s office hours."""
        n = self._steps_on[day]
        self._steps_on[day] = n + 1
        moment = datetime.combine(day, OFFICE_OPENS, ROME) + (n % 1600) * STEP_SPACING  # 1,600 x 20 s: 9 h
        self.now = min(moment, datetime.now(ROME)) if day == date.today() else moment

    def settle_past_mail(self) -> None:
        start_of_today = datetime.combine(self.today, time(0, 0), ROME).astimezone(timezone.utc)
        from notifications.outbox_sql import settle_demo_history

        with writing(self.engine) as conn:
            settled = settle_demo_history(conn, start_of_today)
        if settled:
            self.note(f"posta dei giorni precedenti segnata come già recapitata ({settled} messaggi, nessuno "
                      "inviato davvero: destinatari fittizi); restano in coda solo i messaggi di oggi")

    def open(self, case_type: str, user: str, on: date, data: dict, *, kind: str | None = None,
             comune: str | None = None, related: int | None = None) -> Run | None:
        if on > self.today:
            return None
        self._record_on(on)
        case_id = self.svc.open_case(case_type=case_type, actor=self._actor(user), data=data, kind=kind,
                                     comune_istat=comune, related_case_id=related, effective_at=on)
        return Run(case_id, on)

    def advance(self, run: Run | None, transition: str, user: str, on: date, data: Any = None,
                reason: str | None = None) -> bool:
        if run is None or not run.alive:
            return False
        if on > self.today:
            run.alive = False
            return False
        if on < run.last:
            raise AssertionError(f"demo: caso {run.id}, «{transition}» il {on} precede il passo del {run.last}")
        payload = data() if callable(data) else data
        self._record_on(on)
        self.svc.advance(case_id=run.id, transition=transition, actor=self._actor(user), data=payload,
                         effective_at=on, reason=reason)
        run.last = on
        return True

    def persona(self, rng: random.Random, comune: ComuneInfo, age_lo: int, age_hi: int) -> dict:
        return make_persona(rng, comune, age_lo, age_hi, today=self.today, comuni=self.comuni,
                            hospital_belfiore=self.hospital_belfiore, taken=self._cfs)

    def note(self, text: str) -> None:
        self.notes.append(text)


# ---------------------------------------------------------------------------------------- summary


def _summary(ctx: _ServiceContext, generators: list[DemoGenerator], elapsed: float) -> dict:
    with reading(ctx.engine) as conn:
        rows = [tuple(r) for r in case_reads.count_by_type_and_state(conn)]
        outcomes = case_reads.count_by_type_and_outcome(conn)
        counted = case_reads.totals(conn)
    transitions, people = counted["transitions"], counted["people"]
    cases: dict[str, dict[str, int]] = defaultdict(dict)
    for case_type, state, n in sorted(rows):
        cases[case_type][state] = n
    by_outcome: dict[str, dict[str, int]] = defaultdict(dict)
    for case_type, outcome, n in sorted(outcomes):
        by_outcome[case_type][outcome] = n
    tally = DemoTally(cases=dict(cases), outcomes=dict(by_outcome), facts=dict(ctx.facts))
    extras: dict[str, Any] = {}
    for gen in generators:
        summary = getattr(gen, "summary", None)
        if summary is not None:
            extras.update(summary(tally))
    users = {role: sorted(names) for role, names in sorted(ctx.users_by_role.items())}
    return {
        "year": ctx.year,
        "seed": ctx.seed,
        "scale": ctx.scale,
        "today": ctx.today.isoformat(),
        "cases": {t: dict(s) for t, s in sorted(cases.items())},
        "cases_by_type": {t: sum(s.values()) for t, s in sorted(cases.items())},
        "cases_total": sum(n for s in cases.values() for n in s.values()),
        "outcomes": {t: dict(o) for t, o in sorted(by_outcome.items())},
        **extras,
        "transitions": transitions,
        "people": people,
        "users": users,
        "user_examples": {role: names[0] for role, names in users.items()},
        "notes": ctx.notes,
        "elapsed_seconds": round(elapsed, 2),
    }
