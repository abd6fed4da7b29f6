"""Validation of Italian identifiers, ISEE attestations and form input, with Italian messages.

Pure functions, no I/O. The annotated types (`CodiceFiscale`, `Iban`, `ItalianDate`, `PastDate`,
`Euro`) are meant to be reused by the other domain models; `italian_errors` turns a pydantic
`ValidationError` into messages an operator can read.
"""

import re
import types
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError
from stdnum.it.codicefiscale import calc_check_digit

from domain.bounds import Bounded, check_date_range, check_unsigned_zero
from domain.italian import DATE_FORMAT_MESSAGE, format_date, looks_like_date, parse_date


class InvalidValue(ValueError):
    """A value rejected by a validator; str(exc) is the Italian message shown to the user."""


# --- Codice fiscale ------------------------------------------------------------------------

_MONTH_LETTERS = "ABCDEHLMPRST"
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
_OMO_DIGIT = "[0-9LMNPQRSTUV]"
_CF_PARTS = (  # (slice of the code, pattern, reason when it does not match)
    (slice(0, 6), "[A-Z]{6}", "le prime 6 posizioni (cognome e nome) devono essere lettere"),
    (slice(6, 8), f"{_OMO_DIGIT}{{2}}", "anno di nascita non valido"),
    (slice(8, 9), f"[{_MONTH_LETTERS}]", "lettera del mese di nascita non valida"),
    (slice(9, 11), f"{_OMO_DIGIT}{{2}}", "giorno di nascita non valido"),
    (slice(11, 15), f"[A-Z]{_OMO_DIGIT}{{3}}", "codice del comune di nascita (Belfiore) non valido"),
    (slice(15, 16), "[A-Z]", "il carattere di controllo deve essere una lettera"),
)
_BELFIORE_RE = re.compile(r"^[A-Z][0-9]{3}$")


def _compact(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue("valore non valido: è atteso un testo")
    return re.sub(r"\s+", "", value).upper()


def is_provisional_codice_fiscale(value: str) -> bool:
    """True for the 11-digit provisional codes (same structure as a partita IVA)."""
    return isinstance(value, str) and re.fullmatch(r"\d{11}", _compact(value)) is not None


def _validate_provisional(code: str) -> str:
    if int(code[:7]) == 0:
        raise InvalidValue("codice fiscale provvisorio non valido: numero di matricola nullo")
    if not ("001" <= code[7:10] <= "100" or code[7:10] in ("120", "121", "888", "999")):
        raise InvalidValue("codice fiscale provvisorio non valido: codice dell'ufficio errato")
    if not luhn.is_valid(code):
        raise InvalidValue("codice fiscale provvisorio non valido: cifra di controllo errata")
    return code


def _birth_parts(code: str) -> tuple[int, int, int, Literal["M", "F"]]:
    """(two-digit year, month, day, sex) of a well-formed 16-character code."""
    year = int(code[6:8].translate(_OMOCODIA))
    month = _MONTH_LETTERS.index(code[8]) + 1
    day = int(code[9:11].translate(_OMOCODIA))
    sex: Literal["M", "F"] = "F" if day > 40 else "M"
    return year, month, day - 40 if day > 40 else day, sex


def validate_codice_fiscale(value: str) -> str:
    """Return the normalised code; raise InvalidValue with the Italian reason otherwise."""
    code = _compact(value)
    if not code:
        raise InvalidValue("codice fiscale mancante")
    if code.isdigit():
        if len(code) != 11:
            raise InvalidValue(f"codice fiscale non valido: il codice provvisorio ha 11 cifre (ne ha {len(code)})")
        return _validate_provisional(code)
    if len(code) != 16:
        raise InvalidValue(f"codice fiscale non valido: deve avere 16 caratteri (ne ha {len(code)})")
    for part, pattern, reason in _CF_PARTS:
        if not re.fullmatch(pattern, code[part]):
            raise InvalidValue(f"codice fiscale non valido: {reason}")
    if calc_check_digit(code[:15]) != code[15]:
        raise InvalidValue("codice fiscale non valido: carattere di controllo errato")
    year, month, day, _ = _birth_parts(code)
    try:
        date(2000 + year, month, day)  # 2000 + yy is a leap year whenever either century can be
    except ValueError:
        raise InvalidValue("codice fiscale non valido: data di nascita inesistente") from None
    return code


def _require_full_code(value: str) -> str:
    code = validate_codice_fiscale(value)
    if len(code) == 11:
        raise InvalidValue("il codice fiscale provvisorio non contiene data di nascita e sesso")
    return code


def birth_date_from_codice_fiscale(value: str, today: date | None = None) -> date:
    """Birth date: the most recent date matching the code that is not after `today`."""
    year, month, day, _ = _birth_parts(_require_full_code(value))
    today = today or date.today()
    latest = today.year - (today.year - year) % 100
    for full_year in (latest, latest - 100):
        try:
            born = date(full_year, month, day)
        except ValueError:  # 29 February of a century year that is not a leap year
            continue
        if born <= today:
            return born
    raise InvalidValue("codice fiscale non valido: data di nascita inesistente")


def sex_from_codice_fiscale(value: str) -> Literal["M", "F"]:
    return _birth_parts(_require_full_code(value))[3]


def _letters(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.upper())
    return "".join(char for char in plain if "A" <= char <= "Z")


def _consonants_vowels(text: str) -> tuple[str, str]:
    letters = _letters(text)
    return "".join(c for c in letters if c not in "AEIOU"), "".join(c for c in letters if c in "AEIOU")


def _surname_code(surname: str) -> str:
    consonants, vowels = _consonants_vowels(surname)
    return (consonants + vowels + "XXX")[:3]


def _name_code(name: str) -> str:
    consonants, vowels = _consonants_vowels(name)
    if len(consonants) >= 4:
        return consonants[0] + consonants[2] + consonants[3]
    return (consonants + vowels + "XXX")[:3]


def make_codice_fiscale(surname: str, name: str, birth: date, sex: Literal["M", "F"], belfiore: str) -> str:
    """Build a valid codice fiscale (used for synthetic demo people)."""
    if not _letters(surname):
        raise InvalidValue("cognome non valido: deve contenere almeno una lettera")
    if not _letters(name):
        raise InvalidValue("nome non valido: deve contenere almeno una lettera")
    if sex not in ("M", "F"):
        raise InvalidValue("sesso non valido: indicare M o F")
    belfiore = belfiore.strip().upper()
    if not _BELFIORE_RE.match(belfiore):
        raise InvalidValue("codice Belfiore non valido: attesi una lettera e tre cifre")
    day = birth.day + (40 if sex == "F" else 0)
    body = (f"{_surname_code(surname)}{_name_code(name)}{birth.year % 100:02d}"
            f"{_MONTH_LETTERS[birth.month - 1]}{day:02d}{belfiore}")
    return body + calc_check_digit(body)


# --- IBAN ----------------------------------------------------------------------------------

def validate_iban(value: str) -> str:
    """Return the compact Italian IBAN; raise InvalidValue with the Italian reason otherwise."""
    code = stdnum_iban.compact(_compact(value))
    if not code:
        raise InvalidValue("IBAN mancante")
    if not code.startswith("IT"):
        raise InvalidValue("IBAN non valido: è richiesto un IBAN italiano (deve iniziare con IT)")
    if len(code) != 27:
        raise InvalidValue(f"IBAN non valido: un IBAN italiano ha 27 caratteri (ne ha {len(code)})")
    try:
        stdnum_iban.validate(code)
    except InvalidChecksum:
        raise InvalidValue("IBAN non valido: cifre di controllo errate") from None
    except StdnumError:
        raise InvalidValue("IBAN non valido: formato errato (CIN, ABI, CAB o numero di conto)") from None
    return code


# --- E-mail ----------------------------------------------------------------------------------

def validate_email_address(value: str) -> str:
    """The normalised address (a maintained library's syntax check, no network lookup); raise InvalidValue
    otherwise: a line break or a second address never reaches a mail header."""
    if not isinstance(value, str):
        raise InvalidValue("indirizzo e-mail non valido: è atteso un testo")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidValue("indirizzo e-mail non valido") from None


# --- Reusable annotated types ------------------------------------------------------------

def parse_italian_date(value: Any) -> Any:
    """Turn text written as a date (gg/mm/aaaa or aaaa-mm-gg) into a date with `domain.italian.parse_date`;
    leave anything else to pydantic."""
    if isinstance(value, str) and looks_like_date(value):
        return parse_date(value)
    return value


def today_from(info: ValidationInfo | None) -> date:
    """The day "now" is for a validation: the engine passes its clock's day as context {"today": date}."""
    context = info.context if info is not None and isinstance(info.context, dict) else {}
    return context.get("today") or date.today()


def _not_in_future(value: date, info: ValidationInfo) -> date:
    if value > today_from(info):
        raise ValueError("la data non può essere nel futuro")
    return value


CodiceFiscale = Annotated[str, AfterValidator(validate_codice_fiscale)]
Iban = Annotated[str, AfterValidator(validate_iban)]
Email = Annotated[str, AfterValidator(validate_email_address)]
ItalianDate = Annotated[date, BeforeValidator(parse_italian_date), AfterValidator(check_date_range)]
PastDate = Annotated[date, BeforeValidator(parse_italian_date), AfterValidator(check_date_range),
                     AfterValidator(_not_in_future)]
Euro = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), AfterValidator(check_unsigned_zero)]


# --- ISEE ------------------------------------------------------------------------------------

ISEE_PROTOCOL_RE = r"^INPS-ISEE-\d{4}-[0-9A-Z]{9}-\d{2}$"


class IseeType(str, Enum):
    ORDINARIO = "ordinario"
    SOCIOSANITARIO = "sociosanitario"
    MINORENNI = "minorenni"
    CORRENTE = "corrente"


class Isee(Bounded):
    """An ISEE attestation. data_dsu is declared before protocollo so the year check can see it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Attestazione ISEE")

    tipo: IseeType = Field(title="Tipo ISEE")
    valore: Euro = Field(title="Valore ISEE (€)")
    data_dsu: PastDate = Field(title="Data di presentazione DSU")
    protocollo: str = Field(pattern=ISEE_PROTOCOL_RE, max_length=40, title="Protocollo DSU")
    difformita: bool = Field(default=False, title="Omissioni o difformità")

    @field_validator("protocollo", mode="before")
    @classmethod
    def _normalise_protocol(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("protocollo")
    @classmethod
    def _protocol_year_matches_dsu(cls, value: str, info: ValidationInfo) -> str:
        dsu = info.data.get("data_dsu")
        year = int(value.split("-")[2])
        if dsu is not None and year != dsu.year:
            raise ValueError(f"l'anno nel protocollo ({year}) non coincide con l'anno di presentazione della DSU ({dsu.year})")
        return value

    def valid_until(self) -> date:
        return date(self.data_dsu.year, 12, 31)

    def is_valid_on(self, d: date) -> bool:
        return self.data_dsu <= d <= self.valid_until()


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
            parts.append(str(item + 1))
            if origin is tuple and args and args[-1] is not Ellipsis:
                current = args[item] if item < len(args) else Any
            else:
                current = args[0] if args else Any
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
