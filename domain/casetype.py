"""A case type in one place: its workflow and every fact about it that the rest of Legami reads. Pure.

`CaseType` bundles, for one measure: the workflow (states, transitions, forms, guards, deadlines, outcome),
the classes of its fields (nested paths and stored snapshots too), its indicators and their group, the
e-mails its steps send (`Notify`) and their templates, who receives its deadline reminders, which roles work
on it beyond the territorial staff (access, Oggi, calendar feed), and its demo generator. The registry
(`domain.registry`) holds them; the engine, store, pages, API, CLI, tallies, report, dashboard, Oggi, the
calendar feed and the demo read them there, and nothing else names a case type or one of its states.

Every key that binds the pieces is checked when the case type is built (`problems`) and again across
types when the registry loads (`registry_problems`): a bad declaration is refused at import with a message
naming the type and the key.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.conditions import Principal
from domain.events import Notify
from domain.fields import COMMON_FIELDS, FieldClass, FieldMap, class_by_type, nested_model
from domain.indicators import Interval, Measure, Ratio
from domain.person import Incompatibility
from domain.workflow import Role, Workflow

R = Role
TEMPLATE_PARTS = (".subject.txt", ".txt", ".html")
COMMON_TEMPLATES = Path(__file__).parent / "casetypes" / "templates"
RECIPIENT_KEYWORDS = frozenset({"owner", "ente"})  # besides role names: the case's owner, its provider


class DeclarationError(ValueError):
    """A case type whose pieces do not bind; str() names the type and the key."""


@dataclass(frozen=True)
class IndicatorGroup:
    code: str  # e.g. "patti"
    label: str  # e.g. "Patti gener-attivi"


@dataclass(frozen=True)
class ReminderRouting:
    """Who is reminded of this type's deadlines when the owner is not the answer (DOMAIN.md §9)."""

    without_owner: tuple[str, ...] = ()  # empty: the instance default (config/reminders.toml)
    district_escalation: str | None = None  # escalations of cases without a comune
    by_deadline: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> recipients


@dataclass(frozen=True)
class Audience:
    """Who works on these cases besides the territorial staff (social workers, coordinators, CSC).

    `read_by`: roles that read the cases one by one (planning office, a provider its own cases, the ASST
    assessor while the case is in `assessor_states`); `deadlines_for`: roles that answer for their deadlines
    on Oggi and in their calendar; `minors_read_by`: roles that, besides the owner and the coordinator, read
    and process a minor's case of this type (each such read is logged).
    """

    read_by: frozenset[Role] = frozenset()
    assessor_states: frozenset[str] = frozenset()
    deadlines_for: frozenset[Role] = frozenset()
    minors_read_by: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class ParentLink:
    """A case of this type is opened on a case of another type in one of `states` (an FNA application on an
    open call): the new-referral form asks for it, labelled `label`."""

    case_type: str
    states: frozenset[str]
    label: str


@dataclass(frozen=True)
class Rereferral:
    """An indicator: `transition` steps of people who had one within `days` before (e.g. re-referrals)."""

    code: str
    label: str
    transition: str
    days: int = 365


@dataclass(frozen=True)
class DeadlineIndicator:
    """An indicator: the share of this type's deadlines of `kind` met on time."""

    code: str
    label: str
    kind: str


@dataclass(frozen=True)
class Breakdowns:
    """The type-specific dimensions its indicators can be broken down by: `misura` from a data field of the
    case, `fascia_eta` from the person's age."""

    misura_field: str | None = None
    age_bands: bool = False


@dataclass(frozen=True)
class MenuItem:
    """A page of this case type's own in the main menu (e.g. the FNA calls), and who may open it: `refusal`
    gives the Italian reason a user may not (None: they may). The page enforces the same function and the
    menu lists the page exactly to those it admits (web/nav.py)."""

    label: str
    href: str
    refusal: Callable[[Principal], str | None]


DemoGenerator = Callable[..., Any]


@dataclass(frozen=True)
class CaseType:
    workflow: Workflow
    group: IndicatorGroup
    fields: Mapping[str, FieldClass] = field(default_factory=dict)
    measures: tuple[Measure, ...] = ()
    ratios: tuple[Ratio, ...] = ()
    intervals: tuple[Interval, ...] = ()
    notifications: tuple[Notify, ...] = ()
    templates: Path | None = None  # the folder of this type's e-mail templates
    reminders: ReminderRouting = ReminderRouting()
    audience: Audience = Audience()
    menu: tuple[MenuItem, ...] = ()
    parent: ParentLink | None = None
    isee_renewal_states: tuple[str, ...] = ()
    breakdowns: Breakdowns = Breakdowns()
    rereferrals: tuple[Rereferral, ...] = ()
    deadline_indicators: tuple[DeadlineIndicator, ...] = ()
    value_labels: Mapping[str, str] = field(default_factory=dict)  # enumerated values as people read them  # states whose beneficiaries renew their ISEE each year (DOMAIN §9)
    demo: DemoGenerator | None = None
    diary_kinds: Mapping[str, str] = field(default_factory=dict)  # its own kinds of diary entry (domain/diary.py)
    incompatibilities: tuple[Incompatibility, ...] = ()  # open cases of the person that exclude this type
    acts: tuple[Any, ...] = ()  # its generated acts (domain/acts.py's Act)
    required_documents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # transition -> document types
    siuss: Any = None  # domain.siuss.SiussMapping: the benefit it sends to INPS's Casellario (None: none)
    _fields: FieldMap = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields", _field_map(self))
        found = problems(self)
        if found:
            raise DeclarationError(f"tipo di caso «{self.case_type}»: " + "; ".join(found))

    @property
    def case_type(self) -> str:
        return self.workflow.case_type

    @property
    def label(self) -> str:
        return self.workflow.label

    @property
    def personal(self) -> bool:
        """A case about a person, as opposed to a district-level record (an FNA call, an adhesion)."""
        return not (self.workflow.district_level and not self.workflow.has_person)

    @property
    def field_map(self) -> FieldMap:
        return self._fields

    def template_path(self, name: str) -> Path | None:
        for folder in (self.templates, COMMON_TEMPLATES):
            if folder is not None and all((folder / f"{name}{p}").is_file() for p in TEMPLATE_PARTS):
                return folder
        return None


# ----------------------------------------------------------------------------- field classes


def recorded_fields(wf: Workflow) -> dict[str, Any]:
    """Every top-level key a declaration can record (its transitions' data and what the engine adds)."""
    found: dict[str, Any] = {}
    for t in wf.transitions:
        if t.data is not None:
            found.update({n: f for n, f in t.data.model_fields.items() if n not in found})
            found.update({n: None for n in t.data.model_computed_fields if n not in found})
        if t.computed_data is not None:
            found.update({n: f for n, f in t.computed_data.model_fields.items() if n not in found})
    if wf.outcome is not None:
        found.setdefault("esito", None)
        if wf.outcome.measure_field:
            found.setdefault(wf.outcome.measure_field, None)
    return found


def _field_map(ct: CaseType) -> FieldMap:
    top: dict[str, FieldClass] = {}
    for name, info in recorded_fields(ct.workflow).items():
        found = ct.fields.get(name) or COMMON_FIELDS.get(name)
        if found is None and info is not None:
            found = class_by_type(info.annotation, info.metadata)
        if found is None and not ct.personal:
            found = FieldClass.ADMINISTRATIVE  # a district-level record without a person holds no personal data
        if found is not None:
            top[name] = found
    nested = {k: v for k, v in ct.fields.items() if "." in k or "[]" in k}
    health = frozenset(k.rsplit(".", 1)[-1] for k, v in ct.fields.items() if v is FieldClass.HEALTH)
    return FieldMap(top, nested, health)


def unclassified(ct: CaseType) -> set[str]:
    return set(recorded_fields(ct.workflow)) - set(ct.field_map.top)


def _nested_paths(model: Any, prefix: str) -> set[str]:
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        paths.add(path)
        inner = nested_model(info.annotation)
        if inner is not None:
            list_like = "list" in str(info.annotation)
            paths |= _nested_paths(inner, path + ("[]" if list_like else ""))
    return paths


# ----------------------------------------------------------------------------- checks


def problems(ct: CaseType) -> list[str]:
    """What does not bind inside one case type (each message names the key)."""
    wf, found = ct.workflow, []
    transitions = {t.name for t in wf.transitions}
    states = {s.name for s in wf.states}
    missing = sorted(unclassified(ct))
    if missing:
        found.append(f"campi senza classe di dato: {', '.join(missing)}")
    fields = recorded_fields(wf)
    known_paths = set(fields)
    for name, info in fields.items():
        inner = nested_model(info.annotation) if info is not None else None
        if inner is not None:
            known_paths |= _nested_paths(inner, name + ("[]" if "list" in str(info.annotation) else ""))
    from domain.diary import kind_problems

    found += kind_problems(ct.diary_kinds)
    from domain.acts import act_problems

    found += act_problems(ct)
    from domain.documents import required_document_problems

    found += required_document_problems(ct.required_documents, transitions)
    for path in ct.fields:
        root = path.split(".", 1)[0].split("[", 1)[0]
        if root not in fields:
            found.append(f"classe dichiarata per un campo inesistente: {path}")
    for n in ct.notifications:
        if n.transition not in transitions:
            found.append(f"notifica su transizione inesistente: {n.transition}")
        if ct.template_path(n.template) is None:
            found.append(f"modello di e-mail mancante: {n.template} ({', '.join(TEMPLATE_PARTS)})")
    for m in ct.measures:
        found += _measure_problems(ct, m, transitions, fields)
    for iv in ct.intervals:
        if iv.case_type != ct.case_type:
            found.append(f"intervallo {iv.code}: tipo di caso {iv.case_type} diverso da {ct.case_type}")
        for t in (*iv.start, *iv.end):
            if t not in transitions:
                found.append(f"intervallo {iv.code}: transizione inesistente {t}")
        if iv.group != ct.group.code:
            found.append(f"intervallo {iv.code}: gruppo {iv.group} diverso da {ct.group.code}")
    for r in ct.ratios:
        if r.group != ct.group.code:
            found.append(f"rapporto {r.code}: gruppo {r.group} diverso da {ct.group.code}")
    kinds = set(wf.deadline_rules())
    for rr in ct.rereferrals:
        if rr.transition not in transitions:
            found.append(f"indicatore {rr.code}: transizione inesistente {rr.transition}")
    for di in ct.deadline_indicators:
        if di.kind not in kinds:
            found.append(f"indicatore {di.code}: scadenza inesistente {di.kind}")
    if ct.breakdowns.misura_field and ct.breakdowns.misura_field not in fields:
        found.append(f"disaggregazione per misura: campo inesistente {ct.breakdowns.misura_field}")
    for kind, recipients in ct.reminders.by_deadline.items():
        if kind not in kinds:
            found.append(f"promemoria per scadenza inesistente: {kind}")
        found += _recipient_problems(recipients)
    found += _recipient_problems(ct.reminders.without_owner)
    if ct.reminders.district_escalation is not None:
        found += _recipient_problems((ct.reminders.district_escalation,))
    if ct.incompatibilities and not any(g.check is _real_check() for t in wf.transitions for g in t.guards):
        found.append("incompatibilità dichiarate ma nessuna transizione le controlla (real_incompatibility_guard)")
    if ct.siuss is not None:
        found += [f"SIUSS: transizione inesistente {t}" for t in sorted(ct.siuss.transitions() - transitions)]
    for s in (*ct.audience.assessor_states, *ct.isee_renewal_states):
        if s not in states:
            found.append(f"stato inesistente: {s}")
    return found


def _measure_problems(ct: CaseType, m: Measure, transitions: set[str], fields: dict[str, Any]) -> list[str]:
    found = []
    if m.case_type != ct.case_type:
        found.append(f"indicatore {m.code}: tipo di caso {m.case_type} diverso da {ct.case_type}")
    if m.group != ct.group.code:
        found.append(f"indicatore {m.code}: gruppo {m.group} diverso da {ct.group.code}")
    for t in m.transitions:
        if t not in transitions:
            found.append(f"indicatore {m.code}: transizione inesistente {t}")
    paths = [m.field] if m.field else []
    paths += [path for path, _ in m.where]
    for path in paths:
        if path and path[0] not in fields and path[0] not in ("esito",):
            found.append(f"indicatore {m.code}: campo inesistente {'.'.join(path)}")
    return found


def _real_check():
    from domain.person import _check_real_cases

    return _check_real_cases


def _recipient_problems(recipients: tuple[str, ...]) -> list[str]:
    roles = {r.value for r in Role}
    return [f"destinatario sconosciuto: {r}" for r in recipients if r not in roles | RECIPIENT_KEYWORDS]


def registry_problems(types: list[CaseType]) -> list[str]:
    """What does not bind across case types: ratios over measures of other types, duplicate codes, groups."""
    found = []
    codes: dict[str, str] = {}
    for ct in types:
        for item in (*ct.measures, *ct.ratios, *ct.intervals, *ct.rereferrals, *ct.deadline_indicators):
            if item.code in codes:
                found.append(f"«{ct.case_type}»: codice di indicatore {item.code} già usato da «{codes[item.code]}»")
            codes[item.code] = ct.case_type
    measures = {m.code for ct in types for m in ct.measures}
    for ct in types:
        for r in ct.ratios:
            for code in (r.numerator, r.denominator):
                if code not in measures:
                    found.append(f"«{ct.case_type}»: rapporto {r.code} su indicatore inesistente {code}")
    by_type = {ct.case_type: ct for ct in types}
    for ct in types:
        if ct.parent is not None:
            parent = by_type.get(ct.parent.case_type)
            if parent is None:
                found.append(f"«{ct.case_type}»: tipo di caso collegato inesistente {ct.parent.case_type}")
            else:
                names = {s.name for s in parent.workflow.states}
                found += [f"«{ct.case_type}»: stato {s} inesistente in «{parent.case_type}»"
                          for s in sorted(ct.parent.states - names)]
    for ct in types:
        found += [f"«{ct.case_type}»: incompatibilità con un tipo di caso inesistente {i.case_type}"
                  for i in ct.incompatibilities if i.case_type not in by_type]
    labels: dict[str, str] = {}
    for ct in types:
        if labels.setdefault(ct.group.code, ct.group.label) != ct.group.label:
            found.append(f"«{ct.case_type}»: gruppo {ct.group.code} con due etichette")
    return found
