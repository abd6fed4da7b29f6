"""SIUSS / Casellario dell'Assistenza (DOMAIN.md §15) behind the one access decision (`domain.access.siuss_refusal`):
what the CLI, the page and the district calendar call.

- `export`: for a period AAAA-MM, each case type's declared benefit (domain/siuss.py) as of the period's last day,
  compared with what was last sent for the case: an insert on grant and on every change, a cancel for a benefit
  retracted after it was sent, nothing for what INPS already has. The flow is named as INPS names flows, built,
  validated against the shipped XSD and recorded with its items in one transaction: a rerun sends nothing twice.
  Nothing to send: no flow.
- `record_outcomes`: INPS's outcome notice (POST /esiti's body) on each item of the flows it names (per
  beneficiary when it names one), and on each case as a diary entry «esito_siuss»; the whole file or nothing.
- `flows_view`, `flow_xml`: the Ufficio di Piano's page and download.
- `pending`: the benefits not yet sent as they stand, computed in full; `pending_cases` the same answer from the
  one kept by `keep_pending` (the night) plus the cases touched since (the district calendar's obligation, Oggi).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.engine import Connection, Engine

from config.settings import Settings, get_settings
from config.siuss_files import SiussCodes, load_siuss_codes
from domain import siuss as rules
from domain.access import AccessDenied, Principal, siuss_refusal
from domain.diary import SIUSS_OUTCOME
from domain.errors import InvalidData, NotFound
from domain.field_errors import FieldError
from domain.italian import ROME
from domain.registry import all_case_types
from domain.validation import validate_codice_fiscale
from services.siuss_xml import Item, build, problems
from store import diary as diary_store
from store import siuss as store
from store.uow import reading, writing


def authorize(principal: Principal) -> None:
    reason = siuss_refusal(principal)
    if reason is not None:
        raise AccessDenied(reason)


@dataclass
class Change:
    case_id: int
    case_type: str
    codice_fiscale: str
    operation: str
    benefit: rules.Benefit
    person: Any
    comune_istat: str | None


@dataclass
class ExportResult:
    period: str
    name: str | None = None  # None: nothing to send
    flow_id: int | None = None
    xml: str | None = None
    inserts: int = 0
    cancels: int = 0
    beneficiaries: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {caso, motivo}
    sina_unmapped: dict[str, list[str]] = field(default_factory=dict)  # case type -> SINA items not in its data
    provisional_note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"periodo": self.period, "flusso": self.name, "inserimenti": self.inserts,
                "cancellazioni": self.cancels, "beneficiari": self.beneficiaries, "esclusi": self.skipped,
                "sina_non_mappati": self.sina_unmapped, "mappatura_provvisoria": self.provisional_note}


def changes(conn: Connection, up_to: date, codes: SiussCodes, ambito: str | None = None,
            case_ids: set[int] | None = None) -> tuple[list[Change], list[dict[str, Any]]]:
    """What INPS does not know yet as of `up_to`: the changes to send, and the benefits that cannot go (why);
    `ambito`: only that Ambito's cases (a flow is sent by one Ambito's office); `case_ids`: only those cases."""
    sent = store.last_sent(conn, case_ids)
    found, skipped = [], []
    ids = sorted(case_ids) if case_ids is not None else None
    chunks = [None] if ids is None else [ids[k:k + store.ID_CHUNK] for k in range(0, len(ids), store.ID_CHUNK)]
    for ct in all_case_types():
        mapping = ct.siuss
        if mapping is None:
            continue
        for case, steps in (pair for chunk in chunks for pair in store.benefit_steps(
                conn, ct.case_type, mapping.transitions(), up_to, mapping.hours_register, ambito, chunk)):
            flow_steps = [rules.Step(s.transition, s.effective_on, s.data or {}) for s in steps]
            benefit = rules.benefit_of(mapping, case.id, flow_steps, up_to, f"LEGAMI-{case.id}", codes.codes)
            op = rules.operation(sent.get(case.id), benefit)
            if op is None:
                continue
            problem = rules.beneficiary_problem(case.codice_fiscale, case.provisional_code)
            if problem is not None:
                skipped.append({"caso": case.id, "motivo": problem})
                continue
            if op == rules.CANCEL:
                benefit = rules.Benefit(case.id, benefit.prestazione, rules.cancel_of(sent[case.id]))
            found.append(Change(case.id, ct.case_type, case.codice_fiscale.upper(), op, benefit, case,
                                case.comune_istat))
    return found, skipped


def _ente(settings: Settings, operator_cf: str | None) -> dict[str, str]:
    from config.district import load_district

    district = load_district(settings.district_path)
    lead = district.comune(district.lead_istat)
    cf = (operator_cf or settings.siuss_cf_operatore or "").strip().upper()
    if not cf:
        raise InvalidData([FieldError("cf_operatore", "Codice fiscale dell'operatore",
                                      "obbligatorio per INPS: --cf-operatore o LEGAMI_SIUSS_CF_OPERATORE")])
    try:
        cf = validate_codice_fiscale(cf)
    except ValueError as exc:
        raise InvalidData([FieldError("cf_operatore", "Codice fiscale dell'operatore", str(exc))]) from None
    return {"Codice": settings.siuss_codice_ente or lead.belfiore,
            "Denominazione": (settings.siuss_denominazione_ente or district.name)[:100],
            "Indirizzo": settings.siuss_belfiore_ente or lead.belfiore, "CFOperatore": cf}


def export(engine: Engine, principal: Principal, period: str, *, now: datetime | None = None,
           operator_cf: str | None = None, settings: Settings | None = None) -> ExportResult:
    """Write and record the flow of what changed by the end of `period` (AAAA-MM) since the last flow."""
    authorize(principal)
    settings = settings or get_settings()
    now = now or datetime.now(timezone.utc)
    _, last_day = rules.parse_period(period)
    period = f"{last_day:%Y-%m}"
    codes = load_siuss_codes(settings.district_path)
    ente = _ente(settings, operator_cf)
    result = ExportResult(period, provisional_note=codes.note if codes.provisional else None)
    for ct in all_case_types():
        if ct.siuss is not None and ct.siuss.sina and rules.sina_unmapped(ct.siuss):
            result.sina_unmapped[ct.case_type] = list(rules.sina_unmapped(ct.siuss))
    with writing(engine) as conn:
        store.lock_exports(conn)
        problem = rules.period_problem(period, store.last_period(conn))
        if problem is not None:
            raise InvalidData([FieldError("periodo", "Periodo", problem)])
        found, result.skipped = changes(conn, last_day, codes, principal.ambito_code)
        if not found:
            return result
        day = now.astimezone(ROME).date()
        prefix = rules.flow_name(ente["Codice"], day, 0)[:-7]
        name = rules.flow_name(ente["Codice"], day, store.flows_named_like(conn, prefix) + 1)
        region = settings.siuss_codice_regione
        items = [Item(c.codice_fiscale, rules.anagrafica(c.codice_fiscale, c.person.cognome, c.person.nome,
                                                         c.person.data_nascita),
                      {"CodiceRegione": region, "CodiceComune": c.comune_istat, "CodiceNazione": rules.ITALY}
                      if c.comune_istat else {"CodiceNazione": rules.ITALY},
                      c.operation, c.benefit.attributes, c.benefit.sina) for c in found]
        xml = build(name, ente, items)
        wrong = problems(xml)
        if wrong:
            raise ValueError("il flusso non è conforme allo schema INPS (nulla è stato registrato): " + wrong[0])
        result.flow_id = store.insert_flow(conn, {
            "name": name, "kind": rules.FLOW_TYPE, "period": period, "created_at": now.astimezone(timezone.utc),
            "created_by": principal.username, "operator_cf": ente["CFOperatore"], "xml": xml,
            "sha256": hashlib.sha256(xml.encode()).hexdigest()}, [
            {"case_id": c.case_id, "codice_fiscale": c.codice_fiscale, "operation": c.operation,
             "codice_prestazione": c.benefit.attributes["CodicePrestazione"], "attributes": c.benefit.attributes}
            for c in found])
    result.name, result.xml = name, xml
    result.inserts = sum(1 for c in found if c.operation == rules.INSERT)
    result.cancels = len(found) - result.inserts
    result.beneficiaries = len({c.codice_fiscale for c in found})
    return result


def record_outcomes(engine: Engine, principal: Principal, raw: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Record INPS's outcomes on the items of the flows named (all or nothing); {esiti, casi, respinti}.
    An outcome already recorded as it is changes nothing (a file read twice writes nothing new)."""
    authorize(principal)
    now = now or datetime.now(timezone.utc)
    entries = rules.parse_outcomes(raw)
    recorded, cases, rejected = 0, set(), 0
    with writing(engine) as conn:
        ids = store.flow_ids_by_name(conn, [e.flow for e in entries])
        unknown = sorted({e.flow for e in entries} - set(ids))
        if unknown:
            raise InvalidData([FieldError("id_flusso", "Flusso", f"flusso sconosciuto: {', '.join(unknown)}")])
        items = store.items_of_flows(conn, ids.values())
        final: dict[int, tuple[Any, rules.OutcomeEntry]] = {}  # item id -> (item, its outcome)
        # a flow's outcome first, then those naming a beneficiary, which prevail for that beneficiary
        for e in sorted(entries, key=lambda e: e.codice_fiscale is not None):
            own = [it for it in items if it.flow_id == ids[e.flow]
                   and (e.codice_fiscale is None or it.codice_fiscale == e.codice_fiscale)]
            if not own:
                raise InvalidData([FieldError("codice_fiscale", "Beneficiario",
                                              f"il flusso {e.flow} non contiene {e.codice_fiscale}")])
            final.update({it.id: (it, e) for it in own})
        for it, e in final.values():
            if (it.outcome, it.outcome_detail, it.siuss_id) == (e.code, e.detail, e.siuss_id):
                continue
            store.record_outcome(conn, it.id, {"outcome": e.code, "outcome_detail": e.detail,
                                               "siuss_id": e.siuss_id, "outcome_at": now.astimezone(timezone.utc)})
            diary_store.append(conn, it.case_id, {
                "kind": SIUSS_OUTCOME, "occurred_at": now.astimezone(timezone.utc), "participants": [],
                "text": rules.outcome_text(e.flow, e), "data_class": "social", "author": principal.username,
                "author_role": principal.role.value, "recorded_at": now.astimezone(timezone.utc),
                "supersedes": None})
            recorded += 1
            cases.add(it.case_id)
            rejected += e.code != "OK"
    return {"esiti": recorded, "casi": sorted(cases), "respinti": rejected}


def sina_unmapped() -> dict[str, list[str]]:
    """{case type label: SINA's required items its assessment data do not record} (the block is not sent)."""
    return {ct.label: list(rules.sina_unmapped(ct.siuss)) for ct in all_case_types()
            if ct.siuss is not None and ct.siuss.sina and rules.sina_unmapped(ct.siuss)}


def mapping_note(settings: Settings | None = None) -> str | None:
    """The Ambito's warning while its CodicePrestazione table is provisional (None once confirmed)."""
    codes = load_siuss_codes((settings or get_settings()).district_path)
    return codes.note if codes.provisional else None


def flows_view(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    authorize(principal)
    with reading(engine) as conn:
        rows = store.flows(conn)
    return [{"id": r.id, "nome": r.name, "tipo": r.kind, "periodo": r.period,
             "creato_il": r.created_at.astimezone(ROME) if r.created_at.tzinfo else r.created_at,
             "creato_da": r.created_by, "prestazioni": r.items, "beneficiari": r.beneficiaries,
             "inserimenti": int(r.inserts or 0), "cancellazioni": int(r.cancels or 0),
             "accettate": int(r.accepted or 0), "respinte": int(r.rejected or 0), "in_attesa": int(r.pending or 0)}
            for r in rows]


def flow_xml(engine: Engine, principal: Principal, flow_id: int) -> tuple[str, str]:
    """(name, XML) of a flow for download."""
    authorize(principal)
    with reading(engine) as conn:
        row = store.flow(conn, flow_id)
    if row is None:
        raise NotFound(f"flusso SIUSS {flow_id} inesistente")
    return row.name, row.xml


def pending(conn: Connection, up_to: date, settings: Settings | None = None,
            ambito: str | None = None) -> list[Change]:
    """The benefits whose state by `up_to` INPS does not know yet (no access check: the calendar's fact), of
    `ambito`'s cases (None: the whole instance), computed in full. A flow of that month or a later one already
    carried them (as they stood then, or newer)."""
    if _sent_already(conn, up_to):
        return []
    settings = settings or get_settings()
    return changes(conn, up_to, load_siuss_codes(settings.district_path), ambito)[0]


def _sent_already(conn: Connection, up_to: date) -> bool:
    """A flow of `up_to`'s month or a later one already carried every benefit as it stood then, or newer."""
    last = store.last_period(conn)
    return last is not None and last >= f"{up_to:%Y-%m}"


def _rules_digest(codes: SiussCodes) -> str:
    """What the answer depends on besides the data: the Ambito's CodicePrestazione table and the types' mappings."""
    mappings = sorted((ct.case_type, sorted(ct.siuss.transitions())) for ct in all_case_types() if ct.siuss)
    return hashlib.sha256(repr((sorted(codes.codes.items()), mappings)).encode()).hexdigest()


def _benefit_types() -> list[str]:
    return [ct.case_type for ct in all_case_types() if ct.siuss is not None]


def pending_cases(conn: Connection, up_to: date, ambito: str | None = None,
                  settings: Settings | None = None) -> list[int]:
    """The ids of the cases `pending(conn, up_to, ambito=ambito)` returns, without computing them all again: the
    answer kept by the last `keep_pending` for (Ambito, `up_to`), with every case touched since (a step, a flow
    item, a merge of its person) recomputed. No kept answer, or another CodicePrestazione table or mapping: the
    full computation. A case's answer depends only on its own steps, person and items, so this is `pending`'s."""
    if _sent_already(conn, up_to):
        return []
    settings = settings or get_settings()
    codes = load_siuss_codes(settings.district_path)
    kept = store.kept_pending(conn, ambito or "", up_to)
    if kept is None or kept.codes_digest != _rules_digest(codes):
        return sorted(c.case_id for c in changes(conn, up_to, codes, ambito)[0])
    touched = store.touched_since(conn, _benefit_types(), ambito,
                                  (kept.transition_mark, kept.item_mark, kept.merge_mark))
    again = {c.case_id for c in changes(conn, up_to, codes, ambito, touched)[0]} if touched else set()
    return sorted((set(kept.case_ids) - touched) | again)


def keep_pending(engine: Engine, up_to: date, ambito: str | None = None, *, now: datetime | None = None,
                 settings: Settings | None = None) -> int:
    """Compute the pending benefits as of `up_to` in full and keep them with what the computation saw (the
    nightly obligations check, before the calendar is read); how many. The marks are read first: a step
    committed meanwhile is seen twice (harmless), one committed after the full read by a transaction that was
    already open when the marks were read is missed until the next night."""
    settings = settings or get_settings()
    codes = load_siuss_codes(settings.district_path)
    with reading(engine) as conn:
        seen = store.marks(conn)
        ids = sorted(c.case_id for c in changes(conn, up_to, codes, ambito)[0])
    with writing(engine) as conn:
        store.keep_pending(conn, {
            "ambito_code": ambito or "", "up_to": up_to, "computed_at": now or datetime.now(timezone.utc),
            "transition_mark": seen[0], "item_mark": seen[1], "merge_mark": seen[2],
            "codes_digest": _rules_digest(codes), "case_ids": ids})
    return len(ids)

