"""The `legami` command: thin over the services, Italian errors, non-zero exits, --json everywhere."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from services.setup import ensure_user
from store.db import cached_engine, make_engine
from store.tables import case_t, person_t

from .patto_steps import segnalazione

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LEGAMI_DATABASE_URL", url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    result = runner.invoke(app, ["init", "--json"])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    with engine.begin() as conn:
        ensure_user(conn, "as.rossi", "Anna Rossi", "as.rossi@example.org", "social_worker", "Crema")
        ensure_user(conn, "coord.crema", "Carlo", "coord@example.org", "subarea_coordinator", "Crema")
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_init_loads_the_cremasco_district_and_says_the_sub_ambiti_are_provisional(cli_db):
    result = invoke("init", "--json")
    assert json.loads(result.output) == {
        "ambito": "Ambito Distrettuale Cremasco", "comuni": 48,
        "sub_ambiti": ["Crema", "Sergnano", "Bagnolo Cremasco", "Pandino", "Castelleone", "Vailate"],
        "enti_accreditati": 11, "sub_ambiti_provvisori": True}
    assert "PROVVISORIA" in invoke("init").output


def test_a_case_is_opened_advanced_and_shown_from_the_command_line(cli_db):
    opened = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace", "12/01/2026",
                    "--data", json.dumps(segnalazione()), "--json")
    assert opened.exit_code == 0, opened.output
    case_id = json.loads(opened.output)["id"]
    advanced = invoke("case", "advance", str(case_id), "assegna", "--actor", "coord.crema", "--efficace",
                      "14/01/2026", "--data", '{"assegnatario": "as.rossi", "primo_colloquio_il": "14/01/2026"}',
                      "--json")
    assert json.loads(advanced.output) == {"id": case_id, "seq": 2, "stato": "INTAKE"}
    shown = json.loads(invoke("case", "show", str(case_id), "--actor", "as.rossi", "--json").output)
    assert [h["transizione"] for h in shown["storia"]] == ["segnala", "assegna"]
    assert {t["transizione"] for t in shown["prossime_transizioni"]} == {"archivia", "avvia_redazione"}  # hers
    by_coordinator = json.loads(invoke("case", "show", str(case_id), "--actor", "coord.crema", "--json").output)
    assert {t["transizione"] for t in by_coordinator["prossime_transizioni"]} == {"archivia", "non_ammette"}
    text = invoke("case", "show", str(case_id), "--actor", "as.rossi").output
    assert "Presa in carico (INTAKE)" in text and "26/01/2026" in text
    listed = json.loads(invoke("case", "list", "--tipo", "patto", "--sub-ambito", "Crema", "--actor", "as.rossi",
                                "--json").output)
    assert [r["id"] for r in listed] == [case_id]
    summary = json.loads(invoke("case", "summary", "--actor", "coord.crema", "--json").output)
    assert summary == [{"tipo": "patto", "tipo_etichetta": "Patto gener-attivo", "stato": "INTAKE",
                        "stato_etichetta": "Presa in carico", "casi": 1}]


def test_bad_input_names_the_field_in_italian_exits_non_zero_and_writes_nothing(cli_db):
    bad = segnalazione()
    bad["persona"]["codice_fiscale"] = "RCCMNL83S18D967H"
    bad["fonte"] = "passaparola"
    result = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--data", json.dumps(bad))
    assert result.exit_code == 1
    assert "«Persona segnalata › Codice fiscale»" in result.output
    assert "«Fonte della segnalazione»: valore non ammesso" in result.output
    assert rows(cli_db, case_t) == 0 and rows(cli_db, person_t) == 0


def test_a_refused_role_is_an_italian_error(cli_db):
    result = invoke("case", "open", "patto", "--actor", "coord.crema", "--comune", "019035",
                    "--data", json.dumps(segnalazione()))
    assert result.exit_code == 1
    assert "il ruolo «coordinatore di sub-ambito» non può eseguire «Segnalazione»" in result.output


def test_malformed_json_and_unknown_users_are_refused_clearly(cli_db):
    assert "JSON non valido" in invoke("case", "open", "patto", "--actor", "as.rossi", "--data", "{").output
    result = invoke("case", "open", "patto", "--actor", "nessuno", "--data", "{}")
    assert result.exit_code == 1 and "utente inesistente o disattivato («nessuno»)" in result.output


def test_workflow_show_prints_the_declaration_as_table_json_and_mermaid(cli_db):
    declared = json.loads(invoke("workflow", "show", "fna_domanda", "--json").output)
    assert declared["etichetta"] == "Domanda FNA Misura B2"
    by_name = {t["transizione"]: t for t in declared["transizioni"]}
    assert by_name["preavviso_rigetto"]["scadenze"][0]["fonte"] == "normativa"
    assert declared["mermaid"].startswith("stateDiagram-v2")
    assert "REJECTION_NOTICE --> NOT_ADMITTED: Non ammissione" in invoke("workflow", "show", "fna_domanda",
                                                                         "--mermaid").output
    assert {w["tipo"] for w in json.loads(invoke("workflow", "list", "--json").output)} == {
        "patto", "fna_bando", "fna_domanda", "sad_adesione", "sad_caso", "bonus_famiglia", "misura_esterna"}
    unknown = invoke("workflow", "show", "bonus")
    assert unknown.exit_code == 1 and "tipo di caso «bonus» sconosciuto" in unknown.output


def test_tally_of_the_region_gives_every_ambito_by_distretto_with_small_cells_hidden(cli_db):
    assert invoke("ambito", "load", "config/districts/lodi").exit_code == 0
    invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace", "12/01/2026",
           "--data", json.dumps(segnalazione()))
    data = json.loads(invoke("tally", "--year", "2026", "--regione", "--json").output)
    assert {a["codice"] for a in data["ambiti"]} == {"cremasco", "lodi"}
    referrals = next(i for i in data["indicatori"] if i["codice"] == "patti_segnalazioni")
    cells = {a["ambito"]: a["totale"] for a in referrals["ambiti"]}
    assert cells["cremasco"] == {"valore": None, "n": None, "soppresso": True}  # one person: under 5
    text = invoke("tally", "--year", "2026", "--regione").output
    assert "Cremasco" in text and "Lodi" in text  # both Ambiti named in the table
    assert "n<5" in text and "Segnalazioni per patto" in text
    refused = invoke("tally", "--year", "2026", "--regione", "--ambito", "lodi")
    assert refused.exit_code != 0 and "--regione" in refused.output


def test_an_administrative_user_is_created_for_a_managing_body_of_lodi(cli_db):
    assert invoke("ambito", "load", "config/districts/lodi").exit_code == 0
    made = invoke("user", "create", "csc.casale", "--nome", "Segreteria", "--email", "csc.casale@example.org",
                  "--ruolo", "csc_admin", "--ente-gestore", "AS_CASALPUSTERLENGO")
    assert made.exit_code == 0, made.output
    with cli_db.connect() as conn:
        row = conn.execute(sa.text("SELECT ambito_code, ente_gestore FROM app_user WHERE username = 'csc.casale'")).one()
    assert tuple(row) == ("lodi", "AS_CASALPUSTERLENGO")
    refused = invoke("user", "create", "as.x", "--nome", "X", "--email", "as.x@example.org", "--ruolo",
                     "social_worker", "--sub-ambito", "Lodi", "--ente-gestore", "AS_CASALPUSTERLENGO")
    assert refused.exit_code != 0 and "solo per il personale amministrativo" in refused.output


def test_tally_prints_the_indicators_with_suppressed_cells_and_json(cli_db):
    invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace", "12/01/2026",
           "--data", json.dumps(segnalazione()))
    data = json.loads(invoke("tally", "--year", "2026", "--by", "comune", "--json").output)
    referrals = next(i for i in data["indicatori"] if i["codice"] == "patti_segnalazioni")
    assert referrals["totale"] == {"valore": None, "n": None, "soppresso": True}  # one person: under 5
    text = invoke("tally", "--year", "2026").output
    assert "Segnalazioni per patto" in text and "n<5" in text
    assert "70-75" in text
