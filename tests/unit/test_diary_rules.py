"""The case diary's rules (domain/diary.py, domain/access.py): what an entry must be, and who writes which class."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.access import CaseRef, FieldClass, Principal, diary_classes, diary_refusal
from domain.casetype import CaseType, DeclarationError
from domain.diary import KINDS, check_entry, kinds_for
from domain.errors import InvalidData
from domain.italian import ROME
from domain.registry import get_case_type
from domain.workflow import Role

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)
CASE = CaseRef("patto", "019035", "Crema", "as.rossi", state="ACTIVE")
GOOD = {"tipo": "colloquio", "avvenuto_il": "20/11/2026 11:59", "testo": "Colloquio in sede.", "classe": "sanitaria",
        "partecipanti": "Anna Conti, Mario Rossi"}


def fields_of(exc: InvalidData) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


def test_an_entry_in_the_past_is_taken_with_its_moment_in_utc_and_its_participants_split():
    e = check_entry(GOOD, case_type="patto", now=NOW)
    assert e.occurred_at == datetime(2026, 11, 20, 10, 59, tzinfo=timezone.utc)
    assert e.participants == ("Anna Conti", "Mario Rossi")
    assert e.data_class is FieldClass.HEALTH and e.supersedes is None


def test_a_moment_in_the_future_an_unknown_kind_and_an_empty_text_are_each_named():
    with pytest.raises(InvalidData) as exc:
        check_entry({**GOOD, "avvenuto_il": "20/11/2026 12:01", "tipo": "pranzo", "testo": " "}, case_type="patto",
                    now=NOW)
    found = fields_of(exc.value)
    assert found["avvenuto_il"] == "non può essere nel futuro"
    assert found["tipo"].startswith("valore non ammesso: scegliere tra colloquio")
    assert found["testo"] == "campo obbligatorio"


@pytest.mark.parametrize("field,value,message", [
    ("testo", "x" * 8001, "può contenere al massimo 8000 caratteri"),
    ("testo", "a\x00b", "contiene un carattere di controllo non ammesso (U+0000)"),
    ("partecipanti", ["A\nB"], "deve stare su una sola riga (a capo e tabulazioni non ammessi)"),
    ("partecipanti", [f"P{i}" for i in range(21)], "al massimo 20 partecipanti"),
    ("avvenuto_il", "0001-01-01T00:00", "la data deve cadere tra il 1900 e il 2100"),
    ("avvenuto_il", "20/11/2026 25:00", "l'ora si scrive hh:mm (es. 09:30)"),
    ("classe", "segreta", "valore non ammesso: scegliere tra sociale, sanitaria"),
    ("rettifica_di", "zero", "deve essere il numero di una voce del diario"),
])
def test_every_bound_is_enforced_in_italian(field, value, message):
    with pytest.raises(InvalidData) as exc:
        check_entry({**GOOD, field: value}, case_type="patto", now=NOW)
    assert fields_of(exc.value) == {field: message}


def test_a_case_type_declares_its_own_kinds_beside_the_common_ones_and_a_clash_is_refused():
    assert kinds_for("sad_caso") == {**KINDS, "verifica_ente": "Verifica con l'ente erogatore"}
    assert kinds_for("patto") == KINDS
    patto = get_case_type("patto")
    with pytest.raises(DeclarationError, match="«colloquio» già comune"):
        CaseType(workflow=patto.workflow, group=patto.group, fields=patto.fields, diary_kinds={"colloquio": "X"})


def test_the_owner_writes_health_notes_a_colleague_social_ones_and_csc_none():
    owner = Principal("as.rossi", Role.SOCIAL_WORKER, "Crema", comuni=frozenset({"019035"}))
    colleague = Principal("as.bruni", Role.SOCIAL_WORKER, "Crema", comuni=frozenset({"019035"}))
    csc = Principal("csc.bianchi", Role.CSC_ADMIN)
    elsewhere = Principal("as.verdi", Role.SOCIAL_WORKER, "Pandino", comuni=frozenset({"019067"}))
    assert diary_refusal(owner, CASE, FieldClass.HEALTH) is None
    assert diary_refusal(colleague, CASE, FieldClass.SOCIAL) is None
    assert diary_refusal(colleague, CASE, FieldClass.HEALTH) == "non può registrare dati sanitari su questo caso"
    assert "non scrive nel diario" in diary_refusal(csc, CASE, FieldClass.SOCIAL)
    assert diary_classes(csc, CASE) == frozenset()
    assert diary_refusal(elsewhere, CASE, FieldClass.SOCIAL) == "il caso non appartiene ai comuni del suo sub-ambito"
