"""The import template of a case type, derived from its declaration (DOMAIN.md §15). Pure.

One spreadsheet row is one case: its external id (or protocol number), the state it is loaded into, its comune
(and kind, and linked case, where the type has them) and, for every step already taken, the step's effective
date and the data of the step's own form, one column per field («Segnalazione · Persona segnalata › Cognome»).
A list of records (the objectives of a patto) takes `ROWS` numbered groups of columns; a list of values is one
cell, the values separated by «;». Nothing here is written per case type: a new measure gets its template from
its declaration, and the same pydantic models as the forms judge every value (`parse_row` only turns cells
into the nested data the forms would send).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from domain.casetype import CaseType
from domain.fields import is_model as _is_model, strip_annotation as _strip
from domain.import_cells import LIST_SEPARATOR, READERS, read_text
from domain.italian import format_date
from domain.workflow import Transition

ROWS = 4  # numbered column groups offered for a list of records (objectives, commitments, measures)
SEP = " · "  # between a step's label and its field's label
PATH_SEP = " › "  # between a nested field's labels, as the forms' error messages write them

EXTERNAL_ID = "Identificativo esterno (o n. di protocollo)"
STATE = "Stato in cui caricare il caso"
COMUNE = "Comune (codice ISTAT o nome)"
KIND = "Tipologia"
OWNER = "Operatore titolare (nome utente)"
DATE_LABEL = "data del passo"
REASON_LABEL = "motivo"



@dataclass(frozen=True)
class Column:
    header: str
    role: str  # external_id | state | comune | kind | parent | date | reason | field
    kind: str = "text"  # text | date | number | choice | list | bool | pairs
    transition: str | None = None
    path: str | None = None  # dotted path in the step's data ("obiettivi.0.descrizione")
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    help: str = ""


@dataclass
class Step:
    transition: str
    on: date
    data: dict[str, Any]
    reason: str | None = None


@dataclass
class ParsedRow:
    number: int  # the spreadsheet's row number (the header is row 1)
    external_id: str
    state: str | None
    comune: str | None = None
    kind: str | None = None
    parent: str | None = None
    owner: str | None = None
    steps: list[Step] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column header, Italian message)


# ----------------------------------------------------------------------------- columns


def columns(ct: CaseType, value_labels: Mapping[str, str] | None = None) -> list[Column]:
    """Every column of `ct`'s template, in order; headers are unique."""
    wf, labels = ct.workflow, value_labels or {}
    out = [Column(EXTERNAL_ID, "external_id", required=True,
                  help="Il codice con cui il caso è noto nel foglio di provenienza (o il suo numero di protocollo): "
                       "una seconda importazione dello stesso identificativo non aggiunge nulla."),
           Column(STATE, "state", "choice", required=True, choices=tuple((s.name, s.label) for s in wf.states),
                  help="Lo stato raggiunto dal caso: deve essere quello a cui portano i passi datati della riga.")]
    if not wf.district_level:
        out.append(Column(COMUNE, "comune", required=True, help="Il comune di residenza della persona."))
    if wf.kinds and not wf.kind_chosen_later():
        out.append(Column(KIND, "kind", "choice", required=True, choices=tuple(wf.kinds)))
    if ct.parent is not None:
        out.append(Column(ct.parent.label, "parent", required=True,
                          help="L'identificativo esterno con cui è stato importato il caso collegato, o il suo "
                               "numero di caso in Legami."))
    if any(t.owner_is_actor for t in wf.transitions):
        out.append(Column(OWNER, "owner", help="Il nome utente in Legami dell'operatore che ha preso in carico il "
                                               "caso (il passo che lo rende titolare è registrato a suo nome)."))
    seen: set[str] = set()
    for t in wf.transitions:
        label = t.label if t.label not in seen else f"{t.label} ({t.name})"
        seen.add(label)
        out.append(Column(f"{label}{SEP}{DATE_LABEL}", "date", "date", t.name,
                          help=f"Data in cui è stato eseguito il passo «{t.label}» (gg/mm/aaaa); vuota se il "
                               "passo non è stato eseguito." + (" Passo automatico." if t.automatic else "")))
        if t.requires_reason:
            out.append(Column(f"{label}{SEP}{REASON_LABEL}", "reason", "text", t.name,
                              help="Obbligatorio se il passo è stato eseguito."))
        if t.data is not None:
            out += [Column(f"{label}{SEP}{title}", "field", kind, t.name, path, required, choices, hint)
                    for path, title, kind, required, choices, hint in _leaves(t.data, "", "", labels)]
    return out


def _leaves(model: type[BaseModel], prefix: str, title_prefix: str, labels: Mapping[str, str],
            parent_required: bool = True) -> list[tuple]:
    found: list[tuple] = []
    for name, info in model.model_fields.items():
        annotation, optional = _strip(info.annotation)
        path, title = f"{prefix}{name}", f"{title_prefix}{info.title or name}"
        required = parent_required and info.is_required() and not optional
        hint = info.description or ""
        if _is_model(annotation):
            found += _leaves(annotation, f"{path}.", f"{title}{PATH_SEP}", labels, required)
            continue
        origin = get_origin(annotation)
        if origin in (list, tuple, set, frozenset):
            item, _ = _strip((get_args(annotation) or (str,))[0])
            if _is_model(item):
                row_title = item.model_config.get("title") or title
                for i in range(ROWS):
                    found += _leaves(item, f"{path}.{i}.", f"{row_title} {i + 1}{PATH_SEP}", labels,
                                     required and i == 0)
                continue
            found.append((path, title, "list", required, _choices(item, labels) or (),
                          (hint + " " if hint else "") + f"Più valori separati da «{LIST_SEPARATOR}»."))
            continue
        if origin is dict:
            found.append((path, title, "pairs", required, (), "Voci «chiave = valore» separate da «;»."))
        elif _is_true_literal(annotation) or annotation is bool:
            found.append((path, title, "bool", required and annotation is not bool, (("sì", "sì"), ("no", "no")),
                          hint or "sì / no"))
        elif (options := _choices(annotation, labels)) is not None:
            found.append((path, title, "choice", required, options, hint))
        elif isinstance(annotation, type) and issubclass(annotation, (date, datetime)):
            found.append((path, title, "date", required, (), hint or "gg/mm/aaaa"))
        elif annotation in (int, Decimal, float):
            found.append((path, title, "number", required, (), hint))
        else:
            found.append((path, title, "text", required, (), hint))
    return found


def _is_true_literal(annotation: Any) -> bool:
    return get_origin(annotation) is Literal and get_args(annotation) == (True,)


def _choices(annotation: Any, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values = [str(m.value) for m in annotation]
    elif get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        values = list(get_args(annotation))
    else:
        return None
    return tuple((v, labels.get(v) or v.replace("_", " ").capitalize()) for v in values)


# ----------------------------------------------------------------------------- cells -> data


def parse_row(cols: list[Column], number: int, cells: Mapping[str, Any]) -> ParsedRow:
    """A row's cells (by header) as the external id, the state, the steps (by date) and each step's data in the
    forms' nested shape; `problems` holds what no model could even be asked (an unreadable date, a value not in
    a list, a missing id), in the columns' order. Blank cells are left out, so the model reports a missing
    required field. Only the row's filled cells are walked (a row fills ~15 of a type's ~100 columns), each with
    what its column needs worked out once per column list (`_plan`)."""
    plan = _plan(cols)
    row = ParsedRow(number, "", None)
    by_step: dict[str, Step] = {}
    datas: dict[str, dict[str, Any]] = {}
    unreadable: set[str | None] = set()
    problems: list[tuple[int, str, str]] = []
    by_header = plan.by_header
    filled = []
    for h, raw in cells.items():
        entry = by_header.get(h)
        if entry is None or raw is None or raw == "" or (isinstance(raw, str) and not raw.strip()):
            continue
        filled.append((entry, raw))
    filled.sort(key=_position)
    if plan.required:
        seen = {entry.i for entry, _ in filled}
        problems += [(i, cols[i].header, "campo obbligatorio") for i in plan.required if i not in seen]
    for entry, raw in filled:
        try:
            value = entry.read(entry.col, raw)
        except ValueError as exc:
            problems.append((entry.i, entry.col.header, str(exc)))
            if entry.role == "date":
                unreadable.add(entry.transition)
            continue
        role = entry.role
        if role == "field":
            target = datas.get(entry.transition)
            if target is None:
                target = datas[entry.transition] = {}
            for part in entry.parents:
                target = target.setdefault(part, {})
            target[entry.leaf] = value
        elif role == "date":
            by_step[entry.transition] = Step(entry.transition, value, {})
        elif role == "external_id":
            row.external_id = str(value)
        elif role == "reason":
            datas.setdefault(f"reason:{entry.transition}", {})["r"] = str(value)
        elif role in _ROW_FIELDS:
            setattr(row, role, str(value))
    if problems:
        problems.sort(key=_first)
    row.problems = [(header, message) for _, header, message in problems]
    for name, step in by_step.items():
        step.data = _compact(datas.get(name, {}))
        step.reason = datas.get(f"reason:{name}", {}).get("r")
    stray = {n for n in datas if not n.startswith("reason:")} - set(by_step) - unreadable
    if stray:
        for col in cols:
            if col.role == "date" and col.transition in stray:
                row.problems.append((col.header, "il passo ha dei dati ma non la sua data"))
    row.steps = sorted(by_step.values(), key=lambda s: (s.on, plan.order[s.transition]))
    return row


def external_id_of(cols: list[Column], cells: Mapping[str, Any]) -> str:
    """The row's external id exactly as parse_row reads it ("" when blank or unreadable), without the rest of the
    row: what the load needs to know, before the row is checked, whether it is a repeat or already imported."""
    found = ""
    for entry in _plan(cols).external_ids:
        raw = cells.get(entry.col.header)
        if raw is None or raw == "" or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            found = str(entry.read(entry.col, raw))
        except ValueError:
            continue
    return found


_ROW_FIELDS = frozenset({"state", "comune", "kind", "parent", "owner"})
_ROLES = frozenset({"external_id", "date", "reason", *_ROW_FIELDS})


def _position(item: tuple[_Cell, Any]) -> int:
    return item[0].i


def _first(problem: tuple[int, str, str]) -> int:
    return problem[0]


@dataclass(frozen=True)
class _Cell:
    """What parse_row does with a column's cell: its position, how its text is read, where its value goes."""

    i: int
    col: Column
    read: Any  # (column, raw cell) -> value; ValueError with the Italian message
    role: str
    transition: str | None
    parents: tuple[str, ...]  # the path's parts before the last (a field's)
    leaf: str | None


@dataclass(frozen=True)
class _Plan:
    index: dict[str, int]  # header -> its column's position (the first, if a header repeats)
    required: tuple[int, ...]  # the fixed columns a row must fill
    order: dict[str | None, int]  # a step's date column's position: same-day steps in the columns' order
    by_header: dict[str, _Cell]  # header -> its (first) column's cell plan
    external_ids: tuple[_Cell, ...]  # the external id's column (external_id_of)


_PLANS: dict[int, tuple[list[Column], _Plan]] = {}


def _plan(cols: list[Column]) -> _Plan:
    """What parse_row needs of a column list, worked out once per list (a file's rows share one)."""
    known = _PLANS.get(id(cols))
    if known is not None and known[0] is cols:
        return known[1]
    index: dict[str, int] = {}
    for i, c in enumerate(cols):
        index.setdefault(c.header, i)
    by_header: dict[str, _Cell] = {}
    for header, i in index.items():
        c = cols[i]
        role = c.role if c.role in _ROLES else "field"  # any other column holds a field of its step's data
        parts = tuple(c.path.split(".")) if role == "field" else ()
        by_header[header] = _Cell(i, c, READERS.get(c.kind, read_text), role, c.transition, parts[:-1],
                                  parts[-1] if parts else None)
    plan = _Plan(index, tuple(i for i, c in enumerate(cols) if c.required and index[c.header] == i
                              and c.role in ("external_id", "state", "comune", "kind", "parent")),
                 {c.transition: i for i, c in enumerate(cols) if c.role == "date"}, by_header,
                 tuple(e for e in by_header.values() if e.role == "external_id"))
    if len(_PLANS) >= 32:
        _PLANS.clear()
    _PLANS[id(cols)] = (cols, plan)
    return plan


def _compact(value: Any) -> Any:
    """Numbered groups ({"0": {...}, "2": {...}}) become lists, in order (blank groups never appear)."""
    if isinstance(value, dict):
        if value and all(isinstance(k, str) and k.isdigit() for k in value):
            return [_compact(value[k]) for k in sorted(value, key=int)]
        return {k: _compact(v) if isinstance(v, dict) else v for k, v in value.items()}  # only groups nest
    return value


# ----------------------------------------------------------------------------- data -> cells


def row_cells(cols: list[Column], *, external_id: str, state: str, comune: str | None, kind: str | None,
              parent: str | None, steps: list[Step], owner: str | None = None) -> dict[str, Any]:
    """The template row of a case (the way back of `parse_row`): what an export into the template writes."""
    fixed = {"external_id": external_id, "state": state, "comune": comune, "kind": kind, "parent": parent,
             "owner": owner}
    by_step = {s.transition: s for s in steps}
    cells: dict[str, Any] = {}
    for col in cols:
        if col.role in fixed:
            value = fixed[col.role]
            if col.role == "state":
                value = dict(col.choices).get(value, value)
        elif col.transition not in by_step:
            continue
        elif col.role == "date":
            value = format_date(by_step[col.transition].on)
        elif col.role == "reason":
            value = by_step[col.transition].reason
        else:
            value = _cell(col, _get(by_step[col.transition].data, col.path))
        if value is not None and value != "":
            cells[col.header] = value
    return cells


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):
            data = data[int(part)] if part.isdigit() and int(part) < len(data) else None
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _cell(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "date":
        return format_date(value)
    if col.kind == "bool":
        return "sì" if value else "no"
    if col.kind == "list":
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if col.kind == "pairs":
        return f"{LIST_SEPARATOR} ".join(f"{k} = {v}" for k, v in value.items())
    return str(value)
