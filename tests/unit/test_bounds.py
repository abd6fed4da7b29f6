"""Every input bounded, the same at every entrance: the rules of domain/bounds.py on every declared form."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Union, get_args, get_origin

import types

import pytest
from pydantic import BaseModel, Field, ValidationError

from domain.bounds import LIST_MAX, MOTIVO_MAX, Bounded, reason_problem
from domain.common import Form, Persona
from domain.italian import DATE_FORMAT_MESSAGE, parse_date
from domain.registry import all_case_types
from domain.validation import Euro, ItalianDate, PastDate, italian_errors

_UNIONS = (Union, types.UnionType)


def _strip(annotation):
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in _UNIONS and len([a for a in get_args(annotation) if a is not type(None)]) == 1:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _models(annotation, found: set) -> None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for info in annotation.model_fields.values():
                _models(info.annotation, found)
        return
    for arg in get_args(annotation):
        _models(arg, found)


def declared_models() -> list[type[BaseModel]]:
    found: set = set()
    for case_type in all_case_types():
        for t in case_type.workflow.transitions:
            if t.data is not None:
                _models(t.data, found)
    return sorted(found, key=lambda m: f"{m.__module__}.{m.__qualname__}")


def _text_or_list_fields(model):
    for name, info in model.model_fields.items():
        annotation = _strip(info.annotation)
        if annotation is str or get_origin(annotation) in (list, tuple, set, frozenset, dict):
            yield name, annotation


MODELS = declared_models()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__qualname__)
def test_every_text_and_list_field_of_every_declared_form_is_bounded(model):
    assert issubclass(model, Bounded), f"{model.__qualname__} is not a bounded model"
    for name, annotation in _text_or_list_fields(model):
        bound = model.bound_of(name)
        assert bound is not None, f"{model.__qualname__}.{name} has no maximum length"
        too_long = "a" * (bound + 1) if annotation is str else (
            {f"k{i}": "1" for i in range(bound + 1)} if get_origin(annotation) is dict else ["a"] * (bound + 1))
        with pytest.raises(ValidationError) as refused:
            model.model_validate({name: too_long})
        kinds = {e["type"] for e in refused.value.errors() if e["loc"] and e["loc"][0] == name}
        assert kinds & {"string_too_long", "too_long", "value_error"}, f"{model.__qualname__}.{name}: {kinds}"


def _errors_of(model, data):
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return {e.field: e for e in italian_errors(refused.value, model)}


def test_a_nul_byte_is_refused_with_an_italian_message_naming_the_field():
    errors = _errors_of(Persona, {"cognome": "Ros\x00si"})
    assert "carattere di controllo" in errors["cognome"].message
    assert errors["cognome"].label == "Cognome"


def test_a_newline_is_refused_in_one_line_text_and_allowed_in_long_text():
    class Nota(Form):
        nome: str = Field("", max_length=80)
        note: str = ""  # the default bound: long, multi-line text

    assert Nota.model_validate({"note": "prima riga\r\nseconda\triga"}).note == "prima riga\r\nseconda\triga"
    assert "una sola riga" in _errors_of(Nota, {"nome": "Mario\nBcc: x"})["nome"].message


def test_control_characters_inside_lists_and_mappings_are_refused():
    class Elenco(Form):
        voci: list[str] = []
        punteggi: dict[str, Decimal] = {}

    assert "controllo" in _errors_of(Elenco, {"voci": ["ok", "no\x07"]})["voci"].message
    assert "controllo" in _errors_of(Elenco, {"punteggi": {"a\x00": "1"}})["punteggi"].message


def test_a_list_without_its_own_bound_takes_the_default():
    class Elenco(Form):
        voci: list[str] = []

    Elenco.model_validate({"voci": ["a"] * LIST_MAX})
    assert f"al massimo {LIST_MAX}" in _errors_of(Elenco, {"voci": ["a"] * (LIST_MAX + 1)})["voci"].message


@pytest.mark.parametrize("typ", [ItalianDate, PastDate, date], ids=["ItalianDate", "PastDate", "date"])
@pytest.mark.parametrize("written", ["0001-01-01", "01/01/0001", "31/12/2101", "1899-12-31"])
def test_dates_outside_1900_2100_are_refused(typ, written):
    class Quando(Form):
        il: typ

    message = _errors_of(Quando, {"il": written})["il"].message
    if typ is date and "/" in written:  # pydantic's own date reads only aaaa-mm-gg
        assert message == DATE_FORMAT_MESSAGE
    else:
        assert "tra il 1900 e il 2100" in message


def test_a_field_may_declare_its_own_date_range():
    class Storico(Form):
        il: date = Field(ge=date(1800, 1, 1))

    assert Storico.model_validate({"il": "1850-01-01"}).il == date(1850, 1, 1)


@pytest.mark.parametrize("written", ["-0", "-0.00", "-0E+2"])
def test_a_signed_zero_amount_is_refused(written):
    class Importo(Form):
        euro: Euro
        numero: Decimal | None = None

    assert "zero" in _errors_of(Importo, {"euro": written})["euro"].message
    assert "zero" in _errors_of(Importo, {"euro": "0", "numero": written})["numero"].message
    assert Importo.model_validate({"euro": "0"}).euro == 0


def test_parse_date_refuses_years_outside_the_range():
    with pytest.raises(ValueError):
        parse_date("01/01/0001")
    assert parse_date("01/01/1900") == date(1900, 1, 1)


def test_the_reason_has_one_bound_and_refuses_control_characters():
    assert reason_problem("a" * MOTIVO_MAX) is None
    assert reason_problem("riga\nriga\r\n\tfine") is None
    assert str(MOTIVO_MAX) in reason_problem("a" * (MOTIVO_MAX + 1))
    assert "controllo" in reason_problem("a\x00b")
