"""A provisional codice fiscale typed with another birth date: the stored person is kept, the typed date is
recorded as a discrepancy, and the CLI's opener is told only whom to contact."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from services.setup import ensure_user
from store.tables import person_discrepancy_t, person_t

from .patto_steps import segnalazione
from .test_cli import cli_db, invoke  # noqa: F401  (the CLI's database fixture)

PROVISIONAL = "91000370196"  # 11 digits: no birth date encoded


def referral(surname: str, birth: str) -> str:
    data = segnalazione()
    data["persona"] = {"codice_fiscale": PROVISIONAL, "cognome": surname, "nome": "Ada", "data_nascita": birth}
    return json.dumps(data)


def test_a_different_birth_date_on_a_known_provisional_code_is_kept_as_a_discrepancy(cli_db):  # noqa: F811
    with cli_db.begin() as conn:
        ensure_user(conn, "as.verdi", "Vera Verdi", "as.verdi@example.org", "social_worker", "Pandino")
    first = invoke("case", "open", "patto", "--actor", "as.verdi", "--comune", "019067", "--efficace", "12/01/2026",
                   "--data", referral("Ferrari", "1970-02-01"), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["persona_nota"] is None
    second = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace",
                    "12/01/2026", "--motivo", "seconda segnalazione", "--data", referral("Ferrari", "1971-03-04"))
    assert second.exit_code == 0, second.output
    said = " ".join(second.output.split())  # the console wraps at 100 columns
    assert "già nota ai servizi" in said and "coordinatore del sub-ambito Pandino" in said
    assert "1970" not in second.output and "01/02/1970" not in second.output
    with cli_db.connect() as conn:
        assert conn.execute(sa.select(person_t.c.data_nascita)).scalars().all() == [date(1970, 2, 1)]
        assert conn.execute(sa.select(person_discrepancy_t.c.data_nascita, person_discrepancy_t.c.recorded_by)
                            ).all() == [(date(1971, 3, 4), "as.rossi")]
    shown = json.loads(invoke("case", "show", "2", "--actor", "as.rossi", "--json").output)
    assert shown["persona_nota"] and shown["discrepanze_anagrafiche"] == []
    assert "1970" not in json.dumps(shown)


def test_the_cli_shows_the_person_merges_the_provisional_code_and_refuses_a_worker(cli_db):  # noqa: F811
    from datetime import date as day

    from domain.validation import make_codice_fiscale

    with cli_db.begin() as conn:
        ensure_user(conn, "as.verdi", "Vera Verdi", "as.verdi@example.org", "social_worker", "Pandino")
        ensure_user(conn, "coord.pandino", "Carla Pandino", "coord.pandino@example.org", "subarea_coordinator",
                    "Pandino")
    opened = invoke("case", "open", "patto", "--actor", "as.verdi", "--comune", "019067", "--efficace", "12/01/2026",
                    "--data", referral("Ferrari", "1970-02-01"), "--json")
    assert opened.exit_code == 0, opened.output
    shown = json.loads(invoke("persona", "mostra", "1", "--actor", "as.verdi", "--json").output)
    assert [c["id"] for c in shown["casi"]] == [1] and shown["codice_provvisorio"] is True
    definitive = make_codice_fiscale("Ferrari", "Ada", day(1970, 2, 1), "F", "D142")
    refused = invoke("persona", "unisci", "--provvisorio", PROVISIONAL, "--definitivo", definitive, "--motivo", "x y z",
                     "--actor", "as.verdi")
    assert refused.exit_code != 0 and "non modifica l'anagrafica" in " ".join(refused.output.split())
    merged = invoke("persona", "unisci", "--provvisorio", PROVISIONAL, "--definitivo", definitive, "--motivo",
                    "codice attribuito", "--actor", "coord.pandino", "--json")
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.output)["casi_spostati"] == [1]
    with cli_db.connect() as conn:
        assert conn.execute(sa.select(person_t.c.codice_fiscale)).scalars().all() == [definitive]
