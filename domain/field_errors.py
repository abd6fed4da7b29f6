"""Italian error messages for pydantic's validation errors: each names the field by its Italian label path
(«Persona segnalata › Codice fiscale») and says what is wrong in words a social worker reads. Pure."""
from __future__ import annotations

import re
import types
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ValidationError,
)

from domain.italian import DATE_FORMAT_MESSAGE, format_date



# --- Italian error messages ------------------------------------------------------------------

@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, e.g. "obiettivi.0.indicatore"
    label: str  # e.g. "Obiettivi › 1 › Indicatore"
    message: str

    def __str__(self) -> str:
        return f"«{self.label}»: {self.message}"


_UNION_TYPES = (Union, types.UnionType)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] so the walker sees the model or container."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in _UNION_TYPES:
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _model_field(model: type[BaseModel], key: str):
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name, info
    return None


def _walk(loc: tuple, model: type[BaseModel]) -> tuple[str, Any]:
    """Label for an error location and the annotation found at its end."""
    parts: list[str] = []
    current: Any = model
    for item in loc:
        current = _unwrap(current)
        origin, args = get_origin(current), get_args(current)
        if isinstance(item, int):
            if origin is tuple and args and args[-1] is not Ellipsis:
                current = args[item] if item < len(args) else Any
            else:
                current = args[0] if args else Any
            row = _unwrap(current)
            title = row.model_config.get("title") if isinstance(row, type) and issubclass(row, BaseModel) else None
            if title and parts:  # a row of records names itself: «Obiettivo 1 › Indicatore», as the form's legend
                parts[-1] = f"{title} {item + 1}"
            else:
                parts.append(str(item + 1))
        elif isinstance(current, type) and issubclass(current, BaseModel) and _model_field(current, item):
            name, info = _model_field(current, item)
            parts.append(info.title or name)
            current = info.annotation
        elif origin in _UNION_TYPES and (member := next((a for a in args if getattr(a, "__name__", None) == item), None)):
            current = member  # pydantic names the union member it tried: not a field
        elif origin is dict:
            parts.append(str(item))
            current = args[1] if len(args) == 2 else Any
        else:
            parts.append(str(item))
            current = Any
    if not parts:
        parts.append(model.model_config.get("title") or model.__name__)
    return " › ".join(parts), _unwrap(current)


def _fmt(value: Any) -> str:
    if isinstance(value, (Decimal, float)):
        return str(value).replace(".", ",")
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _allowed_values(annotation: Any, ctx: dict) -> str:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [member.value for member in annotation]
    elif get_origin(annotation) is Literal:
        values = list(get_args(annotation))
    else:
        return str(ctx.get("expected", "")).replace(" or ", ", ").replace("'", "")
    return ", ".join(str(value) for value in values)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


_MESSAGES = {
    "missing": "campo obbligatorio",
    "extra_forbidden": "campo non previsto",
    "string_pattern_mismatch": "formato non valido",
    "string_type": "deve essere un testo",
    "bool_parsing": "valore non valido: indicare sì o no",
    "bool_type": "valore non valido: indicare sì o no",
    "int_from_float": "deve essere un numero intero",
    "list_type": "deve essere un elenco",
    "date_from_datetime_inexact": "la data non deve contenere un orario",
    "datetime_parsing": "data e ora non valide",
    "datetime_type": "data e ora non valide",
    "date_past": "la data deve essere nel passato",
    "date_future": "la data deve essere nel futuro",
    "url_parsing": "indirizzo non valido",
    "url_type": "indirizzo non valido",
    "uuid_parsing": "identificativo non valido",
}
_MESSAGES.update(dict.fromkeys(("date_parsing", "date_from_datetime_parsing", "date_type"), DATE_FORMAT_MESSAGE))
_MESSAGES.update(dict.fromkeys(
    ("decimal_parsing", "decimal_type", "float_parsing", "float_type", "int_parsing", "int_type",
     "int_parsing_size", "finite_number"), "numero non valido"))
_MESSAGES.update(dict.fromkeys(("model_type", "model_attributes_type", "dict_type"), "dati non validi"))

_LIMITS = {
    "greater_than_equal": ("ge", "deve essere maggiore o uguale a {}"),
    "greater_than": ("gt", "deve essere maggiore di {}"),
    "less_than_equal": ("le", "deve essere minore o uguale a {}"),
    "less_than": ("lt", "deve essere minore di {}"),
    "multiple_of": ("multiple_of", "deve essere un multiplo di {}"),
}


def error_message(error: dict, annotation: Any = None) -> str:
    """The Italian message for one pydantic error (also used for request validation at the API edge)."""
    return _message(error, annotation)


def _message(error: dict, annotation: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        text = str(ctx["error"]) if ctx.get("error") is not None else error["msg"]
        return re.sub(r"^(Value error|Assertion failed), ", "", text)
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in _LIMITS:
        key, template = _LIMITS[kind]
        return template.format(_fmt(ctx.get(key)))
    if kind in ("enum", "literal_error"):
        return f"valore non ammesso: scegliere tra {_allowed_values(annotation, ctx)}"
    if kind == "string_too_short":
        return f"deve contenere almeno {_count(ctx.get('min_length', 1), 'carattere', 'caratteri')}"
    if kind == "string_too_long":
        return f"può contenere al massimo {_count(ctx.get('max_length', 0), 'carattere', 'caratteri')}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return "serve almeno 1 elemento" if n == 1 else f"servono almeno {n} elementi"
    if kind == "too_long":
        return f"sono ammessi al massimo {_count(ctx.get('max_length', 0), 'elemento', 'elementi')}"
    if kind == "decimal_max_places":
        return f"sono ammesse al massimo {_count(ctx.get('decimal_places', 0), 'cifra decimale', 'cifre decimali')}"
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return "numero troppo grande"
    return "valore non valido"


def italian_errors(exc: ValidationError, model: type[BaseModel]) -> list[FieldError]:
    """One FieldError per pydantic error, labelled with the models' Italian field titles."""
    result = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        label, annotation = _walk(loc, model)
        result.append(FieldError(".".join(str(p) for p in loc), label, _message(error, annotation)))
    return result
