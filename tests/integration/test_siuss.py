"""The SIUSS flows to INPS's Casellario dell'Assistenza on the demo year, on SQLite and PostgreSQL: every flow
validates against INPS's shipped schema, a granted FNA benefit goes as an insert and its end as the follow-up in
the next period, a retracted one as a cancel, a rerun sends nothing, an outcome with a rejection shows on the case,
and only the Ufficio di Piano may do any of it."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
import xmlschema

from domain.access import AccessDenied
from domain.engine import Actor
from domain.errors import InvalidData
from domain.workflow import Role
from services.cases import CaseService
from services.demo import generate_demo
from services.diary import read_entries
from services.access import principal_for
from services.setup import init_database
from services.siuss import export, flows_view, keep_pending, pending, pending_cases, record_outcomes
from services.siuss_xml import SCHEMAS
from store.db import make_engine
from store.tables import AppUser, case_t, siuss_flow_t, siuss_item_t
from store.uow import reading

TODAY = date(2026, 11, 20)
OPERATOR = "RSSMRA80A01H501U"
NS = {"c": "http://inps.it/Casellario"}


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory):
    """The demo year (scale 0.05) in a database of its own, per engine."""
    admin = name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('siuss') / 'demo.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        from tests.conftest import _admin  # a clean database for this module
        admin = _admin(url)
        name = sa.engine.make_url(url).database + "_siuss"
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        url = sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    init_database(url, engine)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=TODAY)
    with engine.connect() as conn:
        users = {role: name for name, role in conn.execute(sa.select(AppUser.username, AppUser.role))}
    yield engine, users
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def udp(engine, users):
    return principal_for(engine, users["planning_office"])


def fna_disbursing(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(case_t.c.id).where(case_t.c.case_type == "fna_domanda",
                                                               case_t.c.state == "DISBURSING")
                                 .order_by(case_t.c.id)).scalars())


def obligation_pending(conn, ambito: str | None = None) -> list:
    """The district calendar's «invio_siuss» occurrence due on 15/12/2026 (November's benefits), as pending for
    `ambito`'s office (None: the whole instance)."""
    from config.obligation_files import load_obligations
    from services.directory import Directory
    from services.obligations import pending_for

    ob = next(o for o in load_obligations() if o.code == "invio_siuss")
    return pending_for(conn, Directory(conn), ob, date(2026, 12, 15), date(2026, 12, 10), ambito=ambito)


def counted(found: list) -> int:
    """The number the obligation's line gives («N prestazioni non ancora inviate ...»), 0 when none is pending."""
    return int(found[0].detail.split()[0]) if found else 0


def elsewhere(engine, case_id: int, ambito: str | None):
    """Move a case to another Ambito (`ambito`; None: back to its own), returning its own Ambito."""
    with engine.begin() as conn:
        own = conn.execute(sa.select(case_t.c.ambito_code).where(case_t.c.id == case_id)).scalar_one()
        if ambito is not None:
            conn.execute(case_t.update().where(case_t.c.id == case_id).values(ambito_code=ambito))
    return own


def items(engine, flow_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(siuss_item_t).where(siuss_item_t.c.flow_id == flow_id)).all()


@pytest.fixture(scope="module")
def year(demo):
    """The Ufficio di Piano exports January to October of the demo year (each month rerun once); two FNA benefits
    then end in November, one on its first day (it never ran), and November is exported and rerun."""
    engine, users = demo
    office = udp(engine, users)
    flows, reruns = [], []
    for month in range(1, 11):
        flows.append(export(engine, office, f"2026-{month:02d}", now=at(date(2026, month + 1, 2)),
                            operator_cf=OPERATOR))
        reruns.append(export(engine, office, f"2026-{month:02d}", now=at(date(2026, month + 1, 3)),
                             operator_cf=OPERATOR))
    granted = fna_disbursing(engine)
    first, second = granted[0], granted[1]
    with engine.connect() as conn:
        sent = {r.case_id: r for r in conn.execute(sa.select(siuss_item_t)
                                                     .where(siuss_item_t.c.case_id.in_([first, second])))}
    november_end = date(2026, 11, 30)
    home = elsewhere(engine, first, None)
    # the night, for the instance and for the Ambito, before the two steps below: they come after its marks
    kept = keep_pending(engine, november_end), keep_pending(engine, november_end, home)
    service = CaseService(engine, clock=lambda: at(TODAY))
    system = Actor("sistema", Role.SYSTEM)
    start = date.fromisoformat(sent[second].attributes["DataInizioPrestazione"])
    service.advance(case_id=first, transition="decadenza", actor=system,
                    data={"causa": "trasferimento", "dal": "18/11/2026"}, effective_at=date(2026, 11, 18))
    service.advance(case_id=second, transition="decadenza", actor=system,
                    data={"causa": "decesso", "dal": start.strftime("%d/%m/%Y")}, effective_at=date(2026, 11, 18))
    with reading(engine) as conn:
        due = {c.case_id for c in pending(conn, date(2026, 11, 30))}
        calendar_before = obligation_pending(conn)
        kept_then_touched = pending_cases(conn, november_end)
    elsewhere(engine, first, "altro_ambito")
    try:
        with reading(engine) as conn:
            by_ambito = {"home_full": {c.case_id for c in pending(conn, november_end, ambito=home)},
                         "home_kept": pending_cases(conn, november_end, home),
                         "home_calendar": obligation_pending(conn, home),
                         "other_full": {c.case_id for c in pending(conn, november_end, ambito="altro_ambito")},
                         "other_calendar": obligation_pending(conn, "altro_ambito")}
    finally:
        with engine.begin() as conn:
            conn.execute(case_t.update().where(case_t.c.id == first).values(ambito_code=home))
    november = export(engine, office, "2026-11", now=at(date(2026, 12, 2)), operator_cf=OPERATOR)
    november_again = export(engine, office, "2026-11", now=at(date(2026, 12, 3)), operator_cf=OPERATOR)
    with reading(engine) as conn:
        left = pending(conn, date(2026, 11, 30))
        calendar_after = obligation_pending(conn)
    return {"calendar_before": calendar_before, "calendar_after": calendar_after, "flows": flows, "reruns": reruns,
            "first": first, "second": second, "sent": sent, "due": due, "kept": kept,
            "kept_then_touched": kept_then_touched, "by_ambito": by_ambito,
            "november": november, "november_again": november_again, "left": left}


def test_only_the_ufficio_di_piano_exports_and_a_refusal_writes_nothing(demo):
    engine, users = demo
    worker = principal_for(engine, users["social_worker"])
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(siuss_flow_t)).scalar_one()
    with pytest.raises(AccessDenied, match="Ufficio di Piano"):
        export(engine, worker, "2026-12", now=at(date(2027, 1, 2)), operator_cf=OPERATOR)
    with pytest.raises(AccessDenied):
        flows_view(engine, worker)
    with pytest.raises(InvalidData, match="Periodo"):
        export(engine, udp(engine, users), "2026-13", operator_cf=OPERATOR)
    with pytest.raises(InvalidData, match="operatore"):
        export(engine, udp(engine, users), "2026-12", operator_cf="NONVALIDO")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(siuss_flow_t)).scalar_one() == before


def test_the_demo_years_flows_validate_against_inps_schema_and_a_rerun_sends_nothing(year):
    schema = xmlschema.XMLSchema(str(SCHEMAS["PS_PSA_SINA"]))
    written = [r for r in (*year["flows"], year["november"]) if r.name is not None]
    assert len(written) >= 5
    codes = set()
    for result in written:
        schema.validate(result.xml)  # raises on the first problem
        codes |= set(re.findall(r'CodicePrestazione="([^"]+)"', result.xml))
        assert re.fullmatch(r"D142\.PS\.2026\d{4}\.\d{7}", result.name)
    assert {"A1.11", "A2.07"} <= codes, codes
    for rerun in (*year["reruns"], year["november_again"]):
        assert rerun.name is None and rerun.inserts == rerun.cancels == 0
    assert year["left"] == []


def test_a_granted_fna_benefit_then_its_end_go_as_an_insert_then_the_follow_up(demo, year):
    engine, users = demo
    first, second, sent = year["first"], year["second"], year["sent"]
    assert sent[first].operation == "I" and sent[first].codice_prestazione == "A1.11"
    assert "DataFinePrestazione" not in sent[first].attributes
    assert {first, second} <= year["due"]  # the calendar's obligation saw them before the export
    [reminder] = year["calendar_before"]
    assert "legami siuss esporta --periodo 2026-11" in reminder.detail and year["calendar_after"] == []
    by_case = {it.case_id: it for it in items(engine, year["november"].flow_id)}
    assert by_case[first].operation == "I"
    assert by_case[first].attributes["DataFinePrestazione"] == "2026-11-18"
    assert by_case[second].operation == "C"  # ended on its first day: it never ran, INPS withdraws it
    assert by_case[second].attributes == sent[second].attributes
    with pytest.raises(InvalidData, match="precede"):
        export(engine, udp(engine, users), "2026-09", operator_cf=OPERATOR)


def test_an_outcome_file_with_a_rejection_shows_on_the_case_and_in_the_flow_counts(demo, year):
    engine, users = demo
    office = udp(engine, users)
    october = next(r for r in reversed(year["flows"]) if r.name is not None)
    rows = items(engine, october.flow_id)
    refused = next(r for r in rows if r.codice_prestazione == "A1.11")
    notice = {"elenco_esiti": [
        {"id_flusso": october.name, "tipo": "PS_PSA_SINA", "codice_esito": "OK", "codice_siuss": "22738"},
        {"id_flusso": october.name, "tipo": "PS_PSA_SINA", "codice_esito": "RICHIESTA_INVALIDA",
         "codice_fiscale": refused.codice_fiscale, "descrizione_esito": "Codice prestazione non ammesso"},
    ]}
    with pytest.raises(AccessDenied):
        record_outcomes(engine, principal_for(engine, users["social_worker"]), notice)
    with pytest.raises(InvalidData, match="sconosciuto"):
        record_outcomes(engine, office, {"elenco_esiti": [{"id_flusso": "X.PS.20260101.0000001",
                                                           "codice_esito": "OK"}]})
    done = record_outcomes(engine, office, notice, now=at(date(2026, 12, 5)))
    assert done["respinti"] >= 1 and refused.case_id in done["casi"]
    with engine.connect() as conn:
        outcome = conn.execute(sa.select(siuss_item_t.c.outcome).where(siuss_item_t.c.id == refused.id)).scalar()
    assert outcome == "RICHIESTA_INVALIDA"

    diary = read_entries(engine, office, refused.case_id, now=at(date(2026, 12, 5)))
    shown = [e for e in diary if e["tipo"] == "esito_siuss"]
    assert shown and "RICHIESTA_INVALIDA" in shown[-1]["testo"]
    assert "Codice prestazione non ammesso" in shown[-1]["testo"]
    assert shown[-1]["tipo_etichetta"] == "Esito del Casellario dell'Assistenza (INPS)"

    assert record_outcomes(engine, office, notice, now=at(date(2026, 12, 6)))["esiti"] == 0  # nothing new
    page = next(f for f in flows_view(engine, office) if f["nome"] == october.name)
    assert page["respinte"] == 1 and page["accettate"] == len(rows) - 1 and page["in_attesa"] == 0


def test_the_cli_exports_lists_and_records_outcomes_in_json_and_refuses_a_social_worker(demo, year, tmp_path):
    import json

    from typer.testing import CliRunner

    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine

    engine, users = demo
    november = year["november"].name
    notice = tmp_path / "esiti.json"
    notice.write_text(json.dumps({"elenco_esiti": [{"id_flusso": november, "codice_esito": "OK"}]}), encoding="utf-8")
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEGAMI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        get_settings.cache_clear()
        cached_engine.cache_clear()
        try:
            office = users["planning_office"]
            listed = runner.invoke(app, ["siuss", "flussi", "--actor", office, "--json"])
            assert listed.exit_code == 0, listed.output
            assert november in {f["nome"] for f in json.loads(listed.stdout)}
            done = runner.invoke(app, ["siuss", "esiti", str(notice), "--actor", office, "--json"])
            assert done.exit_code == 0, done.output
            assert json.loads(done.stdout)["respinti"] == 0
            exported = runner.invoke(app, ["siuss", "esporta", "--periodo", "2026-12", "--actor", office,
                                           "--cf-operatore", OPERATOR, "--cartella", str(tmp_path), "--json"])
            assert exported.exit_code == 0, exported.output
            answer = json.loads(exported.stdout)
            assert answer["periodo"] == "2026-12" and "sina_non_mappati" in answer
            assert answer["file"] is None or (tmp_path / f"{answer['flusso']}.xml").is_file()
            refused = runner.invoke(app, ["siuss", "esporta", "--periodo", "2026-12", "--actor",
                                          users["social_worker"], "--cf-operatore", OPERATOR])
            assert refused.exit_code == 1 and refused.stderr.startswith("Errore: accesso negato")
            assert len(refused.stderr.strip().splitlines()) == 1
        finally:
            cached_engine.cache_clear()
            get_settings.cache_clear()


def test_the_obligations_count_is_the_number_of_benefits_pending_even_after_steps_recorded_since_the_night(year):
    """The night kept November's answer before the two FNA benefits ended: the calendar reads it plus the cases
    touched since, and counts exactly what the full computation finds (the two ended benefits included)."""
    assert {year["first"], year["second"]} & year["due"]
    assert year["kept_then_touched"] == sorted(year["due"])
    assert counted(year["calendar_before"]) == len(year["due"])


def test_another_ambitos_benefits_do_not_count_in_an_offices_obligation(year):
    """A benefit case moved to another Ambito leaves the office's count and is that Ambito's alone."""
    found = year["by_ambito"]
    assert year["first"] in year["due"] and year["first"] not in found["home_full"]
    assert found["home_kept"] == sorted(found["home_full"]) and found["home_full"] == year["due"] - {year["first"]}
    assert counted(found["home_calendar"]) == len(year["due"]) - 1
    assert found["other_full"] == {year["first"]} and counted(found["other_calendar"]) == 1
