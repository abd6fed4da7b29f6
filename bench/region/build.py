"""A generated region, bulk-loaded in SQL (not through the engine): Ambiti, comuni, users, open cases, audit rows.

The default Ambito (Cremasco, loaded by `init_database`, 48 real comuni) is one of the region's Ambiti; the
other `ambiti - 1` are synthetic: 8-24 comuni each (synthetic ISTAT-like codes 9xxxxx, Belfiore codes
X000-Y999), 2-6 sub-ambiti, 1-3 distretti, one ente gestore. Users: `workers` social workers per sub-ambito
(`as.<sub>.<k>`), a coordinator per sub-ambito (`coord.<sub>`), a planning office per Ambito (`udp.<code>`),
each with its Ambito's code.

Cases: `cases` open patti (ACTIVE, policy 2025.1), handed round-robin to the comuni (so an Ambito's share is its
share of the comuni), a person each (synthetic codice fiscale), the comune's sub-ambito's workers in turn as
owners; ONE open "monitoraggio" deadline each, due in [as_of-30d, as_of+365d] (~8% overdue, ~4% in the 14-day
lookahead). Audit rows: the case_transition history of each case, `audit / cases` steps on average (between
~0.27x and ~1.73x of it): segnala, assegna, avvia_redazione, attiva, then registra_monitoraggio, spread from
the opening day to as_of. The hashes are placeholders (the audit chain does not verify), no health data, no
reminder_log history (the sweep runs as on its first night: every overdue deadline escalates).

All big tables are filled with INSERT ... SELECT over generate_series, server-side, with FK triggers off
(session_replication_role = replica); case_transition's indexes are dropped during its load and rebuilt.
"""
from __future__ import annotations

import random
import time
from datetime import date

from bench.common import loaded_dataset, recreate_database, save_meta

META = "bench_region_meta"
AS_OF = date(2026, 12, 1)  # a Tuesday
SURNAMES = ("Rossi", "Bianchi", "Ferrari", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti")
NAMES = ("Giulia", "Marco", "Sara", "Luca", "Anna", "Paolo", "Elena", "Davide", "Chiara", "Andrea")
CHUNK_CASES = 20_000


def plan_ambiti(ambiti: int, seed: int = 15) -> list[dict]:
    """The synthetic Ambiti (the default Cremasco not included): code, comuni count, sub-ambiti, distretti."""
    rng = random.Random(seed)
    out = []
    for a in range(1, ambiti):
        code = f"r{a:03d}"
        out.append({"code": code, "name": f"Ambito sintetico {a:03d}", "comuni": rng.randint(8, 24),
                    "subs": rng.randint(2, 6), "distretti": rng.randint(1, 3)})
    return out


def _small_tables(conn, ambiti: list[dict], workers: int) -> dict:
    """District, distretti, enti gestori, sub-ambiti, comuni and users of every Ambito; returns counts."""
    rng = random.Random(16)
    n_comune = 0
    for a in ambiti:
        code = a["code"]
        conn.execute("INSERT INTO district (code, name, lead_istat, managing_company, managing_company_email, "
                     "planning_office_email, sub_ambiti_provisional, provisional_note, is_default, "
                     "distretti_provisional, enti_gestori_provisional, popolazione_mancante, notes) VALUES "
                     "(%s, %s, %s, %s, %s, %s, true, 'generato (bench/region)', false, true, true, false, '')",
                     (code, a["name"], f"9{n_comune + 1:05d}", f"Azienda {a['name']}", f"azienda.{code}@example.org",
                      f"udp.{code}@example.org"))
        distretti = [f"Distretto {code}-{d}" for d in range(1, a["distretti"] + 1)]
        for d in distretti:
            conn.execute("INSERT INTO distretto (ambito_code, nome) VALUES (%s, %s)", (code, d))
        conn.execute("INSERT INTO ente_gestore (codice, ambito_code, nome, tipo, email) VALUES (%s, %s, %s, "
                     "'azienda_speciale', %s)", (f"EG{code.upper()}", code, f"Azienda {a['name']}",
                                                  f"azienda.{code}@example.org"))
        subs = [f"{code.upper()} sub {s}" for s in range(1, a["subs"] + 1)]
        for s in subs:
            conn.execute("INSERT INTO sub_ambito (nome, coordinatore_email, ambito_code) VALUES (%s, %s, %s)",
                         (s, f"coord.{s.lower().replace(' ', '')}@example.org", code))
        rows = []
        for c in range(a["comuni"]):
            n_comune += 1
            bel = ("X" if n_comune <= 1000 else "Y") + f"{n_comune % 1000:03d}"
            rows.append((f"9{n_comune:05d}", bel, f"Comune {n_comune:05d}", rng.randint(800, 40_000),
                         subs[c % len(subs)], code, distretti[c % len(distretti)], f"EG{code.upper()}"))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO comune (istat, belfiore, nome, popolazione, sub_ambito, ambito_code, "
                            "distretto, ente_gestore) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    users = []
    for code, sub in conn.execute("SELECT coalesce(ambito_code, (SELECT code FROM district WHERE is_default)), "
                                  "nome FROM sub_ambito ORDER BY nome").fetchall():
        s = sub.lower().replace(" ", "")
        users += [(f"as.{s}.{k}", f"Assistente sociale {sub} {k}", f"as.{s}.{k}@example.org", "social_worker",
                   sub, code) for k in range(workers)]
        users.append((f"coord.{s}", f"Coordinatore {sub}", f"coord.{s}@example.org", "subarea_coordinator", sub,
                      code))
    for (code,) in conn.execute("SELECT code FROM district ORDER BY code").fetchall():
        users.append((f"udp.{code}", f"Ufficio di Piano {code}", f"udp.{code}@example.org", "planning_office", None,
                      code))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO app_user (username, full_name, email, role, sub_ambito, ambito_code, active) "
                        "VALUES (%s, %s, %s, %s, %s, %s, true)", users)
    return {"users": len(users)}


def _columns(conn, table: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE "
                                       "table_schema = 'public' AND table_name = %s", (table,))}


def _load_cases(conn, n: int, workers: int, as_of: date) -> None:
    from domain.registry import get_workflow

    rule = get_workflow("patto").deadline_rules()["monitoraggio"]
    conn.execute("CREATE TEMP TABLE cix AS SELECT row_number() OVER (ORDER BY istat) - 1 AS r, istat, "
                 "replace(lower(sub_ambito), ' ', '') AS s FROM comune")
    conn.execute("CREATE UNIQUE INDEX ON cix (r)")
    nc = conn.execute("SELECT count(*) FROM cix").fetchone()[0]
    conn.execute(
        "INSERT INTO person (id, codice_fiscale, cognome, nome, data_nascita, provisional_code) "
        "SELECT i, 'RGN' || lpad(i::text, 13, '0'), (%s::text[])[1 + i %% 10], (%s::text[])[1 + (i / 10) %% 10], "
        "date '1940-01-01' + ((i * 7919) %% 29000)::int, false FROM generate_series(1, %s::bigint) i",
        (list(SURNAMES), list(NAMES), n))
    ambito = ", ambito_code" if "ambito_code" in _columns(conn, "case_file") else ""
    ambito_expr = ", (SELECT ambito_code FROM comune WHERE istat = x.istat)" if ambito else ""
    conn.execute(
        f"INSERT INTO case_file (id, case_type, kind, state, comune_istat, person_id, owner, policy_version, "
        f"opened_at, state_since, data, version{ambito}) "
        f"SELECT i, 'patto', x.kind, 'ACTIVE', x.istat, i, 'as.' || x.s || '.' || ((i - 1) / {nc}) %% {workers}, "
        f"'2025.1', x.opened, x.opened + interval '20 days', jsonb_build_object('tipologia', x.kind, "
        f"'data_inizio', (x.opened + interval '10 days')::date, 'data_fine', (x.opened + interval '190 days')::date, "
        f"'importo_mensile', '500.00'), 4{ambito_expr} "
        f"FROM (SELECT i, c.istat, c.s, CASE WHEN i %% 3 = 0 THEN 'autonomia' ELSE 'inclusione' END AS kind, "
        f"  %s::timestamptz - make_interval(days => (30 + (i * 7919) %% 600)::int) + interval '8 hours' AS opened "
        f"  FROM generate_series(1, %s::bigint) i JOIN cix c ON c.r = (i - 1) %% {nc}) x",
        (as_of.isoformat(), n))
    # the deadline's Ambito (0023), its case's: case i's deadline is deadline i
    d_ambito = ", ambito_code" if "ambito_code" in _columns(conn, "deadline") else ""
    d_expr = ", (SELECT ambito_code FROM case_file WHERE id = i)" if d_ambito else ""
    conn.execute(
        f"INSERT INTO deadline (id, case_id, kind, label, due, basis, source, status, started_seq, suspended_days"
        f"{d_ambito}) SELECT i, i, %s, %s, %s::date - 30 + ((i * 104729) %% 396)::int, %s, %s, 'open', 4, 0"
        f"{d_expr} FROM generate_series(1, %s::bigint) i",
        (rule.kind, rule.label, as_of, rule.basis.value, rule.source.value, n))


def _load_audit(conn, n: int, audit: int, as_of: date, progress) -> int:
    """case_transition rows for cases 1..n, `audit` in total (about), in chunks of cases, indexes off."""
    mean = max(4.0, audit / n)
    lo = max(4, round(mean * 0.27))
    span = max(1, round(2 * (mean - lo)) + 1)
    conn.execute(f"CREATE TEMP TABLE steps AS SELECT id AS case_id, owner, opened_at, ({lo} + (id::bigint * 7919) % {span})::int AS k, "
                 f"(sum({lo} + (id::bigint * 7919) % {span}) OVER (ORDER BY id) - ({lo} + (id::bigint * 7919) % {span}))::bigint AS base "
                 f"FROM case_file")
    conn.execute("CREATE UNIQUE INDEX ON steps (case_id)")
    conn.execute("ANALYZE steps")
    defs = conn.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                        "'case_transition'::regclass AND contype IN ('p', 'u')").fetchall()
    idx = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'case_transition' AND "
                       "indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = "
                       "'case_transition'::regclass)").fetchall()
    for name, _ in idx:
        conn.execute(f'DROP INDEX "{name}"')
    for name, _ in defs:
        conn.execute(f'ALTER TABLE case_transition DROP CONSTRAINT "{name}"')
    conn.commit()
    names = ["segnala", "assegna", "avvia_redazione", "attiva"]
    states = [None, "REFERRED", "INTAKE", "DRAFTING", "ACTIVE"]
    total = 0
    for first in range(1, n + 1, CHUNK_CASES):
        last = min(n, first + CHUNK_CASES - 1)
        cur = conn.execute(
            "INSERT INTO case_transition (id, case_id, seq, transition, from_state, to_state, actor, actor_role, "
            "recorded_at, effective_at, effective_on, reason, data, hash) "
            "SELECT t.base + s, t.case_id, s, coalesce((%s::text[])[s], 'registra_monitoraggio'), "
            "CASE WHEN s <= 4 THEN (%s::text[])[s] ELSE 'ACTIVE' END, "
            "CASE WHEN s <= 4 THEN (%s::text[])[s + 1] ELSE 'ACTIVE' END, t.owner, 'social_worker', e.at, e.at, "
            "(e.at AT TIME ZONE 'Europe/Rome')::date, NULL, '{}'::jsonb, lpad(to_hex(t.base + s), 64, '0') "
            "FROM steps t CROSS JOIN LATERAL generate_series(1, t.k) s "
            "CROSS JOIN LATERAL (SELECT t.opened_at + (%s::timestamptz - t.opened_at) * (s - 1) / t.k "
            "  + make_interval(mins => s::int) AS at) e "
            "WHERE t.case_id BETWEEN %s AND %s",
            (names, states, states, as_of.isoformat(), first, last))
        total += cur.rowcount
        conn.commit()
        progress(f"audit rows: {total:,} (cases up to {last:,})")
    for name, definition in defs:
        started = time.perf_counter()
        conn.execute(f'ALTER TABLE case_transition ADD CONSTRAINT "{name}" {definition}')
        conn.commit()
        progress(f"rebuilt {name} in {time.perf_counter() - started:.0f} s")
    for name, definition in idx:
        started = time.perf_counter()
        conn.execute(definition)
        conn.commit()
        progress(f"rebuilt {name} in {time.perf_counter() - started:.0f} s")
    return total


def build(url: str, *, ambiti: int, cases: int, audit: int, workers: int = 4, as_of: date = AS_OF,
          reuse: bool = True, progress=print) -> dict:
    """The region in `url` (dropped and created unless already loaded with the same parameters)."""
    import psycopg

    from services.setup import init_database
    from store.db import make_engine

    key = {"ambiti": ambiti, "cases": cases, "audit": audit, "workers": workers, "as_of": as_of.isoformat(),
           "version": 1}
    if reuse:
        found = loaded_dataset(url, key, META)
        if found is not None:
            return found
    t0 = time.perf_counter()
    recreate_database(url)
    engine = make_engine(url)
    init_database(url, engine)
    engine.dispose()
    timings = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # generated consistently: no FK triggers
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        t = time.perf_counter()
        counts = _small_tables(conn, plan_ambiti(ambiti), workers)
        conn.commit()
        t, timings["reference_s"] = time.perf_counter(), round(time.perf_counter() - t, 1)
        _load_cases(conn, cases, workers, as_of)
        conn.commit()
        t, timings["cases_s"] = time.perf_counter(), round(time.perf_counter() - t, 1)
        progress(f"{cases:,} cases, people and deadlines in {timings['cases_s']} s")
        n_audit = _load_audit(conn, cases, audit, as_of, progress)
        timings["audit_s"] = round(time.perf_counter() - t, 1)
        for table in ("person", "case_file", "deadline", "case_transition", "app_user"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        counts.update({r[0]: r[1] for r in conn.execute(
            "SELECT 'comuni', count(*) FROM comune UNION ALL SELECT 'sub_ambiti', count(*) FROM sub_ambito "
            "UNION ALL SELECT 'ambiti', count(*) FROM district")})
    t = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        per_ambito = dict(conn.execute("SELECT cm.ambito_code, count(*) FROM case_file c JOIN comune cm ON "
                                       "cm.istat = c.comune_istat GROUP BY 1").fetchall())
    timings["vacuum_s"] = round(time.perf_counter() - t, 1)
    data = {**counts, "cases": cases, "audit_rows": n_audit, "db_size": size, **timings,
            "total_s": round(time.perf_counter() - t0, 1), "cases_per_ambito": per_ambito}
    save_meta(url, key, data, META)
    return data
