"""The import's batched load (services/import_batch.py) writes exactly the rows the step-by-step load writes (each
case inserted, then every later step read back and applied as a transition would: `run_import(stepwise=True)`),
audit hash chain and sealed health parts included, and refuses exactly what it refuses; on SQLite and PostgreSQL.

Each comparison loads the same files into the same empty database twice (emptied in between, ids restarting), once
each way, and compares every row of every table the import writes."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from domain.import_template import COMUNE, EXTERNAL_ID, STATE
from domain.validation import make_codice_fiscale
from services.access import principal_for
from services.import_files import Table, write_template
from services.importing import rows_of_case, run_import, template_columns
from store.db import make_engine
from store.sealed import unseal
from store.tables import (case_t, deadline_t, health_data_t, outbox_t, person_discrepancy_t, person_t,
                          reminder_log_t, transition_t)
from store.tables_casework import case_import_t
from tests.conftest import fresh_database_url
from tests.integration.test_import import NOW, ORDER, TODAY, _bad_file, source  # noqa: F401  (module fixture)

TABLES = (person_t, case_t, transition_t, deadline_t, case_import_t, reminder_log_t, person_discrepancy_t, outbox_t)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path, sqlite_template):
    """A function giving an empty database with the demo's users, the same ids restarting each time."""
    from services.demo import _ServiceContext

    engines = []

    def make():
        folder = tmp_path / f"db{len(engines)}"
        folder.mkdir()
        url = fresh_database_url(request, folder, sqlite_template)
        engine = make_engine(url, poolclass=sa.pool.NullPool)
        _ServiceContext(engine, year=2026, seed=7, scale=0, today=TODAY).create_users()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def _rows(engine) -> dict[str, list[dict]]:
    """Every row the import writes, as Core reads it back (JSON parsed, instants aware), health parts unsealed."""
    out: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            out[table.name] = [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]
        # the missed deadlines settled on import (no reminder for the past): which, not in what order
        out["reminder_log"] = sorted(({k: v for k, v in r.items() if k != "id"} for r in out["reminder_log"]),
                                     key=lambda r: r["key"])
        h = health_data_t.c
        out["health_data"] = sorted(
            (r.case_id, r.seq, unseal(r.key_id, r.nonce, r.ciphertext, r.case_id, r.seq))
            for r in conn.execute(sa.select(h.case_id, h.seq, h.key_id, h.nonce, h.ciphertext)))
    return out


def _load_every_way(fresh, planner, files):
    """Every (case type, path) loaded into an empty database step by step, then into another one batched, then
    into a third one batched with its rows checked by two worker processes (services/import_parallel.py)."""
    results = []
    for way in ({"stepwise": True}, {}, {"workers": 2}):
        engine = fresh()
        user = principal_for(engine, planner)
        found = []
        for case_type, path in files:
            table = Table(path, case_type)
            found.append(run_import(engine, user, case_type, table.rows(), file_name=path.name,
                                    file_sha256="0" * 64, dry_run=False, header_problems=table.problems,
                                    clock=lambda: NOW, **way))
        results.append((found, _rows(engine)))
        if engine.dialect.name == "postgresql":
            engine.dispose()  # the next database empties the same one
    return results


def test_every_case_types_rows_load_batched_and_with_workers_exactly_as_step_by_step(source, fresh, tmp_path):
    engine_a, cases, repeated, planner = source
    files = []
    for case_type in ORDER:
        path = tmp_path / f"{case_type}.xlsx"
        write_template(case_type, path, [rows_of_case(i, engine_a) for i, t in cases if t == case_type
                                         and i not in repeated])
        files.append((case_type, path))
    (stepwise, expected), (batched, written), (parallel, by_workers) = _load_every_way(fresh, planner, files)
    assert [(r.loaded, r.problems) for r in batched] == [(r.loaded, r.problems) for r in stepwise]
    assert [(r.loaded, r.problems) for r in parallel] == [(r.loaded, r.problems) for r in stepwise]
    assert by_workers == expected
    assert all(r.loaded and not r.problems for r in batched)
    assert written["health_data"], "some demo case carries sealed health data"
    assert {"met", "open"} <= {d["status"] for d in written["deadline"]}
    assert written["reminder_log"], "some imported deadline was already missed on the import day"
    for name, rows in expected.items():
        assert written[name] == rows, name
    chain = [(r["case_id"], r["seq"], r["hash"]) for r in written["case_transition"]]
    heads = {r["id"]: r["audit_hash"] for r in written["case_file"]}
    assert all(heads[case_id] == h for case_id, seq, h in chain if seq == max(
        s for c, s, _ in chain if c == case_id))


def _patti(path, rows) -> None:
    _, cols = template_columns("patto")
    headers = [c.header for c in cols]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    for cells in rows:
        writer.writerow([cells.get(h, "") for h in headers])
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def _patto(ext, cf, surname, name, born, **extra):
    return {EXTERNAL_ID: ext, STATE: "Segnalato", COMUNE: "Crema", "Segnalazione · data del passo": "02/02/2026",
            "Segnalazione · Persona segnalata › Codice fiscale": cf,
            "Segnalazione · Persona segnalata › Cognome": surname, "Segnalazione · Persona segnalata › Nome": name,
            "Segnalazione · Persona segnalata › Data di nascita": born,
            "Segnalazione · Fonte della segnalazione": "caritas", "Segnalazione · Area di bisogno": "Economico",
            **extra}


def test_a_later_row_sees_the_earlier_rows_of_its_batch_and_a_person_named_twice_is_one_person(source, fresh,
                                                                                             tmp_path):
    """Row 3 renews the patto of row 2 (case 1 of an empty database): its guard reads that case, still pending in
    the batch, so it is written first (with workers: the worker sends the row back, and the load checks it in its
    turn); row 4 names row 2's person with another surname: one person, the discrepancy recorded (DOMAIN.md §13).
    Every way writes the same rows."""
    path = tmp_path / "patti.csv"
    _patti(path, [_patto("R1", "RSSMRA85T10A562S", "Rossi", "Mario", "10/12/1985"),
                  _patto("R2", make_codice_fiscale("Bianchi", "Luca", date(1980, 1, 1), "M", "D142"), "Bianchi", "Luca", "01/01/1980",
                         **{"Segnalazione · Patto precedente (rinnovo)": "1"}),
                  _patto("R3", "RSSMRA85T10A562S", "Rosi", "Mario", "10/12/1985")])
    (stepwise, expected), (batched, written), (parallel, by_workers) = _load_every_way(fresh, source[3],
                                                                                       [("patto", path)])
    assert batched[0].problems == stepwise[0].problems == parallel[0].problems == [] and len(batched[0].loaded) == 3
    assert len(written["person"]) == 2 and [d["cognome"] for d in written["person_discrepancy"]] == ["Rosi"]
    assert written == expected and by_workers == expected
    assert parallel[0].loaded == batched[0].loaded == stepwise[0].loaded


def test_the_batched_load_refuses_what_the_step_by_step_load_refuses_and_writes_nothing(source, fresh, tmp_path):
    path = tmp_path / "patti.csv"
    _bad_file(path)
    (stepwise, expected), (batched, written), (parallel, by_workers) = _load_every_way(fresh, source[3],
                                                                                       [("patto", path)])
    assert batched[0].problems == stepwise[0].problems == parallel[0].problems and len(batched[0].problems) >= 10
    assert written == expected == by_workers and not written["case_file"] and not written["person"]


def test_each_deadline_the_import_writes_carries_its_case_s_ambito_every_way(source, fresh, tmp_path):
    """0023_deadline_ambito: the batched and the workers' loads write their deadline rows with their case's Ambito, as the engine's steps do."""
    path = tmp_path / "patti.csv"
    _patti(path, [_patto("A1", "RSSMRA85T10A562S", "Rossi", "Mario", "10/12/1985"),
                  _patto("A2", make_codice_fiscale("Bianchi", "Luca", date(1980, 1, 1), "M", "D142"), "Bianchi",
                         "Luca", "01/01/1980")])
    (_, expected), (_, written), (_, by_workers) = _load_every_way(fresh, source[3], [("patto", path)])
    ambito = {c["id"]: c["ambito_code"] for c in written["case_file"]}
    assert written["deadline"] and set(ambito.values()) == {"cremasco"}
    assert [(d["case_id"], d["ambito_code"]) for d in written["deadline"]] == [
        (d["case_id"], ambito[d["case_id"]]) for d in written["deadline"]]
    assert written["deadline"] == expected["deadline"] == by_workers["deadline"]
