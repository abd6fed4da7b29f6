"""The person's pure rules (domain/person.py): which codes merge, which real cases clash, what an opener is told."""
from __future__ import annotations

from datetime import date

from domain.person import Incompatibility, PersonCase, clashes, duplicate_message, merge_problem
from domain.registry import get_case_type
from domain.validation import make_codice_fiscale

CODE = make_codice_fiscale("Riva", "Marco", date(1980, 5, 4), "M", "D142")
B1 = Incompatibility("misura_esterna", "Misura B1", frozenset({"B1"}))


def test_a_provisional_code_merges_into_a_valid_codice_fiscale():
    assert merge_problem("91000370196", CODE) is None


def test_two_codici_fiscali_are_never_merged_not_even_omocodia_variants():
    variant = CODE[:14] + "L" + CODE[15]
    assert "varianti per omocodia" in merge_problem(CODE, variant)


def test_a_provisional_code_is_not_merged_into_another_provisional_code_or_a_wrong_one():
    assert "non un altro codice provvisorio" in merge_problem("91000370196", "91000370197")
    assert merge_problem("91000370196", CODE[:15] + ("A" if CODE[15] != "A" else "B")).startswith("codice definitivo")


def test_only_an_open_case_of_the_declared_measure_clashes_and_never_the_case_itself():
    cases = [PersonCase(1, "misura_esterna", "ACTIVE", True, "B1"), PersonCase(2, "misura_esterna", "ENDED", False, "B1"),
             PersonCase(3, "misura_esterna", "ACTIVE", True, "RSA")]
    assert clashes([B1], cases, own_id=None) == ["Misura B1"]
    assert clashes([B1], cases[1:], own_id=None) == []
    assert clashes([B1], cases[:1], own_id=1) == []


def test_the_fna_application_declares_the_b1_among_its_incompatibilities():
    labels = {i.label for i in get_case_type("fna_domanda").incompatibilities}
    assert "Misura B1" in labels


def test_the_opener_is_told_the_cases_they_may_read_and_whom_to_ask_about_the_others():
    message = duplicate_message("Patto gener-attivo", [12], "1 altro caso che non può consultare: contatti X")
    assert message == ("la persona ha già un caso aperto di tipo «Patto gener-attivo» (caso aperto n. 12; 1 altro caso "
                       "che non può consultare: contatti X): per aprirne un altro indicare il motivo")
