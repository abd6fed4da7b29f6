"""Every input bounded at the command line too: the same rules as the pages and the API (domain/bounds.py)."""
from __future__ import annotations

import json

import sqlalchemy as sa

from domain.bounds import MOTIVO_MAX
from store.tables import AppUser, case_t

from .patto_steps import segnalazione
from .test_cli import cli_db, invoke, rows  # noqa: F401  (cli_db is a fixture)


def test_an_email_address_carrying_a_header_is_refused_by_user_create(cli_db):
    result = invoke("user", "create", "m.bianchi", "--nome", "Maria Bianchi", "--email", "a@x.org\r\nBcc: b@y.org",
                    "--ruolo", "planning_office")
    assert result.exit_code == 1
    assert "e-mail: indirizzo e-mail non valido" in result.output
    with cli_db.connect() as conn:
        assert conn.execute(sa.select(AppUser.__table__.c.id).where(AppUser.__table__.c.username == "m.bianchi")
                            ).first() is None


def test_a_valid_email_address_creates_the_user(cli_db):
    result = invoke("user", "create", "m.bianchi", "--nome", "Maria Bianchi", "--email", "m.bianchi@comune.crema.cr.it",
                    "--ruolo", "planning_office")
    assert result.exit_code == 0, result.output


def test_a_reason_over_the_one_bound_is_refused_at_the_command_line_as_by_the_api(cli_db):
    opened = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace", "12/01/2026",
                    "--data", json.dumps(segnalazione()), "--motivo", "x" * (MOTIVO_MAX + 1))
    assert opened.exit_code == 1
    assert f"«Motivo»: può contenere al massimo {MOTIVO_MAX} caratteri" in opened.output
    assert rows(cli_db, case_t) == 0


def test_a_nul_byte_in_the_data_is_refused_naming_the_field(cli_db):
    data = segnalazione()
    data["persona"]["cognome"] = "Ros\u0000si"
    opened = invoke("case", "open", "patto", "--actor", "as.rossi", "--comune", "019035", "--efficace", "12/01/2026",
                    "--data", json.dumps(data))
    assert opened.exit_code == 1
    assert "Cognome»: contiene un carattere di controllo non ammesso (U+0000)" in opened.output
    assert rows(cli_db, case_t) == 0
