"""A big district for page benchmarks, fast: the real demo once, then its cases cloned in bulk (PostgreSQL only).

    python -m bench.district --cases 100000 [--url postgresql://...legami_bench_pages] [--scale 1.0]

`legami demo` takes one to three minutes per 850 cases (every step goes through the case service), so 100,000
cases would take hours. Here the demo runs once (at `--scale`, 1.0 is the district's real size) and its year of
work is copied until the district holds `--cases` cases:

* each copy k gets every case with new ids, its steps (`case_transition`), deadlines and sealed health parts; the
  last copy takes the cases with the lowest ids only (a parent is always opened before its child, so the partial
  copy keeps its links). The per-sub-ambito and per-type mix is the demo's;
* each copy has its own FNA calls and its own providers (codice `<codice>K<k>`, a synthetic partita IVA, their
  users `<username>.k<k>`), and its own social workers (`<username>.k<k>`, no password): a worker, a provider
  and a call keep a demo-sized load, as in a bigger district; the sub-ambito's coordinator and the district-wide
  roles see everything grow (`clone(..., clone_calls=False)` puts the copies' applications in the demo's calls);
* each copy's people are new rows with a synthetic codice fiscale (`make_codice_fiscale`, new birth dates);
* health parts are re-sealed for their new (case, step) (the ciphertext is bound to them), same key;
* outbox, reminders and audit hash chains are not copied (the copies' chain hashes are the originals').

Statements are `INSERT ... SELECT` over `generate_series` for the big tables and COPY for people and health
data; the sequences are moved past the new ids. Not part of CI.
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from bench.common import loaded_dataset, loadavg, recreate_database, save_meta

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/legami_bench_pages"
CALL_TYPES = ("fna_bando",)
TEMPLATE_META = "bench_demo_meta"


def columns(conn, table: str) -> list[str]:
    rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                        "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
    return [r[0] for r in rows]


def insert_select(conn, table: str, overrides: dict[str, str], source: str) -> int:
    """INSERT INTO table SELECT <each column, or its override expression> FROM source; rows inserted."""
    cols = columns(conn, table)
    exprs = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
    cur = conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {exprs} FROM {source}")
    return cur.rowcount


def demo(url: str, scale: float, template: str | None = None) -> dict:
    """`url` recreated as a copy of the demo at `scale`, with the demo password set for the first user of each role;
    returns {role: username}. The demo itself runs once per scale, into a template database kept between runs
    (`legami_bench_demo<scale>`, `template` to choose another): at a shared machine's load the demo takes
    minutes."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    template = template or f"legami_bench_demo{str(scale).replace('.', '_')}"
    template_url = f"{url.rsplit('/', 1)[0]}/{template}"  # a URL, as make_engine takes
    key = {"scale": scale, "version": 1}
    found = loaded_dataset(template_url, key, TEMPLATE_META)
    if found is not None:
        from store.db import migrate

        migrate(template_url)  # kept from an earlier run: brought to the code's schema
    else:
        from services.demo import generate_demo
        from services.demo_access import demo_logins
        from services.setup import init_database
        from store.db import make_engine

        recreate_database(template_url)
        engine = make_engine(template_url)
        init_database(template_url, engine)
        generate_demo(engine, scale=scale)
        found = {"logins": {login.role: login.username for login in demo_logins(engine)}}
        engine.dispose()
        save_meta(template_url, key, found, TEMPLATE_META)
    recreate_database(url)
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {TEMPLATE_META}")
    return found["logins"]


def clone(url: str, target: int, seed: int = 11, clone_calls: bool = True) -> dict:
    """Copy the demo's cases until the district holds `target` cases; returns counts. `clone_calls`: each copy
    has its own FNA calls (else the copies' applications join the demo's calls)."""
    import psycopg

    from domain.validation import make_codice_fiscale
    from store.sealed import keyring, seal, unseal

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        base = conn.execute("SELECT count(*) FROM case_file").fetchone()[0]
        calls = 0 if clone_calls else conn.execute(
            "SELECT count(*) FROM case_file WHERE case_type = ANY(%s::text[])", (list(CALL_TYPES),)).fetchone()[0]
        per_copy = base - calls
        if base == 0 or per_copy == 0 or target <= base:
            return {"cases": base, "copies": 0, "seconds": 0.0}
        full, rest = divmod(target - base, per_copy)
        copies = full + (1 if rest else 0)
        # the last (partial) copy: the first `rest` cloneable cases by id
        cutoff = conn.execute("SELECT max(id) FROM (SELECT id FROM case_file WHERE case_type <> ALL(%s::text[]) "
                              "ORDER BY id LIMIT %s) s", (list(CALL_TYPES) if not clone_calls else [],
                                                          rest or per_copy)).fetchone()[0]
        max_case = conn.execute("SELECT max(id) FROM case_file").fetchone()[0]
        max_person = conn.execute("SELECT coalesce(max(id), 0) FROM person").fetchone()[0]
        max_tr = conn.execute("SELECT max(id) FROM case_transition").fetchone()[0]
        max_dl = conn.execute("SELECT coalesce(max(id), 0) FROM deadline").fetchone()[0]
        conn.execute("CREATE TEMP TABLE copies (k int PRIMARY KEY, last_case bigint)")
        conn.execute("INSERT INTO copies SELECT k, CASE WHEN k = %s THEN %s ELSE %s END FROM generate_series(1, %s) k",
                     (copies, cutoff, max_case, copies))
        conn.execute("CREATE TEMP TABLE call_case AS SELECT id FROM case_file WHERE case_type = ANY(%s::text[])",
                     (list(CALL_TYPES) if not clone_calls else [],))

        # providers: one new provider per copy and provider (codice + "K<k>", a synthetic partita IVA)
        insert_select(conn, "provider", {
            "codice": "t.codice || 'K' || c.k",
            "partita_iva": "'9' || lpad(c.k::text, 4, '0') || lpad(t.rn::text, 6, '0')"},
            "(SELECT *, row_number() OVER (ORDER BY codice) AS rn FROM provider) t CROSS JOIN copies c")
        # social workers and providers' users: one new user per copy and user
        insert_select(conn, "app_user", {
            "id": f"t.id + c.k * {10**6}", "username": "t.username || '.k' || c.k",
            "email": "'k' || c.k || '.' || t.email",
            "provider_codice": "CASE WHEN t.provider_codice IS NULL THEN NULL ELSE t.provider_codice || 'K' || c.k END"},
            "app_user t CROSS JOIN copies c WHERE t.role IN ('social_worker', 'provider')")
        conn.execute("SELECT setval(pg_get_serial_sequence('app_user', 'id'), (SELECT max(id) FROM app_user))")
        conn.execute("CREATE TEMP TABLE worker AS SELECT username FROM app_user WHERE role = 'social_worker' "
                     "AND username NOT LIKE '%%.k%%'")

        # people: synthetic codici fiscali (new birth dates: a person's code is unique)
        people = conn.execute("SELECT id, cognome, nome, data_nascita, email, telefono, provisional_code FROM "
                              "person ORDER BY id").fetchall()
        belfiore = [r[0] for r in conn.execute("SELECT belfiore FROM comune ORDER BY istat")]
        rng = random.Random(seed)
        taken = {r[0] for r in conn.execute("SELECT codice_fiscale FROM person")}
        with conn.cursor().copy("COPY person (id, codice_fiscale, cognome, nome, data_nascita, email, telefono, "
                                "provisional_code) FROM STDIN") as cp:
            for k in range(1, copies + 1):
                for pid, surname, name, born, email, phone, provisional in people:
                    while True:
                        born2 = born + timedelta(days=rng.randint(-3000, 3000))
                        born2 = min(born2, date.today() - timedelta(days=1))
                        cf = make_codice_fiscale(surname, name, born2, rng.choice("MF"), rng.choice(belfiore))
                        if cf not in taken:
                            break
                    taken.add(cf)
                    cp.write_row((pid + k * max_person, cf, surname, name, born2, email, phone, provisional))

        provider = "CASE WHEN t.provider_codice IS NULL THEN NULL ELSE t.provider_codice || 'K' || c.k END"
        owner = "CASE WHEN t.owner IN (SELECT username FROM worker) THEN t.owner || '.k' || c.k ELSE t.owner END"
        related = (f"CASE WHEN t.related_case_id IS NULL OR t.related_case_id IN (SELECT id FROM call_case) "
                   f"THEN t.related_case_id ELSE t.related_case_id + c.k * {max_case} END")
        n_cases = insert_select(conn, "case_file", {
            "id": f"t.id + c.k * {max_case}", "person_id": f"t.person_id + c.k * {max_person}", "owner": owner,
            "related_case_id": related, "provider_codice": provider},
            "case_file t JOIN copies c ON t.id <= c.last_case WHERE t.id NOT IN (SELECT id FROM call_case)")
        n_steps = insert_select(conn, "case_transition", {
            "id": f"t.id + c.k * {max_tr}", "case_id": f"t.case_id + c.k * {max_case}"},
            "case_transition t JOIN copies c ON t.case_id <= c.last_case "
            "WHERE t.case_id NOT IN (SELECT id FROM call_case)")
        n_deadlines = insert_select(conn, "deadline", {
            "id": f"t.id + c.k * {max_dl}", "case_id": f"t.case_id + c.k * {max_case}"},
            "deadline t JOIN copies c ON t.case_id <= c.last_case WHERE t.case_id NOT IN (SELECT id FROM call_case)")

        # health parts: re-sealed for their new (case, seq)
        ring = keyring()
        sealed = [(case_id, seq, unseal(key_id, nonce, ct, case_id, seq, ring))
                  for case_id, seq, key_id, nonce, ct in conn.execute(
                      "SELECT case_id, seq, key_id, nonce, ciphertext FROM health_data WHERE case_id NOT IN "
                      "(SELECT id FROM call_case) ORDER BY id")]
        n_health = 0
        with conn.cursor().copy("COPY health_data (case_id, seq, key_id, nonce, ciphertext) FROM STDIN") as cp:
            for k in range(1, copies + 1):
                last = cutoff if k == copies else max_case
                for case_id, seq, health in sealed:
                    if case_id <= last:
                        new_id = case_id + k * max_case
                        cp.write_row((new_id, seq, *seal(health, new_id, seq, ring)))
                        n_health += 1
        for table in ("person", "case_file", "case_transition", "deadline"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        for table in ("person", "case_file", "case_transition", "deadline", "health_data", "app_user"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return {"cases": base + n_cases, "copies": copies, "steps": n_steps, "deadlines": n_deadlines,
            "health": n_health, "people": len(people) * copies, "seconds": time.perf_counter() - started}


def build(url: str, cases: int, scale: float) -> dict:
    started = time.perf_counter()
    demo(url, scale)
    seeded = time.perf_counter() - started
    out = clone(url, cases)
    return {**out, "demo_seconds": seeded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=1.0, help="the demo's scale (1.0: about 800 cases)")
    args = parser.parse_args()
    before = loadavg()
    out = build(args.url, args.cases, args.scale)
    print(f"{out} (load average {before} before, {loadavg()} after)")


if __name__ == "__main__":
    main()
