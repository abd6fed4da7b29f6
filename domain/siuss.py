"""SIUSS / Casellario dell'Assistenza (DOMAIN.md §15): what a case type sends to INPS, and when. Pure.

A case type that grants a social benefit declares a `SiussMapping` with it (domain/casetypes/<type>/siuss.py):
which transitions grant, change or end the benefit, the key of its `CodicePrestazione` in the Ambito's table
(config/districts/<ambito>/siuss.toml, a PROVISIONAL mapping until the Ufficio di Piano confirms it), the means
test, the amounts, the monthly hours (SAD: the visit register) and SINA's assessment block item by item.

`benefit_of` reads a case's steps up to the end of a period and answers the benefit as INPS should know it then;
`operation` compares it with what was last sent for that case: an insert (I) on grant and on every change
(the Casellario keeps the latest insert of a benefit, keyed by Ente, beneficiary, CodicePrestazione and
ProtocolloDomanda [A]), a cancel (C) for a benefit retracted (ended on or before its start: it never ran) after it
was sent, nothing when INPS already has it. `sina_block` fills SINA's items from the assessment data that
exists and names every required item it cannot fill: a block with unmapped items is not sent (never invented).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.errors import InvalidData
from domain.field_errors import FieldError

INSERT, CANCEL = "I", "C"
OPERATION_LABELS = {INSERT: "inserimento", CANCEL: "cancellazione"}
FLOW_KIND = "PS"  # the PS/PSA/SINA flow; SINBA (minors) is not produced yet
FLOW_TYPE = "PS_PSA_SINA"
NOT_AVAILABLE_CITIZENSHIP = "990"  # ISO 3166 code the specification gives for "non disponibile"
ITALY = "380"
OUTCOME_CODES = {"OK": "acquisito", "DATI_NON_TROVATI": "dati incoerenti", "RICHIESTA_INVALIDA": "flusso non conforme",
                 "ERRORE_GENERICO": "errore di elaborazione"}
PERIOD_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
# SINA's attributes the schema requires (PS_PSA_SINA201812.xsd, SINAType)
SINA_REQUIRED = ("Mobilita", "AttivitaVitaQuotidiana", "DisturbiComportamentali", "AreaReddituale", "AreaSupporto",
                 "FonteDerivazioneValutazione", "StrumentoValutazione")


@dataclass(frozen=True)
class SinaItem:
    """One SINA attribute and how the case's assessment data gives it: `value(data)` returns the code or None
    (not in the data); `source` says from what, for the report."""

    attribute: str
    source: str
    value: Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class SiussMapping:
    prestazione: Callable[[Mapping[str, Any]], str | None] | str  # key in the Ambito's table (None: no benefit)
    grant: tuple[str, ...]  # the transitions that grant the benefit (the first one starts it)
    end: tuple[str, ...]  # the transitions that end it
    change: tuple[str, ...] = ()  # transitions whose data change what INPS knows (amounts, hours, ISEE)
    start_field: str | None = None  # the data key of the start date (else the grant's effective day)
    end_fields: tuple[str, ...] = ()  # data keys of the end date in the end step (else its effective day)
    monthly_amount: Callable[[Mapping[str, Any]], Decimal | None] | None = None
    total_amount: Callable[[Mapping[str, Any]], Decimal | None] | None = None  # ImportoPrestazione
    user_share: str | None = None  # data key of the user's monthly share
    hours_register: tuple[str, str, str] | None = None  # (transition, month key, hours key): monthly hours
    area_utenza: str = "2"  # 1 famiglia e minori, 2 disabilità e non autosufficienza, 3 povertà
    periodic: Callable[[Mapping[str, Any]], bool] | bool = True  # CaratterePrestazione 1 periodico / 2 una tantum
    sina: tuple[SinaItem, ...] = ()  # SINA's items this type's assessment data gives (None: not sent)

    def prestazione_key(self, data: Mapping[str, Any]) -> str | None:
        return self.prestazione(data) if callable(self.prestazione) else self.prestazione

    def transitions(self) -> set[str]:
        named = {*self.grant, *self.end, *self.change}
        return named | ({self.hours_register[0]} if self.hours_register else set())


@dataclass(frozen=True)
class Step:
    transition: str
    effective_on: date
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Benefit:
    """A benefit as INPS should know it at the end of a period; `attributes` are PrestazioniSociali's."""

    case_id: int
    prestazione: str
    attributes: dict[str, str]
    retracted: bool = False
    sina: dict[str, str] | None = None
    unmapped: tuple[str, ...] = ()  # SINA items the data cannot fill


def parse_period(text: str | None) -> tuple[date, date]:
    """'AAAA-MM' → (first day, last day) of that month; an Italian message naming --periodo otherwise."""
    m = PERIOD_RE.fullmatch((text or "").strip())
    if not m:
        raise InvalidData([FieldError("periodo", "Periodo", "indicare il mese come AAAA-MM (es. 2026-10)")])
    first = date(int(m.group(1)), int(m.group(2)), 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def period_problem(period: str, last_period: str | None) -> str | None:
    """A flow may not go back before the last one sent: its changes would overwrite newer ones at INPS."""
    if last_period is not None and period < last_period:
        return f"il periodo {period} precede l'ultimo flusso inviato ({last_period}): esportare {last_period} o dopo"
    return None


def flow_name(ente: str, day: date, progressive: int) -> str:
    """INPS's flow identifier: EEEEE.TIPO.AAAAMMGG.NNNNNNN (ente, PS, creation day, daily progressive)."""
    return f"{ente}.{FLOW_KIND}.{day:%Y%m%d}.{progressive:07d}"


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _money(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def means_test(data: Mapping[str, Any]) -> str:
    """PresenzaProvaMezzi: 1 when the benefit was granted on an ISEE, 4 otherwise (no economic criterion)."""
    return "1" if isinstance(data.get("isee"), Mapping) else "4"


def benefit_of(mapping: SiussMapping, case_id: int, steps: list[Step], up_to: date, case_number: str,
               codes: Mapping[str, tuple[str, str]]) -> Benefit | None:
    """The benefit of a case as of `up_to` (its steps in order), or None if none was granted by then.

    `codes`: prestazione key → (CodicePrestazione, denominazione). `case_number` stands in for the application's
    protocol number when the case type has none."""
    steps = [s for s in steps if s.effective_on <= up_to]
    grant_at = next((i for i, s in enumerate(steps) if s.transition in mapping.grant), None)
    if grant_at is None:
        return None
    data: dict[str, Any] = {}
    for s in steps:
        if mapping.hours_register is None or s.transition != mapping.hours_register[0]:
            data.update(s.data)
    grant = steps[grant_at]
    start = _as_date(data.get(mapping.start_field)) if mapping.start_field else None
    start = start or grant.effective_on
    ended = next((s for s in reversed(steps[grant_at:]) if s.transition in mapping.end), None)
    end = None
    if ended is not None:
        end = next((_as_date(ended.data[k]) for k in mapping.end_fields if ended.data.get(k)), None)
        end = end or ended.effective_on
    key = mapping.prestazione_key(data)
    if key is None:
        return None  # nothing the Casellario records (a patto without an economic measure)
    if key not in codes:
        raise ValueError(f"SIUSS: la prestazione «{key}» non ha un CodicePrestazione nella tabella dell'Ambito")
    code, name = codes[key]
    isee = data.get("isee") if isinstance(data.get("isee"), Mapping) else None
    attrs: dict[str, str | None] = {
        "PresenzaProvaMezzi": means_test(data),
        "CaratterePrestazione": "1" if (mapping.periodic(data) if callable(mapping.periodic) else mapping.periodic)
        else "2",
        "NumeroProtocolloDSU": (isee or {}).get("protocollo"),
        "AnnoProtocolloDSU": str(_as_date(isee["data_dsu"]).year) if isee and isee.get("data_dsu") else None,
        "DataDSU": _as_date(isee["data_dsu"]).isoformat() if isee and isee.get("data_dsu") else None,
        "CodicePrestazione": code,
        "DenominazionePrestazione": name,
        "ProtocolloDomanda": str(data.get("protocollo") or case_number)[:32],
        "DataEvento": grant.effective_on.isoformat(),
        "DataInizioPrestazione": start.isoformat(),
        "DataFinePrestazione": end.isoformat() if end else None,
        "ImportoPrestazione": _money(mapping.total_amount(data)) if mapping.total_amount else None,
        "ImportoMensile": _money(mapping.monthly_amount(data)) if mapping.monthly_amount else None,
        "ImportoQuotaUtente": _money(data.get(mapping.user_share)) if mapping.user_share else None,
        "OreServizioMensile": _monthly_hours(mapping, steps, up_to),
        "PresaCarico": "1",
        "AreaUtenza": mapping.area_utenza,
    }
    sina, unmapped = sina_block(mapping, data)
    return Benefit(case_id, key, {k: v for k, v in attrs.items() if v is not None},
                   retracted=end is not None and end <= start, sina=sina, unmapped=unmapped)


def _monthly_hours(mapping: SiussMapping, steps: list[Step], up_to: date) -> str | None:
    """The hours of the latest month in the register up to the period (SAD: the provider's monthly log)."""
    if mapping.hours_register is None:
        return None
    name, month_key, hours_key = mapping.hours_register
    months = [(str(s.data.get(month_key))[:7], s.data.get(hours_key)) for s in steps
              if s.transition == name and s.data.get(month_key) and s.data.get(hours_key) is not None]
    months = [(m, h) for m, h in months if m <= f"{up_to:%Y-%m}"]
    if not months:
        return None
    return str(Decimal(str(max(months)[1])).quantize(Decimal("0.01")))


def sina_block(mapping: SiussMapping, data: Mapping[str, Any]) -> tuple[dict[str, str] | None, tuple[str, ...]]:
    """SINA's attributes from the data, and the required items nothing fills (then no block: never invented).
    A type that declares no SINA item sends no block and reports nothing."""
    if not mapping.sina:
        return None, ()
    unmapped = sina_unmapped(mapping)
    if unmapped:
        return None, unmapped  # the data are not even read: the block cannot be complete
    filled = {i.attribute: v for i in mapping.sina if (v := i.value(data)) is not None}
    missing = tuple(a for a in SINA_REQUIRED if a not in filled)
    return (None if missing else filled), missing


def sina_unmapped(mapping: SiussMapping) -> tuple[str, ...]:
    """SINA's required items for which the type's assessment records nothing at all (declared with it)."""
    declared = {i.attribute for i in mapping.sina}
    return tuple(a for a in SINA_REQUIRED if a not in declared)


def operation(previous: Mapping[str, Any] | None, current: Benefit | None) -> str | None:
    """What to send for a case: `previous` is the last item sent ({operation, attributes}) or None."""
    if current is None:
        return None
    sent = previous is not None and previous["operation"] == INSERT
    if current.retracted:
        return CANCEL if sent else None
    if not sent or dict(previous["attributes"]) != current.attributes:
        return INSERT
    return None


def cancel_of(previous: Mapping[str, Any]) -> dict[str, str]:
    """A cancel repeats the insert it withdraws (same key attributes), marked C."""
    return dict(previous["attributes"])


# ----------------------------------------------------------------------------- the beneficiary


def beneficiary_problem(codice_fiscale: str, provisional: bool) -> str | None:
    if provisional:
        return "codice fiscale provvisorio: la prestazione si invia quando è registrato quello definitivo"
    if not re.fullmatch(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
                        codice_fiscale.upper()):
        return "codice fiscale non valido per il Casellario"
    return None


_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")


def anagrafica(codice_fiscale: str, cognome: str, nome: str, born: date) -> dict[str, str]:
    """Anagrafica's attributes: birthplace (cadastral code) and sex from the codice fiscale; the citizenship is
    not recorded in Legami, so it goes as 990 («non disponibile», as the specification allows)."""
    cf = codice_fiscale.upper()
    day = int(cf[9:11].translate(_OMOCODIA))
    place = cf[11] + cf[12:15].translate(_OMOCODIA)
    return {"Cognome": cognome[:36], "Nome": nome[:36], "AnnoNascita": f"{born.year:04d}", "LuogoNascita": place,
            "Genere": "2" if day > 40 else "1", "CodiceCittadinanza": NOT_AVAILABLE_CITIZENSHIP}


@dataclass
class OutcomeEntry:
    flow: str
    code: str
    detail: str | None = None
    siuss_id: str | None = None
    codice_fiscale: str | None = None
    acquired_at: str | None = None


def parse_outcomes(raw: Any) -> list[OutcomeEntry]:
    """INPS's outcome notice (the body of POST /esiti: {"elenco_esiti": [...]}) or a list of its entries; an entry
    may name the beneficiary (`codice_fiscale`) when the outcome is not the whole flow's. Italian errors."""
    items = raw.get("elenco_esiti") if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not items:
        raise InvalidData([FieldError("elenco_esiti", "Elenco degli esiti", "il file non contiene esiti")])
    out, errors = [], []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not item.get("id_flusso") or not item.get("codice_esito"):
            errors.append(FieldError(f"elenco_esiti[{n}]", f"Esito n. {n}", "servono id_flusso e codice_esito"))
            continue
        code = str(item["codice_esito"]).strip().upper()
        if code not in OUTCOME_CODES:
            errors.append(FieldError(f"elenco_esiti[{n}]", f"Esito n. {n}",
                                     f"codice_esito «{code}» sconosciuto ({', '.join(OUTCOME_CODES)})"))
            continue
        out.append(OutcomeEntry(str(item["id_flusso"]).strip(), code, item.get("descrizione_esito"),
                                item.get("id_acquisizione_siuss") or item.get("codice_siuss"),
                                (item.get("codice_fiscale") or "").strip().upper() or None,
                                item.get("ts_acquisizione")))
    if errors:
        raise InvalidData(errors)
    return out


def outcome_text(flow: str, entry: OutcomeEntry) -> str:
    """The line recorded on the case for an outcome."""
    text = f"Casellario dell'Assistenza (INPS), flusso {flow}: esito {entry.code} ({OUTCOME_CODES[entry.code]})"
    if entry.siuss_id:
        text += f", codice di acquisizione {entry.siuss_id}"
    if entry.detail:
        text += f". {entry.detail}"
    return text
