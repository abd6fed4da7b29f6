"""What the form accepts for a person fits the `person` table: an over-long e-mail or phone number is an
Italian validation error, never a database error (PostgreSQL refuses what SQLite would store)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.common import Persona
from domain.validation import make_codice_fiscale
from store.tables import Person

BASE = {"codice_fiscale": make_codice_fiscale("Bianchi", "Luca", date(1980, 5, 4), "M", "D142"),
        "cognome": "Bianchi", "nome": "Luca", "data_nascita": "1980-05-04"}


@pytest.mark.parametrize("field", ["cognome", "nome", "email", "telefono"])
def test_a_value_one_character_longer_than_the_column_is_refused_by_the_form(field):
    length = Person.__table__.c[field].type.length
    too_long = {"cognome": "B" * (length + 1), "nome": "L" * (length + 1),
                "email": "a" * (length - 10) + "@example.org", "telefono": "3" * (length + 1)}[field]
    assert len(too_long) > length
    with pytest.raises(ValidationError):
        Persona.model_validate({**BASE, field: too_long})


def test_a_phone_number_of_the_longest_accepted_shape_fits_the_column():
    longest = "+" + "3" * 19
    assert Persona.model_validate({**BASE, "telefono": longest}).telefono == longest
    assert len(longest) <= Person.__table__.c["telefono"].type.length
