"""Health data sealed (issue 11 item 2), on SQLite and PostgreSQL: no health-class value is stored in clear, an
entitled reader gets the values (and the read is logged), a CSC reader gets none (nothing decrypted), the audit
chain still verifies, and a key rotation round-trips (old key removed, reads still work)."""
from __future__ import annotations

import base64
from datetime import date

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app as cli_app
from config.settings import get_settings
from domain.validation import make_codice_fiscale
from services.access import health_reads, principal_for, read_case
from services.audit import verify
from services.setup import ensure_user
from store.cases import load_case
from store.sealed import parse_keys
from store.tables import case_t, health_data_t, transition_t
from tests.district_world import CREMA, EXTRA_USERS, build_world

from .test_migrations import scratch_url  # noqa: F401  (a scratch database of its own)

REVIEW = "deficit cognitivo Zafferano-7781, rivalutare con il geriatra"
DUE_BIRTH = "23/10/2026"
SECRETS = (REVIEW, "Zafferano-7781", "2026-10-23", DUE_BIRTH)
KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


@pytest.fixture
def keys(monkeypatch):
    """LEGAMI_HEALTH_KEYS as the test sets it (settings are re-read each time it changes)."""
    def use(value: str) -> None:
        monkeypatch.setenv("LEGAMI_HEALTH_KEYS", value)
        get_settings.cache_clear()

    use(KEY_A)
    yield use
    monkeypatch.delenv("LEGAMI_HEALTH_KEYS", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def world(service, engine, keys):
    with engine.begin() as conn:
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    ids = build_world(service)
    sad = ids["sad_ente01"]
    service.advance(case_id=sad, transition="prima_visita", actor=service.actor("ente.girasole"),
                    effective_at=date(2026, 4, 20),
                    data={"visita": {"data": "20/04/2026", "operatore": "Lia B.", "minuti": 60,
                                     "servizi": ["igiene_personale"]}})
    worker = service.actor("as.rossi")
    service.advance(case_id=sad, transition="avvia_revisione", actor=worker, effective_at=date(2026, 5, 8))
    service.advance(case_id=sad, transition="conferma_pai", actor=worker, effective_at=date(2026, 5, 10),
                    data={"esito_revisione": REVIEW})
    ids["bonus"] = service.open_case(
        case_type="bonus_famiglia", actor=worker, comune_istat=CREMA, effective_at=date(2026, 3, 2),
        data={"persona": {"codice_fiscale": make_codice_fiscale("Rossi", "Anna", date(1991, 2, 14), "F", "D142"),
                          "cognome": "Rossi", "nome": "Anna", "data_nascita": "1991-02-14"},
              "evento": "gravidanza", "figli": 1, "richiesto_il": "02/03/2026", "assegnatario": "as.rossi",
              "data_presunta_parto": DUE_BIRTH})
    return ids


@pytest.fixture
def ranked(service, world):
    return publish_a_ranking(service, world)


def publish_a_ranking(service, world):
    """The world with its FNA call's provisional ranking published: a snapshot of each application's points,
    ADL, IADL and severity (health-derived) among them."""
    udp = service.actor("udp.neri")
    service.advance(case_id=world["bando"], transition="chiudi", actor=udp, effective_at=date(2026, 7, 11))
    service.advance(case_id=world["fna"], transition="ammetti", actor=service.actor("as.rossi"),
                    effective_at=date(2026, 7, 20),
                    data={"adl": 4, "iadl": 5, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})
    service.advance(case_id=world["bando"], transition="pubblica_graduatoria_provvisoria", actor=udp,
                    effective_at=date(2026, 7, 25), data={"atto": "Determinazione UdP n. 41/2026"})
    return world


def _health_names() -> set[str]:
    """Every key the declarations classify as health data, top-level or nested (`posizioni[].dettaglio.adl`)."""
    from domain.fields import FieldClass
    from domain.registry import all_case_types

    names = set()
    for ct in all_case_types():
        names |= {k for k, c in ct.field_map.top.items() if c is FieldClass.HEALTH} | set(ct.field_map.health_names)
    return names - {"*"}


def _health_keys_in_clear(engine) -> list[tuple[str, str]]:
    """(table.column, path) of every health-class key found in a JSON value of any column of any table."""
    names, found = _health_names(), []

    def walk(where: str, path: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in names:
                    found.append((where, f"{path}.{key}"))
                walk(where, f"{path}.{key}", item)
        elif isinstance(value, list):
            for item in value:
                walk(where, path + "[]", item)

    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    walk(f"{table.name}.{column}", "", value)
    return found


def _all_text(engine) -> list[tuple[str, str]]:
    """(table.column, value as text) of every column of every table, binary ones excepted."""
    found = []
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is not None and not isinstance(value, (bytes, memoryview)):
                        found.append((f"{table.name}.{column}", str(value)))
    return found


def test_no_health_value_is_stored_in_clear_anywhere(engine, world):
    leaks = [(where, s) for where, text in _all_text(engine) for s in SECRETS if s in text]
    assert leaks == []
    with engine.connect() as conn:
        for table in (case_t, transition_t):
            for (data,) in conn.execute(sa.select(table.c.data)):
                assert not {"adl", "iadl", "esito_revisione", "data_presunta_parto", "scala",
                            "indennita_accompagnamento", "invalidita_104_art3c3"} & set(data or {})
        sealed = conn.execute(sa.select(sa.func.count()).select_from(health_data_t)).scalar_one()
    assert sealed >= 6  # SAD and FNA and Bonus cases, and each step that carried health data


def test_no_health_value_is_stored_in_clear_after_a_ranking_is_published(engine, ranked):
    with engine.connect() as conn:
        step = conn.execute(sa.select(transition_t.c.data).where(
            transition_t.c.case_id == ranked["bando"],
            transition_t.c.transition == "pubblica_graduatoria_provvisoria")).scalar_one()
    assert [p["protocollo"] for p in step["posizioni"]] == ["CSC-2026-0042"]  # the ranking itself stays
    assert set(step["posizioni"][0]["dettaglio"]) == {"isee", "eta", "solitudine"}
    assert _health_keys_in_clear(engine) == []
    assert verify(engine).ok  # the step's hash covers the snapshot as published, sealed part included


def test_the_planning_office_reads_the_published_points_and_the_read_is_logged(engine, ranked):
    detail = read_case(engine, principal_for(engine, "udp.neri"), ranked["bando"])
    [step] = [h for h in detail["storia"] if h["transizione"] == "pubblica_graduatoria_provvisoria"]
    points = step["dati"]["posizioni"][0]["dettaglio"]
    assert (points["adl"], points["iadl"], points["gravita"]) == ("12", "5", "20")
    assert set(points) == {"isee", "gravita", "solitudine", "eta", "adl", "iadl"}
    assert "posizioni[].dettaglio.adl" in health_reads(engine, case_id=ranked["bando"], username="udp.neri")[-1]["campi"]
    csc = read_case(engine, principal_for(engine, "csc.bianchi"), ranked["bando"])
    [step] = [h for h in csc["storia"] if h["transizione"] == "pubblica_graduatoria_provvisoria"]
    assert {"isee", "eta"} <= set(step["dati"]["posizioni"][0]["dettaglio"])  # none of the health-derived points
    assert {"adl", "iadl", "gravita"}.isdisjoint(step["dati"]["posizioni"][0]["dettaglio"])
    assert "dati sanitari" in csc["dati_riservati"]


def test_the_engine_and_an_entitled_reader_see_the_values_and_the_read_is_logged(engine, world):
    sad = world["sad_ente01"]
    with engine.connect() as conn:
        assert load_case(conn, sad).data["esito_revisione"] == REVIEW
        assert load_case(conn, sad).data["adl"] == 3
    detail = read_case(engine, principal_for(engine, "as.rossi"), sad)
    assert detail["dati"]["esito_revisione"] == REVIEW
    assert [h["dati"].get("esito_revisione") for h in detail["storia"] if h["transizione"] == "conferma_pai"] \
        == [REVIEW]
    assert [h["dati"].get("adl") for h in detail["storia"] if h["transizione"] == "valuta"] == [3]
    assert "esito_revisione" in health_reads(engine, case_id=sad, username="as.rossi")[-1]["campi"]
    bonus = read_case(engine, principal_for(engine, "as.rossi"), world["bonus"])
    assert bonus["dati"]["data_presunta_parto"] == "2026-10-23"


def test_a_csc_reader_gets_no_health_value_and_is_told_some_is_withheld(engine, world):
    detail = read_case(engine, principal_for(engine, "csc.bianchi"), world["sad_ente01"])
    text = repr(detail)
    assert "esito_revisione" not in text and "Zafferano" not in text and "'adl'" not in text
    assert "dati sanitari" in detail["dati_riservati"]
    assert not [r for r in health_reads(engine, case_id=world["sad_ente01"]) if r["utente"] == "csc.bianchi"]


def test_the_audit_chain_verifies_with_the_health_data_sealed_and_detects_a_moved_ciphertext(engine, world):
    assert verify(engine).ok
    sad = world["sad_ente01"]
    with engine.begin() as conn:  # a sealed part moved onto another step (the guards allow nothing else)
        row = conn.execute(sa.select(health_data_t).where(health_data_t.c.case_id == sad,
                                                          health_data_t.c.seq > 0)).mappings().first()
        conn.execute(sa.update(health_data_t).where(health_data_t.c.id == row["id"]).values(seq=row["seq"] + 100))
        # the first byte flipped: it always differs (b"x" in its place left it unchanged once in 256 runs)
        forged = bytes([row["ciphertext"][0] ^ 0xFF]) + row["ciphertext"][1:]
        conn.execute(health_data_t.insert().values(case_id=sad, seq=row["seq"], key_id=row["key_id"],
                                                   nonce=row["nonce"], ciphertext=forged))
    result = verify(engine)
    assert any(b.chain == f"caso {sad}" and b.row == f"passo {row['seq']}" for b in result.breaks)


def test_key_rotation_round_trips_and_the_old_key_can_be_removed(engine, world, keys, db_url, monkeypatch):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    keys(f"{KEY_B},{KEY_A}")
    result = CliRunner().invoke(cli_app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Chiave corrente «b»" in result.output and "si possono togliere" in result.output
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(health_data_t.c.key_id)).scalars()) == {"b"}
    keys(KEY_B)  # the old key removed from settings
    detail = read_case(engine, principal_for(engine, "as.rossi"), world["sad_ente01"])
    assert detail["dati"]["esito_revisione"] == REVIEW
    assert verify(engine).ok
    keys(KEY_A)  # only the old key: the data cannot be read, and the message says which key is missing
    with pytest.raises(ValueError, match="«b»"):
        read_case(engine, principal_for(engine, "as.rossi"), world["sad_ente01"])


def test_a_bad_key_setting_is_refused_naming_it_and_production_needs_one(monkeypatch):
    with pytest.raises(ValueError, match="«k1».*256 bit"):
        parse_keys("k1:" + base64.b64encode(b"short").decode())
    monkeypatch.setenv("LEGAMI_ENVIRONMENT", "production")
    monkeypatch.setenv("LEGAMI_SECRET_KEY", "segreto-vero")
    monkeypatch.delenv("LEGAMI_HEALTH_KEYS", raising=False)
    from config.settings import Settings

    with pytest.raises(ValueError, match="LEGAMI_HEALTH_KEYS"):
        Settings(_env_file=None)
    assert Settings(_env_file=None, health_keys=KEY_A).health_keys == KEY_A


def test_the_migration_moves_clear_health_data_in_and_its_downgrade_puts_it_back(scratch_url, keys):
    from services.cases import CaseService
    from services.setup import init_database
    from store.db import downgrade, make_engine, migrate

    from .conftest import NOW, USERS

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    with engine.begin() as conn:
        for username, role, area, provider in [*USERS, *EXTRA_USERS]:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    ids = build_world(CaseService(engine, clock=lambda: NOW))
    sad = ids["sad_ente01"]
    step = sa.select(transition_t.c.data).where(transition_t.c.case_id == sad, transition_t.c.transition == "valuta")
    case = sa.select(case_t.c.data).where(case_t.c.id == sad)
    downgrade(scratch_url, "0007_audit_chain")
    with engine.connect() as conn:
        assert (conn.execute(step).scalar_one()["adl"], conn.execute(case).scalar_one()["iadl"]) == (3, 5)
        assert "health_data" not in sa.inspect(conn).get_table_names()
    migrate(scratch_url)
    with engine.connect() as conn:
        assert "adl" not in conn.execute(step).scalar_one() and "iadl" not in conn.execute(case).scalar_one()
        assert load_case(conn, sad).data["iadl"] == 5
    assert verify(engine).ok  # the rows' hashes did not change
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # the history's guard is back
        with engine.begin() as conn:
            conn.execute(transition_t.update().values(actor="x"))
    engine.dispose()


def test_migration_0010_seals_the_published_points_left_in_clear_and_its_downgrade_puts_them_back(
        scratch_url, keys):
    from services.cases import CaseService
    from services.setup import init_database
    from store.db import downgrade, make_engine, migrate

    from .conftest import NOW, USERS

    engine = make_engine(scratch_url, poolclass=sa.pool.NullPool)
    init_database(scratch_url, engine)
    with engine.begin() as conn:
        for username, role, area, provider in [*USERS, *EXTRA_USERS]:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    service = CaseService(engine, clock=lambda: NOW)
    publish_a_ranking(service, build_world(service))
    step = sa.select(transition_t.c.data).where(transition_t.c.transition == "pubblica_graduatoria_provvisoria")
    downgrade(scratch_url, "0009_health_sealed")
    with engine.connect() as conn:  # as a database sealed by 0009 only kept it
        assert conn.execute(step).scalar_one()["posizioni"][0]["dettaglio"]["adl"] == "12"
    assert verify(engine).ok
    migrate(scratch_url)
    assert _health_keys_in_clear(engine) == []
    assert verify(engine).ok  # the rows' hashes did not change
    engine.dispose()
