"""Importing existing cases (DOMAIN.md §15): each type's template round-trips a demo case (same state, data and
deadlines in an empty database), a file with every kind of bad cell is reported in Italian and writes nothing, a
second import of the same file adds nothing; on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from domain.access import AccessDenied
from domain.import_template import COMUNE, EXTERNAL_ID, STATE
from services.access import principal_for
from services.demo import generate_demo
from services.import_files import Table, problems_csv, write_template
from services.importing import rows_of_case, run_import, template_columns
from store import cases as repo
from store.db import make_engine
from store.tables import case_t, deadline_t, outbox_t, transition_t
from store.uow import reading
from tests.conftest import ROME

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)
ORDER = ("fna_bando", "sad_adesione", "patto", "fna_domanda", "sad_caso", "bonus_famiglia")  # parents first


@pytest.fixture(scope="module")
def source(tmp_path_factory, sqlite_template):
    """A small demo year (SQLite): the cases to export into the templates."""
    import shutil

    path = tmp_path_factory.mktemp("fonte") / "demo.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    generate_demo(engine, year=2026, seed=7, scale=0.02, today=TODAY)
    with engine.connect() as conn:
        repeated = {r[0] for r in conn.execute(sa.select(transition_t.c.case_id).group_by(
            transition_t.c.case_id, transition_t.c.transition).having(sa.func.count() > 1))}
        cases = conn.execute(sa.select(case_t.c.id, case_t.c.case_type).order_by(case_t.c.id)).all()
        planner = conn.execute(sa.text("SELECT username FROM app_user WHERE role = 'planning_office'")).scalar()
    yield engine, cases, repeated, planner
    engine.dispose()


@pytest.fixture
def target(db_url):
    """An empty database with the demo's users (no case)."""
    from services.demo import _ServiceContext

    engine = make_engine(db_url)
    _ServiceContext(engine, year=2026, seed=7, scale=0, today=TODAY).create_users()
    assert _count(engine, case_t) == 0
    yield engine
    engine.dispose()


def _import(engine, user, case_type, path, *, dry_run=False, now=NOW):
    table = Table(path, case_type)
    return run_import(engine, user, case_type, table.rows(), file_name=path.name, file_sha256="0" * 64,
                      dry_run=dry_run, header_problems=table.problems, clock=lambda: now)


def _deadlines(engine, case_id):
    d = deadline_t.c
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(d.kind, d.due, d.status, d.closed_on, d.suspended_days)
                                   .where(d.case_id == case_id)).all())


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_each_case_types_template_round_trips_a_demo_case_with_its_state_data_and_deadlines(source, target, tmp_path):
    engine_a, cases, repeated, planner = source
    user = principal_for(target, planner)
    mail = _count(target, outbox_t)  # the demo users' own messages
    for case_type in ORDER:  # a case whose steps each ran once (a row holds one occurrence of each step)
        rows = [rows_of_case(i, engine_a) for i, t in cases if t == case_type and i not in repeated]
        assert rows, case_type
        path = tmp_path / f"{case_type}.xlsx"
        write_template(case_type, path, rows)
        result = _import(target, user, case_type, path)
        assert result.problems == [] and len(result.loaded) == len(rows), (case_type, result.problems)
    compared = 0
    for (original, case_type) in cases:
        if original in repeated:
            continue
        with target.connect() as conn:
            loaded = conn.execute(sa.text("SELECT case_id FROM case_import WHERE external_id = :e"),
                                  {"e": f"caso-{original}"}).scalar_one()
        with reading(engine_a) as ca, reading(target) as cb:
            before, after = repo.load_case(ca, original), repo.load_case(cb, loaded)
        assert (after.state, after.kind, after.comune_istat, after.owner, after.opened_on, after.version) == \
               (before.state, before.kind, before.comune_istat, before.owner, before.opened_on, before.version)
        assert after.data == before.data, case_type
        assert _deadlines(target, loaded) == _deadlines(engine_a, original), case_type
        compared += 1
    assert compared >= len(ORDER)
    assert _count(target, outbox_t) == mail  # no e-mail for a step of the past


def test_every_imported_step_says_in_the_tamper_evident_history_that_it_was_imported(source, target, tmp_path):
    engine_a, cases, repeated, planner = source
    original = next(i for i, t in cases if t == "patto" and i not in repeated)
    path = tmp_path / "patto.xlsx"
    write_template("patto", path, [rows_of_case(original, engine_a)])
    _import(target, principal_for(target, planner), "patto", path)
    with target.connect() as conn:
        reasons = conn.execute(sa.select(transition_t.c.reason, transition_t.c.hash)).all()
    assert reasons and all("importato da «patto.xlsx», riga 2" in r and h for r, h in reasons)
    from services.audit import verify

    checked = verify(target)  # the chain `legami audit verify` checks holds for the imported steps
    assert checked.ok and checked.transitions == len(reasons)


def test_a_second_import_of_the_same_file_adds_nothing(source, target, tmp_path):
    engine_a, cases, repeated, planner = source
    user = principal_for(target, planner)
    path = tmp_path / "sad_adesione.xlsx"
    write_template("sad_adesione", path, [rows_of_case(i, engine_a) for i, t in cases if t == "sad_adesione"])
    first = _import(target, user, "sad_adesione", path)
    counts = (_count(target, case_t), _count(target, transition_t), _count(target, deadline_t))
    second = _import(target, user, "sad_adesione", path)
    assert first.loaded and not second.loaded and len(second.skipped) == len(first.loaded)
    assert (_count(target, case_t), _count(target, transition_t), _count(target, deadline_t)) == counts


BAD_ROWS = [  # (external id, state, comune, date of the referral, codice fiscale, birth date, fonte, extra)
    ("B1", "Segnalato", "Crema", "31/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),  # no such day
    ("B2", "Segnalato", "Atlantide", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),
    ("B3", "Segnalato", "Crema", "02/02/2026", "RSSMRA85T10A562X", "10/12/1985", "caritas", {}),  # check digit
    ("B4", "Segnalato", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "la nonna", {}),
    ("B5", "Attivo", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),  # not reached
    ("", "Segnalato", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),
    ("B7", "Segnalato", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas",
     {"Segnalazione · Patto precedente (rinnovo)": "tanti"}),
    ("B8", "Presa in carico", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas",
     {"Assegnazione e primo colloquio · data del passo": "03/02/2026",
      "Assegnazione e primo colloquio · Assistente sociale assegnatario": "nessuno.tale",
      "Assegnazione e primo colloquio · Data del primo colloquio": "03/02/2026"}),
    ("B1", "Segnalato", "Crema", "02/02/2026", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),  # repeated id
    ("B10", "Segnalato", "Crema", "", "RSSMRA85T10A562S", "10/12/1985", "caritas", {}),  # data, no date
]


def _bad_file(path) -> None:
    _, cols = template_columns("patto")
    headers = [c.header for c in cols] + ["Colonna inventata"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    for ext, state, comune, on, cf, born, fonte, extra in BAD_ROWS:
        cells = {EXTERNAL_ID: ext, STATE: state, COMUNE: comune, "Segnalazione · data del passo": on,
                 "Segnalazione · Persona segnalata › Codice fiscale": cf,
                 "Segnalazione · Persona segnalata › Cognome": "Rossi",
                 "Segnalazione · Persona segnalata › Nome": "Mario",
                 "Segnalazione · Persona segnalata › Data di nascita": born,
                 "Segnalazione · Fonte della segnalazione": fonte,
                 "Segnalazione · Area di bisogno": "Economico", **extra}
        writer.writerow([cells.get(h, "") for h in headers])
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))  # as Italian Excel saves «CSV UTF-8»


def test_a_file_with_every_kind_of_bad_cell_gets_an_italian_report_and_writes_nothing(source, target, tmp_path):
    planner = source[3]
    path = tmp_path / "patti.csv"
    _bad_file(path)
    before = (_count(target, case_t), _count(target, transition_t))
    result = _import(target, principal_for(target, planner), "patto", path)
    found = {(p.row, p.column): p.message for p in result.problems}
    assert found[(1, "Colonna inventata")] == "colonna non prevista dal modello"
    assert "data non valida" in found[(2, "Segnalazione · data del passo")].lower() or \
        "gg/mm/aaaa" in found[(2, "Segnalazione · data del passo")]
    assert "non è tra i comuni dell'ambito" in found[(3, COMUNE)]
    assert (4, "Segnalazione · Persona segnalata › Codice fiscale") in found
    assert "valore «la nonna» non ammesso" in found[(5, "Segnalazione · Fonte della segnalazione")]
    assert "portano il caso in «Segnalato», non in «Attivo»" in found[(6, STATE)]
    assert found[(7, EXTERNAL_ID)] == "campo obbligatorio"
    assert "numero" in found[(8, "Segnalazione · Patto precedente (rinnovo)")]
    assert "«nessuno.tale» non esiste" in found[(9, "Assegnazione e primo colloquio · data del passo")]
    assert "già presente alla riga 2" in found[(10, EXTERNAL_ID)]
    assert found[(11, "Segnalazione · data del passo")] == "il passo ha dei dati ma non la sua data"
    assert (_count(target, case_t), _count(target, transition_t)) == before  # rows 2-… valid or not: nothing
    report = problems_csv(result)
    assert report.startswith("\ufeff".encode()) and b"Riga;Colonna;Problema" in report


def test_a_dry_run_of_a_good_file_reports_what_it_would_load_and_writes_nothing(source, target, tmp_path):
    engine_a, cases, _, planner = source
    path = tmp_path / "bonus.xlsx"
    write_template("bonus_famiglia", path, [rows_of_case(i, engine_a) for i, t in cases if t == "bonus_famiglia"])
    result = _import(target, principal_for(target, planner), "bonus_famiglia", path, dry_run=True)
    assert result.problems == [] and result.loaded and _count(target, case_t) == 0


def test_only_coordinators_and_the_planning_office_import_and_a_coordinator_only_in_their_sub_ambito(
        source, target, tmp_path):
    engine_a, cases, repeated, _ = source
    with target.connect() as conn:
        worker, coordinator, sub_ambito = conn.execute(sa.text(
            "SELECT w.username, c.username, c.sub_ambito FROM app_user w JOIN app_user c ON c.sub_ambito = "
            "w.sub_ambito WHERE w.role = 'social_worker' AND c.role = 'subarea_coordinator' LIMIT 1")).one()
    path = tmp_path / "patto.xlsx"
    rows = [rows_of_case(i, engine_a) for i, t in cases if t == "patto" and i not in repeated]
    write_template("patto", path, rows)
    with pytest.raises(AccessDenied):
        _import(target, principal_for(target, worker), "patto", path)
    with pytest.raises(AccessDenied):
        _import(target, principal_for(target, coordinator), "fna_bando", path)
    result = _import(target, principal_for(target, coordinator), "patto", path, dry_run=True)
    user = principal_for(target, coordinator)
    outside = [p for p in result.problems if p.column == COMUNE]
    inside = [r for r in rows if r[COMUNE] in user.comuni]
    assert len(outside) == len(rows) - len(inside)
    assert all(f"non è nel sub-ambito {sub_ambito}" in p.message for p in outside)


def test_the_cli_writes_the_template_and_reports_a_dry_run_in_json(source, target, db_url, tmp_path):
    import json

    from typer.testing import CliRunner

    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine

    runner = CliRunner()
    path = tmp_path / "patti.csv"
    _bad_file(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEGAMI_DATABASE_URL", db_url)
        get_settings.cache_clear()
        cached_engine.cache_clear()
        try:
            made = runner.invoke(app, ["import", "modello", "patto", str(tmp_path / "m.xlsx"), "--json"])
            checked = runner.invoke(app, ["import", "patto", str(path), "--actor", source[3], "--dry-run", "--json",
                                          "--problemi", str(tmp_path / "problemi.xlsx")])
            missing = runner.invoke(app, ["import", "patto", str(tmp_path / "nessuno.csv"), "--actor", source[3]])
        finally:
            cached_engine(db_url).dispose()
            get_settings.cache_clear()
            cached_engine.cache_clear()
    assert made.exit_code == 0 and json.loads(made.stdout) == {"tipo": "patto", "modello": str(tmp_path / "m.xlsx")}
    report = json.loads(checked.stdout)
    assert checked.exit_code == 1 and report["prova"] and report["caricati"] == 0
    assert {"riga": 6, "colonna": STATE, "problema": "i passi datati portano il caso in «Segnalato», non in "
                                                    "«Attivo»"} in report["problemi"]
    assert (tmp_path / "problemi.xlsx").stat().st_size > 0
    assert missing.exit_code == 1 and missing.stderr.strip().startswith("Errore: FILE: «") and \
        len(missing.stderr.strip().splitlines()) == 1
    assert _count(target, case_t) == 0


def test_the_sweep_after_an_import_reminds_nobody_of_deadlines_already_past_on_the_import_day(source, target,
                                                                                              tmp_path):
    """No reminder for the past (issue 14): the deadlines an imported case had already missed when it came into
    Legami (here: cases of 2026 loaded in March 2027) are not escalated by the next sweep."""
    from services.sweep import run_deadline_sweep
    from store.tables import reminder_log_t

    engine_a, cases, repeated, planner = source
    rows = [rows_of_case(i, engine_a) for i, t in cases if t == "patto" and i not in repeated]
    path = tmp_path / "patto.xlsx"
    write_template("patto", path, rows)
    import_day = date(2027, 3, 1)
    loaded = _import(target, principal_for(target, planner), "patto", path,
                     now=datetime(2027, 3, 1, 9, 0, tzinfo=ROME)).loaded
    assert loaded
    d = deadline_t.c
    with target.connect() as conn:
        past = {r.id for r in conn.execute(sa.select(d.id).where(d.status == "open", d.due < import_day))}
    assert past, "some imported case must have a deadline already missed on the import day"
    result = run_deadline_sweep(target, as_of=import_day)
    assert result.escalations == 0
    with target.connect() as conn:
        logged = conn.execute(sa.select(reminder_log_t.c.recipient).where(reminder_log_t.c.deadline_id.in_(past)))
        assert {r for (r,) in logged} == {"importazione"}  # settled on import, named as such for the escalations
