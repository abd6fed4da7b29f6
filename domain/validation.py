"""Validation of Italian identifiers, ISEE attestations and form input, with Italian messages.

Pure functions, no I/O. The annotated types (`CodiceFiscale`, `Iban`, `ItalianDate`, `PastDate`,
`Euro`) are meant to be reused by the other domain models; `italian_errors` turns a pydantic
`ValidationError` into messages an operator can read.
"""

import re
import unicodedata
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError
from stdnum.it.codicefiscale import calc_check_digit

from domain.bounds import Bounded, check_date_range, check_unsigned_zero
from domain.italian import looks_like_date, parse_date


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
_CF_WELL_FORMED = re.compile("".join(pattern for _, pattern, _ in _CF_PARTS))  # every part at once (the usual case)
_BELFIORE_RE = re.compile(r"^[A-Z][0-9]{3}$")
_PROVISIONAL = re.compile(r"\d{11}")


def _compact(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue("valore non valido: è atteso un testo")
    return "".join(value.split()).upper()  # str.split and the regex \s take the same characters as blanks


def is_provisional_codice_fiscale(value: str) -> bool:
    """True for the 11-digit provisional codes (same structure as a partita IVA)."""
    return isinstance(value, str) and _PROVISIONAL.fullmatch(_compact(value)) is not None


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
    if type(value) is str:
        return _validated_codice_fiscale(value)
    return _validate_codice_fiscale(value)


@lru_cache(maxsize=1024)
def _validated_codice_fiscale(value: str) -> str:
    """The answer for a text, kept: a form checks its code twice (the field, then its birth date against it)."""
    return _validate_codice_fiscale(value)


def _validate_codice_fiscale(value: str) -> str:
    code = _compact(value)
    if not code:
        raise InvalidValue("codice fiscale mancante")
    if code.isdigit():
        if len(code) != 11:
            raise InvalidValue(f"codice fiscale non valido: il codice provvisorio ha 11 cifre (ne ha {len(code)})")
        return _validate_provisional(code)
    if len(code) != 16:
        raise InvalidValue(f"codice fiscale non valido: deve avere 16 caratteri (ne ha {len(code)})")
    if _CF_WELL_FORMED.fullmatch(code) is None:
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


# The descriptions are the format hints the forms show under the input (web/forms.py) and the API schema carries.
CODICE_FISCALE_HINT = ("16 caratteri, lettere e cifre, come sulla tessera sanitaria (es. RSSMRA85T10A562S); "
                       "un codice provvisorio ha 11 cifre.")
IBAN_HINT = "IBAN italiano di 27 caratteri che inizia con IT (es. IT60 X054 2811 1010 0000 0123 456); spazi ammessi."
ISEE_PROTOCOL_HINT = ("Come sull'attestazione INPS: INPS-ISEE-aaaa-XXXXXXXXX-nn (es. INPS-ISEE-2026-ABCDE1234-00); "
                      "l'anno è quello di presentazione della DSU.")
CodiceFiscale = Annotated[str, AfterValidator(validate_codice_fiscale), Field(description=CODICE_FISCALE_HINT)]
Iban = Annotated[str, AfterValidator(validate_iban), Field(description=IBAN_HINT)]
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
    protocollo: str = Field(pattern=ISEE_PROTOCOL_RE, max_length=40, title="Protocollo DSU",
                            description=ISEE_PROTOCOL_HINT)
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


from domain.field_errors import FieldError, error_message, italian_errors  # noqa: E402,F401  (re-exported)
