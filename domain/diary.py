"""The case diary (DOMAIN.md §13): dated entries a worker writes on a case, beside its transitions. Pure.

An entry has a declared kind (the common ones below, plus those its case type declares in `CaseType.diary_kinds`),
the date and time of the contact (it may lie in the past, never in the future), its participants, its text, a data
class (social or health: a health entry is sealed like other health data and its reads are logged) and its author.
Entries are append-only: a correction is a new entry that supersedes an earlier one (`rettifica_di`), which stays.

`check_entry` validates what a page, the API or the CLI sends, with the same bounds as every input
(domain/bounds.py), and answers with Italian messages naming the field.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from domain.bounds import SINGLE_LINE_MAX, YEAR_MAX, YEAR_MIN, control_character_problem
from domain.errors import InvalidData
from domain.fields import FieldClass
from domain.field_errors import FieldError
from domain.italian import ROME, parse_date

KINDS: dict[str, str] = {
    "colloquio": "Colloquio",
    "visita_domiciliare": "Visita domiciliare",
    "telefonata": "Telefonata",
    "relazione": "Relazione",
    "riunione_equipe": "Riunione d'équipe",
}
SIUSS_OUTCOME = "esito_siuss"  # recorded by `legami siuss esiti` on the cases of a type that sends benefits to INPS
RECORDED_KINDS: dict[str, str] = {SIUSS_OUTCOME: "Esito del Casellario dell'Assistenza (INPS)"}
CLASSES: dict[str, FieldClass] = {"sociale": FieldClass.SOCIAL, "sanitaria": FieldClass.HEALTH}
CLASS_LABELS: dict[FieldClass, str] = {FieldClass.SOCIAL: "sociale", FieldClass.HEALTH: "sanitaria"}

TEXT_MAX = 8000
"""A diary entry's text (a relazione runs longer than a form's free text)."""
PARTICIPANTS_MAX = 20
"""Participants named by one entry, each one line of at most SINGLE_LINE_MAX characters."""

LABELS = {"tipo": "Tipo di voce", "avvenuto_il": "Data e ora del contatto", "partecipanti": "Partecipanti",
          "testo": "Testo", "classe": "Classe del dato", "rettifica_di": "Rettifica della voce"}


def kinds_for(case_type: str) -> dict[str, str]:
    """The kinds of entry a case of this type takes: the common ones and its declaration's own."""
    from domain.registry import find_case_type

    ct = find_case_type(case_type)
    return {**KINDS, **(dict(ct.diary_kinds) if ct is not None else {})}


def kind_labels(case_type: str) -> dict[str, str]:
    """Every kind an entry of a case of this type may carry, as people read it: those a user writes and those
    Legami records itself (no user writes them: `check_entry` refuses them)."""
    return {**kinds_for(case_type), **RECORDED_KINDS}


def kind_problems(extra: Mapping[str, str]) -> list[str]:
    """What is wrong with the kinds a case type declares (checked with its declaration)."""
    found = []
    for code, label in extra.items():
        if code in KINDS:
            found.append(f"tipo di voce del diario «{code}» già comune a tutti i tipi di caso")
        if not code.isidentifier() or not code.islower() or not label.strip():
            found.append(f"tipo di voce del diario «{code}»: codice in minuscolo senza spazi, con un'etichetta")
    return found


@dataclass(frozen=True)
class Entry:
    """A valid entry, ready to be stored: `occurred_at` in UTC."""

    kind: str
    occurred_at: datetime
    participants: tuple[str, ...]
    text: str
    data_class: FieldClass
    supersedes: int | None  # the number (seq) of the entry it corrects


def _error(field: str, message: str) -> FieldError:
    return FieldError(field, LABELS[field], message)


def parse_moment(value: Any) -> datetime:
    """A contact's date and time: a datetime, an ISO text, or "gg/mm/aaaa[ hh:mm]" (Europe/Rome); ValueError."""
    if isinstance(value, (date, datetime)) and not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(f"la data deve cadere tra il {YEAR_MIN} e il {YEAR_MAX}")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ROME)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), ROME)
    text = str(value).strip()
    if "T" in text:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("scrivere la data come gg/mm/aaaa e l'ora come hh:mm") from None
        if not YEAR_MIN <= parsed.year <= YEAR_MAX:
            raise ValueError(f"la data deve cadere tra il {YEAR_MIN} e il {YEAR_MAX}")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ROME)
    day_text, _, hour_text = text.partition(" ")
    day = parse_date(day_text, years=(YEAR_MIN, YEAR_MAX))
    moment = time(0, 0)
    if hour_text.strip():
        try:
            moment = time.fromisoformat(hour_text.strip())
        except ValueError:
            raise ValueError("l'ora si scrive hh:mm (es. 09:30)") from None
    return datetime.combine(day, moment.replace(tzinfo=None), ROME)


def check_entry(raw: Mapping[str, Any], *, case_type: str, now: datetime) -> Entry:
    """The entry `raw` asks for ({tipo, avvenuto_il, partecipanti, testo, classe, rettifica_di}), or InvalidData
    naming every bad field; nothing is stored before this passes."""
    errors: list[FieldError] = []
    kinds = kinds_for(case_type)
    kind = str(raw.get("tipo") or "").strip()
    if not kind:
        errors.append(_error("tipo", "campo obbligatorio"))
    elif kind not in kinds:
        errors.append(_error("tipo", f"valore non ammesso: scegliere tra {', '.join(kinds)}"))
    occurred = None
    when = raw.get("avvenuto_il")
    if when in (None, ""):
        errors.append(_error("avvenuto_il", "campo obbligatorio"))
    else:
        try:
            occurred = parse_moment(when).astimezone(timezone.utc)
            if occurred > now.astimezone(timezone.utc):
                errors.append(_error("avvenuto_il", "non può essere nel futuro"))
        except ValueError as exc:
            errors.append(_error("avvenuto_il", str(exc)))
    participants = raw.get("partecipanti") or []
    if isinstance(participants, str):
        participants = [p for p in participants.replace("\n", ",").split(",")]
    if not isinstance(participants, (list, tuple)):
        errors.append(_error("partecipanti", "deve essere un elenco di nomi"))
        participants = []
    names = tuple(p.strip() for p in participants if isinstance(p, str) and p.strip())
    if len(participants) > PARTICIPANTS_MAX:
        errors.append(_error("partecipanti", f"al massimo {PARTICIPANTS_MAX} partecipanti"))
    elif any(not isinstance(p, str) for p in participants):
        errors.append(_error("partecipanti", "deve essere un elenco di nomi"))
    else:
        for name in names:
            problem = (f"ogni nome può contenere al massimo {SINGLE_LINE_MAX} caratteri"
                       if len(name) > SINGLE_LINE_MAX else control_character_problem(name, multiline=False))
            if problem:
                errors.append(_error("partecipanti", problem))
                break
    text = raw.get("testo")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        errors.append(_error("testo", "campo obbligatorio"))
    elif len(text) > TEXT_MAX:
        errors.append(_error("testo", f"può contenere al massimo {TEXT_MAX} caratteri"))
    elif (problem := control_character_problem(text, multiline=True)) is not None:
        errors.append(_error("testo", problem))
    label = str(raw.get("classe") or "sociale").strip()
    data_class = CLASSES.get(label)
    if data_class is None:
        errors.append(_error("classe", "valore non ammesso: scegliere tra sociale, sanitaria"))
    supersedes = raw.get("rettifica_di")
    if supersedes in (None, ""):
        supersedes = None
    else:
        try:
            supersedes = int(str(supersedes).strip())
            if not 1 <= supersedes <= 2**31 - 1:
                raise ValueError
        except ValueError:
            errors.append(_error("rettifica_di", "deve essere il numero di una voce del diario"))
            supersedes = None
    if errors:
        raise InvalidData(errors)
    return Entry(kind, occurred, names, text, data_class, supersedes)
