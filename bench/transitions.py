"""Persisted transitions per second: N patto cases through their full path, engine vs raw SQL.

    python -m bench.transitions --db sqlite|postgresql|both --cases N

For each database: a fresh schema (`init_database`), three users, 2 x (N + warm-up) patto cases
opened through `CaseService.open_case` (not timed). Then, timed, every case walks
assegna -> avvia_redazione -> attiva -> registra_monitoraggio -> avvia_verifica, one unit of
work per step with a reload of the case:

* engine: `CaseService.advance` (load, validate, decide, persist, outbox; one `store.cases.UnitOfWork`:
          a connection checked out of the engine's pool with `Engine.raw_connection()`, a new cursor,
          commit, the connection back to the pool);
* raw:    the same statements the engine issues for that step (see store/cases.py: the case
          SELECT, the guarded UPDATE, the audit INSERT, one deadline UPDATE per closing status, one
          multi-row deadline INSERT; on assegna the guard's app_user lookup, which the handler
          re-uses, and the outbox INSERT), the same SQL text (JSON passed pre-serialised, with a
          ::jsonb cast on PostgreSQL), through the bare DBAPI driver (sqlite3 / psycopg 3),
          precomputed values, commit per step. This is the lower bound. Its connection handling is
          lighter than the engine's: one driver connection opened once for the whole run (no pool, no
          checkout or return), a new cursor per step (as the engine's unit of work), commit per step.

Both run in the same process on the same database, interleaved in chunks of cases (alternating
which goes first) so that table growth and machine noise hit both alike. Afterwards the run
checks itself: every case is UNDER_REVIEW at version 6 with 6 audit rows, and each raw case
holds exactly the same rows (state, audit rows and their JSON, deadlines, outbox) as its engine
twin: the bound writes the same bytes, it only skips the work in between.

Besides throughput and latency it reports this process's CPU time per transition on each side:
the client-side cost, which a busy machine disturbs far less than wall time.

`--profile FILE` runs cProfile (CPU clock by default, `--profile-timer wall` for wall time) around
the engine's advance calls only and prints the top cumulative entries in project code and
SQLAlchemy, and own time grouped by package.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import psycopg
import sqlalchemy
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from domain.audit import GENESIS, row_hash
from domain.casetypes.patto.workflow import (
    FINE_PATTO,
    FIRMA,
    MONITORAGGIO,
    PATTO,
    VERIFICA,
)
from domain.engine import Decision
from domain.italian import ROME
from domain.validation import make_codice_fiscale
from services.cases import CaseService
from services.handlers import HANDLERS
from services.setup import SYSTEM_USER, ensure_user, init_database
from store.db import make_engine, sqlite_synchronous
from store.tables import deadline_t, transition_t

UTC = timezone.utc
DEFAULT_PG_URL = os.environ.get("LEGAMI_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/legami_bench")
GOALS = {"postgresql": 0.90, "sqlite": 0.55}  # engine throughput / raw throughput (issue 10; 0.75 on PostgreSQL before)

# ------------------------------------------------------------------ the scenario (all in the past)

FIXED_NOW = datetime(2025, 9, 1, 12, 0, tzinfo=ROME)
CREMA = "019035"  # comune di Crema, sub-ambito "Crema"
WORKER, COORD, SYSTEM = "as.bench", "coord.bench", SYSTEM_USER
WORKER_EMAIL = "as.bench@example.org"
WORKER_NAME = "Assistente sociale (bench)"  # as the assignment e-mail greets her
OPENED_AT = datetime(2025, 2, 3, 9, 0, tzinfo=ROME)
STEPS = ("assegna", "avvia_redazione", "attiva", "registra_monitoraggio", "avvia_verifica")
STEP_AT = {
    "assegna": datetime(2025, 2, 5, 10, 0, tzinfo=ROME),
    "avvia_redazione": datetime(2025, 2, 10, 10, 0, tzinfo=ROME),
    "attiva": datetime(2025, 2, 20, 10, 0, tzinfo=ROME),
    "registra_monitoraggio": datetime(2025, 4, 1, 10, 0, tzinfo=ROME),
    "avvia_verifica": datetime(2025, 7, 1, 8, 0, tzinfo=ROME),  # on/after data_fine
}
STEP_ACTOR = {"assegna": COORD, "avvia_redazione": WORKER, "attiva": WORKER,
              "registra_monitoraggio": WORKER, "avvia_verifica": SYSTEM}
DATA_INIZIO, DATA_FINE = "2025-03-01", "2025-06-30"
SURNAMES = ("Bianchi", "Rossi", "Verdi", "Ferrari", "Russo", "Colombo", "Ricci", "Marino", "Greco", "Bruno")


def person(seed: int) -> dict[str, Any]:
    birth = date(1940, 1, 1) + timedelta(days=seed % 30000)
    surname = SURNAMES[(seed // 30000) % len(SURNAMES)]
    cf = make_codice_fiscale(surname, "Mario", birth, "M", "D142")
    return {"codice_fiscale": cf, "cognome": surname, "nome": "Mario", "data_nascita": birth.isoformat()}


def opening_case_data(i: int) -> dict[str, Any]:
    """What the opening (segnala) leaves in the case data: its form without the person."""
    return {"fonte": "spontanea", "bisogno": "economico", "note": f"Segnalazione di prova n. {i}"}


def opening_data(i: int, seed: int) -> dict[str, Any]:
    return {"persona": person(seed), **opening_case_data(i)}


def step_inputs(i: int) -> list[dict[str, Any]]:
    """What a form posts for each step (strings, defaults omitted): the engine validates these."""
    return [
        {"assegnatario": WORKER, "primo_colloquio_il": "05/02/2025"},
        {"tipologia": "inclusione", "bisogni": f"Reddito insufficiente, utenze arretrate (caso {i})",
         "risorse": "Rete familiare, parrocchia", "componenti_nucleo": 1 + i % 5,
         "isee": {"tipo": "ordinario", "valore": "6500.00", "data_dsu": "2025-01-15",
                  "protocollo": f"INPS-ISEE-2025-{i % 10**9:09d}-00"}},
        {"obiettivi": [
            {"descrizione": f"Ricerca attiva di lavoro (caso {i})", "indicatore": "colloqui sostenuti", "target": "3"},
            {"descrizione": "Regolarizzazione delle utenze", "indicatore": "bollette pagate", "target": "4",
             "peso": "2"}],
         "impegni_reciprocita": [{"attivita": "Volontariato in mensa", "ente_ospitante": "Caritas Crema",
                                  "ore_settimanali": "4"}],
         "misura_economica": {"tipo": "mensile", "importo": "500.00", "mensilita": 4,  # 2000 <= 3000
                              "voci": ["sostegno_reddito"]}, "canale": "progetto",
         "data_inizio": DATA_INIZIO, "data_fine": DATA_FINE, "firmato_il": "20/02/2025",
         "firmatari": [f"Beneficiario del caso {i}"], "firma_assistente_sociale": True,
         "informativa_privacy": True},
        {"incontro_il": "2025-04-01", "ore_reciprocita": "16",
         "avanzamento": f"Regolare, impegni rispettati (caso {i})", "importo_erogato": "1000.00"},
        {},
    ]


def stored_payloads(i: int) -> list[dict[str, Any]]:
    """The step data as the audit rows store it, computed once before timing with the declaration's own
    form models (model_dump(mode="json", exclude_none=True), as domain.engine._validate_data does):
    the raw side then writes the same JSON without validating anything while timed."""
    out = []
    for step, data in zip(STEPS, step_inputs(i)):
        model = PATTO.transition(step).data
        out.append(model.model_validate(data).model_dump(mode="json", exclude_none=True) if model else {})
    return out


# ------------------------------------------------------------------ raw statements (from store/cases.py)

SELECT_CASE = (
    "SELECT case_file.id, case_file.case_type, case_file.kind, case_file.state, case_file.comune_istat, "
    "case_file.owner, case_file.opened_at, case_file.state_since, case_file.policy_version, case_file.data, "
    "case_file.version, case_file.related_case_id, case_file.provider_codice, person.codice_fiscale, "
    "person.data_nascita, case_file.audit_hash, health_data.key_id, health_data.nonce, health_data.ciphertext "
    "FROM case_file LEFT OUTER JOIN person ON person.id = case_file.person_id LEFT OUTER JOIN health_data "
    "ON health_data.case_id = case_file.id AND health_data.seq = 0 WHERE case_file.id = {p}"
)
SELECT_USER = (  # the assegna guard (assignee_is_social_worker_of_sub_ambito); the handler re-uses its answer
    "SELECT app_user.username, app_user.role, app_user.sub_ambito, app_user.provider_codice, app_user.email, "
    "app_user.full_name FROM app_user WHERE app_user.username = {p} AND app_user.active {true}"
)
UPDATE_CASE = (
    "UPDATE case_file SET {sets}, version=(case_file.version + 1) "
    "WHERE case_file.id = {p} AND case_file.version = {p}"
)
# case_transition.effective_on (the Europe/Rome day of effective_at) exists from migration 0004 on
AUDIT_DAY = "effective_on" in transition_t.c
INSERT_TRANSITION = (
    "INSERT INTO case_transition (case_id, seq, transition, from_state, to_state, actor, actor_role, "
    f"recorded_at, effective_at, {'effective_on, ' if AUDIT_DAY else ''}reason, data, hash) "
    f"VALUES ({{p}}, {{p}}, {{p}}, {{p}}, {{p}}, {{p}}, {{p}}, {{p}}, {{p}}, {'{p}, ' if AUDIT_DAY else ''}{{p}}, {{pj}}, "
    "{p})"
)
UPDATE_MET = (
    "UPDATE deadline SET status={p}, closed_on={p} WHERE deadline.case_id = {p} "
    "AND deadline.status IN ('open', 'paused') AND deadline.kind IN ({kinds})"
)
# deadline.ambito_code (its case's, read from the case row as store/hot_sql.py does) exists from 0023 on
DEADLINE_AMBITO = "ambito_code" in deadline_t.c
INSERT_DEADLINE = (  # one multi-row INSERT for a step's new deadlines
    "INSERT INTO deadline (case_id, kind, label, due, basis, source, status, started_seq, suspended_days"
    f"{', ambito_code' if DEADLINE_AMBITO else ''}) VALUES {{rows}}"
)
DEADLINE_ROW = ("({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, 0"
                f"{', (SELECT ambito_code FROM case_file WHERE id = {p})' if DEADLINE_AMBITO else ''})")
INSERT_OUTBOX = (
    "INSERT INTO outbox (idempotency_key, event, case_id, recipient, template, payload, created_at, status, "
    "attempts, next_attempt_at) VALUES ({p}, {p}, {p}, {p}, {p}, {pj}, {p}, {p}, {p}, {p})"
)

# op kinds of a raw unit of work: HASH chains the step's audit row to the head LOAD read (domain.audit, as
# store.cases does, computed while timed), UPDATE_VERSIONED writes the new head, AUDIT inserts the row with it
LOAD, FETCH, UPDATE_VERSIONED, EXEC, HASH, AUDIT = range(6)


@dataclass(frozen=True)
class Dialect:
    name: str
    p: str  # placeholder
    pj: str  # placeholder of a JSON value
    true: str

    def sql(self, template: str, **extra: str) -> str:
        return template.format(p=self.p, pj=self.pj, true=self.true, **extra)

    def ts(self, value: datetime) -> Any:
        value = value.astimezone(UTC)
        if self.name == "sqlite":  # SQLAlchemy's SQLite DATETIME storage format (UTC, no offset)
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.name == "sqlite" else value

    @staticmethod
    def json(value: Any) -> str:
        return orjson.dumps(value).decode()  # the engine's hot path writes orjson's text (store/cases.py)


SQLITE = Dialect("sqlite", "?", "?", "= 1")
POSTGRES = Dialect("postgresql", "%s", "%s::jsonb", "IS true")


@dataclass(frozen=True)
class Dues:
    firma: date
    monitoraggio_1: date
    fine: date
    monitoraggio_2: date
    verifica: date


def closings(step: str) -> list[tuple[str, tuple[str, ...]]]:
    """Which open deadlines a step closes, as `decide` + store.cases._update_deadlines do: the kinds it
    meets, then (engines that know automatic steps, `DeadlineRule.fires`) the kinds whose term it fires."""
    rules = PATTO.deadline_rules().values()
    knows_expired = "expired" in Decision.__dataclass_fields__
    fired = [r.kind for r in rules if knows_expired and getattr(r, "fires", None) == step]
    met = [r.kind for r in rules if step in r.met_by and r.kind not in fired]
    return [(status, tuple(kinds)) for status, kinds in (("met", met), ("expired", fired)) if kinds]


PLANNED_STARTS = {"assegna": [], "avvia_redazione": ["firma_patto"], "attiva": ["monitoraggio", "fine_patto"],
                  "registra_monitoraggio": ["monitoraggio"], "avvia_verifica": ["verifica"]}


def check_declaration() -> None:
    """The raw plan hard-codes the path's states, deadlines and outbox: fail early if the declaration moved."""
    states = ["REFERRED", "INTAKE", "DRAFTING", "ACTIVE", "ACTIVE", "UNDER_REVIEW"]
    for k, step in enumerate(STEPS):
        t = PATTO.transition(step)
        assert t is not None and states[k] in t.sources and t.target == states[k + 1], f"patto.{step} moved"
        assert [r.kind for r in t.starts] == PLANNED_STARTS[step], f"patto.{step} starts other deadlines"
        assert not PATTO.state(t.target).terminal and not PATTO.state(t.target).suspended
        assert (f"patto.{step}" in HANDLERS) == (step == "assegna"), f"patto.{step}: handlers changed"


def raw_plan(d: Dialect, case_id: int, i: int, dues: Dues) -> list[list[tuple]]:
    """Per step, the engine's statements with precomputed parameters (no validation, no engine)."""
    payloads = stored_payloads(i)
    data = opening_case_data(i)
    recorded = d.ts(FIXED_NOW)
    load = (LOAD, d.sql(SELECT_CASE), (case_id,))
    ins_transition = d.sql(INSERT_TRANSITION)
    met_1 = d.sql(UPDATE_MET, kinds=d.p)
    roles = {WORKER: "social_worker", COORD: "subarea_coordinator", SYSTEM: "system"}
    states = ("REFERRED", "INTAKE", "DRAFTING", "ACTIVE", "ACTIVE", "UNDER_REVIEW")

    def chain(k: int) -> tuple:
        step, actor = STEPS[k], STEP_ACTOR[STEPS[k]]
        return (HASH, None, {"case_id": case_id, "seq": k + 2, "transition": step, "from_state": states[k],
                             "to_state": states[k + 1], "actor": actor, "actor_role": roles[actor],
                             "recorded_at": FIXED_NOW, "effective_at": STEP_AT[step], "reason": None,
                             "data": payloads[k]})

    def audit(k: int) -> tuple:
        step, actor = STEPS[k], STEP_ACTOR[STEPS[k]]
        day = (d.day(STEP_AT[step].astimezone(ROME).date()),) if AUDIT_DAY else ()
        return (AUDIT, ins_transition,
                (case_id, k + 2, step, states[k], states[k + 1], actor, roles[actor], recorded,
                 d.ts(STEP_AT[step]), *day, None, d.json(payloads[k])))

    def closes(k: int) -> list[tuple]:
        """The deadline UPDATEs of step k: one per status (met, then expired), kinds IN (...)."""
        ops = []
        for status, kinds in closings(STEPS[k]):
            sql = met_1 if len(kinds) == 1 else d.sql(UPDATE_MET, kinds=", ".join([d.p] * len(kinds)))
            ops.append((EXEC, sql, (status, d.day(STEP_AT[STEPS[k]].date()), case_id, *kinds)))
        return ops

    def deadlines(*rows: tuple) -> tuple:
        """One INSERT of the step's new deadlines: (rule, due, seq) each."""
        sql = d.sql(INSERT_DEADLINE, rows=", ".join([d.sql(DEADLINE_ROW)] * len(rows)))
        params = [v for rule, due, seq in rows
                  for v in (case_id, rule.kind, rule.label, d.day(due), rule.basis.value, rule.source.value,
                            "open", seq, *((case_id,) if DEADLINE_AMBITO else ()))]
        return (EXEC, sql, tuple(params))

    def update(k: int, sets: list[tuple[str, Any]]) -> tuple:
        cols = ", ".join(f"{c}={d.pj if c == 'data' else d.p}" for c, _ in [*sets, ("audit_hash", None)])
        return (UPDATE_VERSIONED, d.sql(UPDATE_CASE, sets=cols), (*(v for _, v in sets), case_id))

    plan: list[list[tuple]] = []
    # assegna: the guard reads the assignee, the handler re-uses that answer and writes the outbox
    data = {**data, **payloads[0]}
    efficace = STEP_AT["assegna"].isoformat()
    outbox_payload = {"case_id": case_id, "case_type": "patto", "transizione": "Assegnazione e primo colloquio",
                      "efficace_il": efficace, "assegnatario": WORKER_NAME}
    plan.append([
        load,
        (FETCH, d.sql(SELECT_USER), (WORKER,)),
        chain(0),
        update(0, [("state", "INTAKE"), ("owner", WORKER), ("state_since", d.ts(STEP_AT["assegna"])),
                   ("data", d.json(data))]),
        audit(0),
        *closes(0),
        (EXEC, d.sql(INSERT_OUTBOX),
         (f"patto.assegna:{case_id}:2:caso_assegnato:{WORKER_EMAIL}", "patto.assegna", case_id, WORKER_EMAIL,
          "caso_assegnato", d.json(outbox_payload), recorded, "pending", 0, recorded)),
    ])
    # avvia_redazione
    data = {**data, **payloads[1]}
    plan.append([
        load,
        chain(1),
        update(1, [("kind", "inclusione"), ("state", "DRAFTING"),
                   ("state_since", d.ts(STEP_AT["avvia_redazione"])), ("data", d.json(data))]),
        audit(1),
        *closes(1),
        deadlines((FIRMA, dues.firma, 3)),
    ])
    # attiva: two deadlines in one multi-row INSERT, as the engine does
    data = {**data, **payloads[2]}
    plan.append([
        load,
        chain(2),
        update(2, [("state", "ACTIVE"), ("state_since", d.ts(STEP_AT["attiva"])), ("data", d.json(data))]),
        audit(2),
        *closes(2),
        deadlines((MONITORAGGIO, dues.monitoraggio_1, 4), (FINE_PATTO, dues.fine, 4)),
    ])
    # registra_monitoraggio: merge_data=False, the case data is not rewritten
    plan.append([
        load,
        chain(3),
        update(3, [("state", "ACTIVE"), ("state_since", d.ts(STEP_AT["registra_monitoraggio"]))]),
        audit(3),
        *closes(3),
        deadlines((MONITORAGGIO, dues.monitoraggio_2, 5)),
    ])
    # avvia_verifica (system): no form, so the case data is unchanged and not rewritten; monitoraggio met and
    # fine_patto met or expired (see closings), the final-review deadline starts
    plan.append([
        load,
        chain(4),
        update(4, [("state", "UNDER_REVIEW"), ("state_since", d.ts(STEP_AT["avvia_verifica"]))]),
        audit(4),
        *closes(4),
        deadlines((VERIFICA, dues.verifica, 6)),
    ])
    return plan


def run_raw_step(conn: Any, ops: list[tuple]) -> None:
    cur = conn.cursor()
    version = head = None
    for kind, sql, params in ops:
        if kind == LOAD:
            cur.execute(sql, params)
            row = cur.fetchone()
            version, head = row[10], row[15]
        elif kind == HASH:
            head = row_hash(head or GENESIS, params)
        elif kind == AUDIT:
            cur.execute(sql, (*params, head))
        elif kind == FETCH:
            cur.execute(sql, params)
            cur.fetchone()
        elif kind == UPDATE_VERSIONED:
            cur.execute(sql, (*params[:-1], head, params[-1], version))
            if cur.rowcount != 1:
                raise RuntimeError(f"raw: versioned update touched {cur.rowcount} rows")
        else:
            cur.execute(sql, params)
    conn.commit()
    cur.close()


# ------------------------------------------------------------------ databases


def pg_dbname(url: str) -> str:
    return conninfo_to_dict(url.replace("postgresql+psycopg://", "postgresql://")).get("dbname", "")


def pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def fresh_postgres(url: str, force: bool) -> None:
    name = pg_dbname(url)
    if "bench" not in name and not force:
        raise SystemExit(f"refusing to drop schema public of database «{name}»: its name lacks 'bench' (--force)")
    try:
        psycopg.connect(pg_conninfo(url)).close()
    except psycopg.OperationalError:
        with psycopg.connect(make_conninfo(pg_conninfo(url), dbname="postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def raw_connect(d: Dialect, url: str, sqlite_path: Path | None) -> Any:
    if d is SQLITE:
        conn = sqlite3.connect(str(sqlite_path), timeout=30, check_same_thread=False)
        for pragma in ("journal_mode=WAL", f"synchronous={sqlite_synchronous()}", "busy_timeout=30000",
                       "foreign_keys=ON", "recursive_triggers=ON"):
            conn.execute(f"PRAGMA {pragma}")  # the same pragmas as store.db.make_engine
        return conn
    return psycopg.connect(pg_conninfo(url))


def server_version(d: Dialect, conn: Any) -> str:
    if d is SQLITE:
        return f"SQLite {sqlite3.sqlite_version}"
    return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0]


# ------------------------------------------------------------------ statistics


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]  # nearest rank


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0  # this process's CPU time inside the steps (client cost, robust to a busy machine)
    by_step: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def record(self, step: str, seconds: float, cpu: float) -> None:
        self.latencies.append(seconds)
        self.cpu += cpu
        self.by_step[step].append(seconds)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        total = sum(lat)
        return {
            "transitions": len(lat),
            "seconds": round(total, 4),
            "tps": round(len(lat) / total, 1) if total else None,
            "mean_ms": round(1000 * total / len(lat), 3),
            "client_cpu_ms": round(1000 * self.cpu / len(lat), 3),
            "p50_ms": round(1000 * percentile(lat, 50), 3),
            "p95_ms": round(1000 * percentile(lat, 95), 3),
            "p99_ms": round(1000 * percentile(lat, 99), 3),
            "p50_ms_by_step": {s: round(1000 * percentile(sorted(v), 50), 3) for s, v in self.by_step.items()},
        }


# ------------------------------------------------------------------ the run


def bench_database(d: Dialect, args: argparse.Namespace) -> dict[str, Any]:
    tmpdir = sqlite_path = None
    if d is SQLITE:
        tmpdir = Path(tempfile.mkdtemp(prefix="legami-bench-"))
        sqlite_path = tmpdir / "bench.db"
        url = f"sqlite:///{sqlite_path}"
    else:
        url = args.pg_url
        fresh_postgres(url, args.force)
    try:
        return _bench(d, url, sqlite_path, args)
    finally:
        if tmpdir and not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)
        elif tmpdir:
            print(f"(kept {sqlite_path})")


def _bench(d: Dialect, url: str, sqlite_path: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    check_declaration()
    n, warm = args.cases, args.warmup
    total = n + warm
    t_setup = time.perf_counter()
    engine = make_engine(url)
    init_database(url, engine)
    with engine.begin() as conn:
        ensure_user(conn, WORKER, WORKER_NAME, WORKER_EMAIL, "social_worker", "Crema")
        ensure_user(conn, COORD, "Coordinatrice (bench)", "coord.bench@example.org", "subarea_coordinator", "Crema")
    svc = CaseService(engine, clock=lambda: FIXED_NOW)
    actors = {u: svc.actor(u) for u in (WORKER, COORD, SYSTEM)}

    # the twin sets, opened alternately so their rows share pages: engine case i <-> raw case i
    engine_ids, raw_ids = [], []
    for i in range(total):
        for ids, seed in ((engine_ids, i), (raw_ids, total + i)):
            ids.append(svc.open_case(case_type="patto", actor=actors[WORKER], data=opening_data(i, seed),
                                     kind="inclusione", comune_istat=CREMA, effective_at=OPENED_AT))
    policy = svc.policy_on(OPENED_AT.date())
    cal = svc.calendar(policy)
    days = lambda key: int(policy.get(key))  # noqa: E731
    dues = Dues(
        firma=cal.add_working_days(STEP_AT["avvia_redazione"].date(), days("patto.giorni_firma"), CREMA),
        monitoraggio_1=cal.add_calendar_days(STEP_AT["attiva"].date(), days("patto.giorni_monitoraggio"), CREMA),
        fine=cal.add_calendar_days(date.fromisoformat(DATA_FINE), 0, CREMA),
        monitoraggio_2=cal.add_calendar_days(STEP_AT["registra_monitoraggio"].date(),
                                             days("patto.giorni_monitoraggio"), CREMA),
        verifica=cal.add_calendar_days(STEP_AT["avvia_verifica"].date(), days("patto.giorni_verifica"), CREMA),
    )
    engine_inputs = [step_inputs(i) for i in range(total)]
    raw_plans = [raw_plan(d, raw_ids[i], i, dues) for i in range(total)]
    raw = raw_connect(d, url, sqlite_path)
    if d is POSTGRES:
        raw.execute("ANALYZE")
        raw.commit()
    versions = {"server": server_version(d, raw)}
    setup_seconds = time.perf_counter() - t_setup

    eng_side, raw_side = Side(), Side()
    load_before = _loadavg()
    timer = time.process_time if args.profile_timer == "cpu" else time.perf_counter
    profiler = cProfile.Profile(timer) if args.profile else None
    perf, cpu = time.perf_counter, time.process_time

    def run_engine(i: int, side: Side | None) -> None:
        cid, inputs = engine_ids[i], engine_inputs[i]
        for k, step in enumerate(STEPS):
            if profiler and side:
                profiler.enable()
            c0, t0 = cpu(), perf()
            svc.advance(case_id=cid, transition=step, actor=actors[STEP_ACTOR[step]], data=inputs[k],
                        effective_at=STEP_AT[step])
            t1, c1 = perf(), cpu()
            if profiler and side:
                profiler.disable()
            if side:
                side.record(step, t1 - t0, c1 - c0)

    def run_raw(i: int, side: Side | None) -> None:
        for k, ops in enumerate(raw_plans[i]):
            c0, t0 = cpu(), perf()
            run_raw_step(raw, ops)
            t1, c1 = perf(), cpu()
            if side:
                side.record(STEPS[k], t1 - t0, c1 - c0)

    for i in range(warm):  # warm caches (compiled statements, prepared statements, pages)
        run_engine(i, None)
        run_raw(i, None)
    gc.collect()
    for chunk, start in enumerate(range(warm, total, args.chunk)):
        cases = range(start, min(start + args.chunk, total))
        order = ((run_engine, eng_side), (run_raw, raw_side))
        for fn, side in order if chunk % 2 == 0 else order[::-1]:
            for i in cases:
                fn(i, side)

    check(d, raw, engine_ids, raw_ids)
    raw.close()
    engine.dispose()

    result = {
        "database": d.name,
        "loadavg": [load_before, _loadavg()],
        "versions": versions,
        "cases": n,
        "warmup_cases": warm,
        "steps_per_case": len(STEPS),
        "setup_seconds": round(setup_seconds, 1),
        "engine": eng_side.summary(),
        "raw": raw_side.summary(),
    }
    result["ratio"] = round(result["engine"]["tps"] / result["raw"]["tps"], 3)
    if profiler:
        result["profile"] = report_profile(profiler, args.profile, args.profile_top, args.profile_timer)
    return result


# ------------------------------------------------------------------ self-check


def check(d: Dialect, conn: Any, engine_ids: list[int], raw_ids: list[int]) -> None:
    """Every case UNDER_REVIEW at version 6 with 6 audit rows; each raw case a row-for-row twin."""
    j = "::text" if d is POSTGRES else ""

    def grouped(sql: str) -> dict[int, list[tuple]]:
        out: dict[int, list[tuple]] = defaultdict(list)
        cur = conn.execute(sql)
        for row in cur.fetchall():
            out[row[0]].append(tuple(row[1:]))
        return out

    cases = grouped(f"SELECT id, kind, state, owner, state_since, version, outcome, data{j} FROM case_file")
    audit = grouped("SELECT case_id, seq, transition, from_state, to_state, actor, actor_role, recorded_at, "
                    f"effective_at, {'effective_on, ' if AUDIT_DAY else ''}reason, data{j} "
                    "FROM case_transition ORDER BY case_id, seq")
    deadlines = grouped("SELECT case_id, kind, label, due, basis, source, status, started_seq, closed_on, "
                        "suspended_days FROM deadline ORDER BY case_id, id")
    outbox = grouped(f"SELECT case_id, idempotency_key, event, recipient, template, payload{j}, created_at, "
                     "status, attempts, next_attempt_at FROM outbox ORDER BY case_id, id")
    conn.commit()
    path = ["segnala", *STEPS]

    def anonymous(cid: int, rows: list[tuple]) -> list[tuple]:
        return [tuple(str(v).replace(f":{cid}:", ":#:").replace(f'"case_id": {cid}', '"case_id": #')
                      .replace(f'"case_id":{cid}', '"case_id":#')
                      if isinstance(v, str) else v for v in r) for r in rows]

    for who, ids in (("engine", engine_ids), ("raw", raw_ids)):
        for cid in ids:
            (case,) = cases[cid]
            assert case[1] == "UNDER_REVIEW" and case[4] == 6, f"{who} case {cid}: {case[1]} v{case[4]}"
            steps = [r[1] for r in audit[cid]]
            assert steps == path, f"{who} case {cid}: audit rows {steps}"
            assert len(outbox[cid]) == 1, f"{who} case {cid}: {len(outbox[cid])} outbox rows"
    for e, r in zip(engine_ids, raw_ids):
        for label, table in (("case", cases), ("audit", audit), ("deadlines", deadlines), ("outbox", outbox)):
            if anonymous(e, table[e]) != anonymous(r, table[r]):
                raise AssertionError(f"raw case {r} differs from engine case {e} in {label}:\n"
                                     f"  engine {table[e]}\n  raw    {table[r]}")
    print(f"  self-check: {len(engine_ids)} engine + {len(raw_ids)} raw cases UNDER_REVIEW, 6 audit rows each, "
          "raw rows identical to the engine's")


# ------------------------------------------------------------------ profile


PROJECT_DIRS = tuple(str(Path(__file__).resolve().parent.parent / p) + os.sep
                     for p in ("domain", "store", "services", "config"))


BUCKETS = (  # where a function's own time is counted, first match wins
    ("psycopg (driver; with --profile-timer wall also waits on the server)", f"{os.sep}psycopg"),
    ("sqlalchemy", f"{os.sep}sqlalchemy{os.sep}"),
    ("pydantic", f"{os.sep}pydantic"),
    ("project domain/", PROJECT_DIRS[0]),
    ("project store/", PROJECT_DIRS[1]),
    ("project services/", PROJECT_DIRS[2]),
    ("project config/", PROJECT_DIRS[3]),
    ("holidays / stdnum", f"{os.sep}holidays{os.sep}"),
    ("json", f"{os.sep}json{os.sep}"),
)


def report_profile(profiler: cProfile.Profile, path: str, top: int, timer: str) -> list[str]:
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    calls = stats.stats.get(next((k for k in stats.stats if k[2] == "advance" and k[0].startswith(PROJECT_DIRS[2])),
                                 None), (0, 1))[1] or 1
    rows, buckets = [], defaultdict(float)
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        bucket = next((name for name, marker in BUCKETS if marker in filename), "other (stdlib, builtins)")
        buckets[bucket] += tottime
        if filename.startswith(PROJECT_DIRS) or f"{os.sep}sqlalchemy{os.sep}" in filename:
            rows.append((cumtime, tottime, ncalls, filename, line, func))
    rows.sort(reverse=True)
    unit = "CPU" if timer == "cpu" else "wall"
    lines = [f"profile of {calls} engine advance calls ({unit} time, cProfile overhead included): {total:.3f}s, "
             f"{1e3 * total / calls:.3f} ms per advance; stats in {path}",
             f"top {top} cumulative, project code and SQLAlchemy:",
             f"{'cum s':>8} {'cum %':>6} {'own s':>7} {'calls':>7}  function"]
    for cumtime, tottime, ncalls, filename, line, func in rows[:top]:
        lines.append(f"{cumtime:8.3f} {100 * cumtime / total:5.1f}% {tottime:7.3f} {ncalls:7d}  "
                     f"{_short(filename)}:{line}({func})")
    lines.append("own time by package:")
    for name, seconds in sorted(buckets.items(), key=lambda kv: -kv[1]):
        lines.append(f"{seconds:8.3f} {100 * seconds / total:5.1f}%  {1e6 * seconds / calls:7.1f} us/advance  {name}")
    buf = io.StringIO()
    pstats.Stats(path, stream=buf).sort_stats("tottime").print_stats(15)
    lines.append("top 15 own time (all code):")
    lines.extend("  " + ln for ln in buf.getvalue().splitlines() if ln.strip() and "/" in ln and ":" in ln)
    return lines


def _short(filename: str) -> str:
    for marker in (f"{os.sep}site-packages{os.sep}", str(Path(__file__).resolve().parent.parent) + os.sep):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# ------------------------------------------------------------------ output


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine() -> dict[str, str]:
    return {
        "nproc": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
    }


def print_result(r: dict[str, Any]) -> None:
    e, w = r["engine"], r["raw"]
    print(f"\n== {r['database']} ({r['versions']['server']}): {r['cases']} cases x {r['steps_per_case']} steps = "
          f"{e['transitions']} transitions (+{r['warmup_cases']} warm-up cases per side), "
          f"setup {r['setup_seconds']}s")
    print(f"  {'':8} {'tps':>9} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'client CPU ms':>14}")
    for label, s in (("engine", e), ("raw SQL", w)):
        print(f"  {label:8} {s['tps']:9.1f} {s['mean_ms']:8.3f} {s['p50_ms']:8.3f} {s['p95_ms']:8.3f} "
              f"{s['p99_ms']:8.3f} {s['client_cpu_ms']:14.3f}")
    goal = GOALS[r["database"]]
    verdict = f"   (goal >= {goal:.2f}: {'met' if r['ratio'] >= goal else 'NOT met'})"
    if r.get("profile"):
        verdict += "   (engine figures include cProfile's overhead: use them for shares, not speed)"
    print(f"  ratio engine/raw throughput: {r['ratio']:.3f}{verdict}   load average before/after: "
          f"{r['loadavg'][0]} / {r['loadavg'][1]}")
    print(f"  p50 ms by step   {'engine':>8} {'raw':>8} {'extra':>8}")
    for step in STEPS:
        a, b = e["p50_ms_by_step"][step], w["p50_ms_by_step"][step]
        print(f"    {step:22} {a:8.3f} {b:8.3f} {a - b:8.3f}")
    for line in r.get("profile", []):
        print("  " + line)


def markdown(results: list[dict[str, Any]]) -> str:
    out = ["| database | engine tps | raw tps | ratio | engine p50 / p95 ms | raw p50 / p95 ms "
           "| client CPU ms/transition engine / raw |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        e, w = r["engine"], r["raw"]
        out.append(f"| {r['versions']['server']} | {e['tps']:.0f} | {w['tps']:.0f} | {r['ratio']:.2f} | "
                   f"{e['p50_ms']:.2f} / {e['p95_ms']:.2f} | {w['p50_ms']:.2f} / {w['p95_ms']:.2f} | "
                   f"{e['client_cpu_ms']:.3f} / {w['client_cpu_ms']:.3f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.transitions", description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--cases", type=int, default=2000, help="timed cases per side (default 2000)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed warm-up cases per side (default 20)")
    ap.add_argument("--chunk", type=int, default=100, help="cases per interleaved engine/raw chunk (default 100)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL,
                    help="PostgreSQL database to wipe and use (default: $LEGAMI_BENCH_PG_URL or %(default)s)")
    ap.add_argument("--force", action="store_true", help="allow a PostgreSQL database whose name lacks 'bench'")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--profile", metavar="FILE", help="cProfile the engine's advance calls, stats to FILE")
    ap.add_argument("--profile-top", type=int, default=15)
    ap.add_argument("--profile-timer", choices=("cpu", "wall"), default="cpu",
                    help="cProfile clock: process CPU time (default; ignores waits and a busy machine) or wall")
    args = ap.parse_args(argv)
    if args.cases < 1 or args.chunk < 1 or args.warmup < 0:
        ap.error("--cases and --chunk must be positive, --warmup not negative")

    info = machine()
    print(f"legami transitions benchmark  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
          f"nproc={info['nproc']} python={info['python']} sqlalchemy={info['sqlalchemy']} psycopg={info['psycopg']}")
    print(f"  command: python -m bench.transitions {' '.join(argv if argv is not None else sys.argv[1:])}")
    dialects = {"sqlite": [SQLITE], "postgresql": [POSTGRES], "both": [SQLITE, POSTGRES]}[args.db]
    results = []
    for d in dialects:
        r = bench_database(d, args)
        print_result(r)
        results.append(r)
    print("\n" + markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "argv": sys.argv[1:], "results": results,
                                               "at": datetime.now(UTC).isoformat()}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
