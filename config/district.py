"""District configuration: comuni, sub-ambiti and accredited providers, loaded from a data folder.

A district folder holds `district.toml` (governance), `comuni.csv` and `providers.csv`. The packaged
default is the Ambito Distrettuale Cremasco; the Ufficio di Piano corrects it by editing the files.
"""

import csv
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import iva

from domain.calendar import WorkingCalendar
from domain.validation import italian_errors

DEFAULT_DISTRICT_DIR = Path(__file__).parent / "districts" / "cremasco"

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _check_istat(value: str) -> str:
    if not re.fullmatch(r"\d{6}", value):
        raise ValueError("il codice ISTAT deve avere 6 cifre (con gli zeri iniziali, es. 019035)")
    return value


def _check_email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError("indirizzo e-mail non valido")
    return value


def _check_partita_iva(value: str) -> str:
    try:
        return iva.validate(value)
    except StdnumError:
        raise ValueError("partita IVA non valida (11 cifre con cifra di controllo)") from None


IstatCode = Annotated[str, AfterValidator(_check_istat)]
Email = Annotated[str, AfterValidator(_check_email)]
PartitaIva = Annotated[str, AfterValidator(_check_partita_iva)]
_STRICT = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Comune(BaseModel):
    model_config = _STRICT

    istat: IstatCode = Field(title="Codice ISTAT")
    belfiore: str = Field(title="Codice Belfiore")
    nome: str = Field(min_length=1, title="Comune")
    popolazione: int | None = Field(ge=0, title="Popolazione residente")  # None: not known (see the notes)
    sub_ambito: str = Field(min_length=1, title="Sub-ambito")
    patrono: str | None = Field(default=None, title="Santo patrono")
    patrono_mmdd: tuple[int, int] | None = Field(default=None, title="Festa patronale (mm-gg)")
    distretto: str | None = Field(default=None, title="Distretto")  # None: the Ambito's only distretto
    ente_gestore: str | None = Field(default=None, title="Ente gestore")  # None: the Ambito's first ente gestore

    @field_validator("popolazione", "distretto", "ente_gestore", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("belfiore")
    @classmethod
    def _belfiore(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]\d{3}", value.upper()):
            raise ValueError("il codice Belfiore deve avere 4 caratteri: una lettera e tre cifre (es. D142)")
        return value.upper()

    @field_validator("patrono", mode="before")
    @classmethod
    def _blank_patron(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("patrono_mmdd", mode="before")
    @classmethod
    def _parse_mmdd(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        match = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", value)
        if not match:
            raise ValueError("data non valida: formato atteso mm-gg (es. 06-10 per il 10 giugno)")
        return int(match[1]), int(match[2])

    @field_validator("patrono_mmdd")
    @classmethod
    def _existing_day(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None:
            try:
                date(2000, *value)
            except ValueError:
                raise ValueError("giorno inesistente: formato atteso mm-gg (es. 06-10 per il 10 giugno)") from None
        return value


class Provider(BaseModel):
    model_config = _STRICT

    codice: str = Field(pattern=r"^[A-Z0-9]{3,12}$", title="Codice ente")
    nome: str = Field(min_length=1, title="Denominazione")
    partita_iva: PartitaIva = Field(title="Partita IVA")
    email: Email = Field(title="E-mail")
    comuni: list[IstatCode] = Field(min_length=1, title="Comuni serviti")

    @field_validator("comuni", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [code.strip() for code in value.split(";") if code.strip()]
        return value


class SubAmbito(BaseModel):
    model_config = _STRICT

    nome: str = Field(min_length=1, title="Sub-ambito")
    coordinatore_email: Email = Field(title="E-mail del coordinatore")


class Distretto(BaseModel):
    model_config = _STRICT

    nome: str = Field(min_length=1, title="Distretto")


class EnteGestore(BaseModel):
    """The body managing the services of some comuni in delegation: azienda speciale, consorzio or comune."""

    model_config = _STRICT

    codice: str = Field(pattern=r"^[A-Z0-9_]{2,20}$", title="Codice ente gestore")
    nome: str = Field(min_length=1, title="Ente gestore")
    tipo: str = Field(pattern=r"^(azienda_speciale|consorzio|comune)$", title="Tipo di ente gestore")
    email: Email = Field(title="E-mail dell'ente gestore")


class District(BaseModel):
    """An Ambito: its distretti, sub-ambiti, comuni, managing bodies (per comune) and providers."""

    model_config = _STRICT

    code: str = Field(pattern=r"^[a-z0-9_-]+$", title="Codice ambito")
    name: str = Field(min_length=1, title="Nome ambito")
    lead_istat: IstatCode = Field(title="Comune capofila (ISTAT)")
    managing_company: str = Field(min_length=1, title="Azienda/ente gestore")
    managing_company_email: Email = Field(title="E-mail dell'ente gestore")
    planning_office_email: Email = Field(title="E-mail dell'Ufficio di Piano")
    sub_ambiti_provisional: bool = Field(title="Sub-ambiti provvisori")
    provisional_note: str = Field(default="", title="Nota sui sub-ambiti")
    sub_ambiti: list[SubAmbito] = Field(min_length=1, title="Sub-ambiti")
    distretti: list[Distretto] = Field(default_factory=list, title="Distretti")  # none declared: one, the Ambito
    enti_gestori: list[EnteGestore] = Field(default_factory=list, title="Enti gestori")  # none: managing_company
    distretti_provisional: bool = Field(default=False, title="Distretti provvisori")
    enti_gestori_provisional: bool = Field(default=False, title="Enti gestori provvisori")
    notes: str = Field(default="", title="Note sui dati")
    comuni: list[Comune] = Field(min_length=1, title="Comuni")
    providers: list[Provider] = Field(default_factory=list, title="Enti accreditati")

    def comune(self, istat: str) -> Comune:
        for comune in self.comuni:
            if comune.istat == istat:
                return comune
        raise KeyError(f"il comune {istat} non appartiene all'{self.name}")

    def sub_ambito_of(self, istat: str) -> SubAmbito:
        name = self.comune(istat).sub_ambito
        return next(sub for sub in self.sub_ambiti if sub.nome == name)

    def providers_for(self, istat: str) -> list[Provider]:
        return [provider for provider in self.providers if istat in provider.comuni]

    def all_distretti(self) -> list[Distretto]:
        """The declared distretti, or the one distretto the Ambito is (the Cremasco case)."""
        return self.distretti or [Distretto(nome=self.name)]

    def all_enti_gestori(self) -> list[EnteGestore]:
        """The declared managing bodies, or the one `managing_company` managing every comune."""
        return self.enti_gestori or [EnteGestore(codice=_code_of(self.code), nome=self.managing_company,
                                                 tipo="azienda_speciale", email=self.managing_company_email)]

    def distretto_of(self, istat: str) -> str:
        return self.comune(istat).distretto or self.all_distretti()[0].nome

    def ente_gestore_of(self, istat: str) -> EnteGestore:
        codice = self.comune(istat).ente_gestore
        enti = self.all_enti_gestori()
        return next((e for e in enti if e.codice == codice), enti[0])

    def patron_days(self) -> dict[str, tuple[int, int]]:
        return {c.istat: c.patrono_mmdd for c in self.comuni if c.patrono_mmdd is not None}

    def calendar(self, saturday_is_working: bool = False) -> WorkingCalendar:
        names = {c.istat: c.nome for c in self.comuni}
        return WorkingCalendar(self.patron_days(), saturday_is_working=saturday_is_working, comune_names=names)


def _code_of(ambito_code: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", ambito_code.upper())[:20].ljust(2, "_")


# --- Loading -------------------------------------------------------------------------------

def _errors_text(exc: ValidationError, model: type[BaseModel]) -> str:
    return "; ".join(str(error) for error in italian_errors(exc, model))


_OPTIONAL_COLUMNS = frozenset({"distretto", "ente_gestore"})  # an Ambito of one distretto and one body omits them


def _read_rows(path: Path, model: type[BaseModel], key: str) -> list[tuple[int, Any]]:
    """(line number, model) per data row; ValueError naming file and row on any problem."""
    if not path.is_file():
        raise ValueError(f"file mancante nella cartella dell'ambito: {path.name}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = handle.readline()
        handle.seek(0)
        delimiter = ";" if header.count(";") > header.count(",") else ","  # Excel in Italian saves with ';'
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = [name for name in model.model_fields
                   if name not in (reader.fieldnames or []) and name not in _OPTIONAL_COLUMNS]
        if missing:
            raise ValueError(f"{path.name}: colonne mancanti: {', '.join(missing)}")
        rows = []
        for row in reader:
            where = f"{path.name}, riga {reader.line_num} ({row.get(key) or '?'})"
            if None in row:
                raise ValueError(f"{where}: ci sono più valori che colonne")
            try:
                rows.append((reader.line_num, model(**row)))
            except ValidationError as exc:
                raise ValueError(f"{where}: {_errors_text(exc, model)}") from None
    return rows


def _read_settings(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ValueError(f"file mancante nella cartella dell'ambito: {path.name}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: sintassi TOML non valida ({exc})") from None


def _first_duplicate(rows: list[tuple[int, Any]], attribute: str, file: str, label: str) -> None:
    seen: dict[str, int] = {}
    for line, item in rows:
        value = getattr(item, attribute)
        if value in seen:
            raise ValueError(f"{file}, riga {line}: {label} {value} già usato alla riga {seen[value]}")
        seen[value] = line


def _check_consistency(district: District, comuni: list[tuple[int, Comune]],
                       providers: list[tuple[int, Provider]]) -> None:
    _first_duplicate(comuni, "istat", "comuni.csv", "codice ISTAT")
    _first_duplicate(comuni, "belfiore", "comuni.csv", "codice Belfiore")
    _first_duplicate(providers, "codice", "providers.csv", "codice ente")
    declared = [sub.nome for sub in district.sub_ambiti]
    if len(set(declared)) != len(declared):
        raise ValueError("district.toml: lo stesso sub-ambito è dichiarato più volte")
    for line, comune in comuni:
        if comune.sub_ambito not in declared:
            raise ValueError(f"comuni.csv, riga {line} ({comune.nome}): il sub-ambito «{comune.sub_ambito}» "
                             "non è dichiarato in district.toml")
    for name in declared:
        if not any(comune.sub_ambito == name for _, comune in comuni):
            raise ValueError(f"district.toml: il sub-ambito «{name}» non ha comuni in comuni.csv")
    _check_distretti_and_enti(district, comuni)
    known = {comune.istat for _, comune in comuni}
    if district.lead_istat not in known:
        raise ValueError(f"district.toml: il comune capofila {district.lead_istat} non è in comuni.csv")
    for line, provider in providers:
        unknown = [code for code in provider.comuni if code not in known]
        if unknown:
            raise ValueError(f"providers.csv, riga {line} ({provider.codice}): comuni non appartenenti "
                             f"all'ambito: {', '.join(unknown)}")


def _check_distretti_and_enti(district: District, comuni: list[tuple[int, Comune]]) -> None:
    distretti = [d.nome for d in district.all_distretti()]
    enti = [e.codice for e in district.all_enti_gestori()]
    for names, label in ((distretti, "distretto"), (enti, "ente gestore")):
        if len(set(names)) != len(names):
            raise ValueError(f"district.toml: lo stesso {label} è dichiarato più volte")
    for line, comune in comuni:
        if comune.distretto is not None and comune.distretto not in distretti:
            raise ValueError(f"comuni.csv, riga {line} ({comune.nome}): il distretto «{comune.distretto}» "
                             "non è dichiarato in district.toml")
        if comune.ente_gestore is not None and comune.ente_gestore not in enti:
            raise ValueError(f"comuni.csv, riga {line} ({comune.nome}): l'ente gestore «{comune.ente_gestore}» "
                             "non è dichiarato in district.toml")


def load_district(path: Path | str | None = None) -> District:
    """Load and check a district folder (default: the packaged Ambito Distrettuale Cremasco)."""
    folder = Path(path) if path is not None else DEFAULT_DISTRICT_DIR
    settings = _read_settings(folder / "district.toml")
    comuni = _read_rows(folder / "comuni.csv", Comune, "nome")
    providers = _read_rows(folder / "providers.csv", Provider, "codice")
    try:
        district = District.model_validate(
            {**settings, "comuni": [c for _, c in comuni], "providers": [p for _, p in providers]})
    except ValidationError as exc:
        raise ValueError(f"district.toml: {_errors_text(exc, District)}") from None
    _check_consistency(district, comuni, providers)
    return district
