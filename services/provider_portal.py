"""The SAD provider portal (DOMAIN.md §2, §6): an accredited provider's cases, vouchers, visits, monthly log.

A provider sees only the SAD cases that chose it (`scoped_filter`) and, of each, what `read_case` leaves
for its role (identity and the operational care plan: no social notes, no health data). It acts through
`ScopedCaseService.advance`, so the declaration's roles and the "actor is the chosen provider" guard decide:
- accepting the voucher is the declared `prima_visita` step (VOUCHER_ISSUED → ACTIVE: "first visit logged",
  DOMAIN.md §6 — the declaration has no separate acceptance);
- visits are logged in the monthly register (`registra_visite`, ACTIVE → ACTIVE), which is also the monthly
  report the provider sends to CSC (due by the 10th of the following month, DOMAIN.md §6/§9).
Bad input raises the engine's InvalidData/GuardRefused before anything is written.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from domain.access import AccessDenied, Principal
from domain.errors import NotFound
from domain.italian import parse_date
from domain.registry import get_workflow
from domain.workflow import Role
from domain.casetypes.sad import ADHESION, REPORTING_STATES, SERVED_STATES, portal_refusal
from domain.casetypes.sad import SAD_CASE as SAD
from domain.casetypes.sad.workflow import Servizio
from domain.access import field_class, visible_fields
from domain.conditions import CaseRef, is_minor
from services.access import ScopedCaseService, scoped_filter
from services.case_pages import people_of
from services.queries import CaseFilter, _deadline_row, list_cases
from store import case_reads
from store import portal as portal_reads

R = Role
ACCEPT, VISITS = "prima_visita", "registra_visite"
PENDING_STATES = ("VOUCHER_ISSUED",)
REPORT_DAY = 10  # the monthly register is due by the 10th of the following month (DOMAIN.md §6)
SERVICE_LABELS = {
    Servizio.IGIENE.value: "Igiene personale",
    Servizio.PASTI.value: "Pasti",
    Servizio.AMBIENTE.value: "Cura dell'ambiente",
    Servizio.ACCOMPAGNAMENTO.value: "Accompagnamento",
    Servizio.SOCIALIZZAZIONE.value: "Socializzazione",
}
VISIT_ROWS = 4  # rows of the monthly register form


def _require(principal: Principal) -> None:
    reason = portal_refusal(principal)
    if reason is not None:
        raise AccessDenied(reason)


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _as_date(value: Any) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def report_due(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The next monthly register owed: the month after the last one sent (or the first visit's month),
    due by the 10th of the month after it. None if the case is not being served."""
    if detail["stato"] not in REPORTING_STATES:
        return None
    last: date | None = None
    first: date | None = None
    for row in detail.get("storia", []):
        dati = row.get("dati") or {}
        if row["transizione"] == VISITS and dati.get("mese"):
            last = _month_start(_as_date(dati["mese"]))
        elif row["transizione"] == ACCEPT and isinstance(dati.get("visita"), dict):
            first = _month_start(_as_date(dati["visita"].get("data")))
    month = _next_month(last) if last else first
    if month is None:
        return None
    due = _next_month(month).replace(day=REPORT_DAY)
    return {"mese": month, "scadenza": due}


def _summary(detail: dict[str, Any], today: date) -> dict[str, Any]:
    dati = detail.get("dati") or {}
    persona = detail.get("persona") or {}
    open_deadlines = [d for d in detail.get("scadenze", []) if d["stato"] == "open"]
    due = report_due(detail)
    return {
        "id": detail["id"],
        "beneficiario": " ".join(p for p in (persona.get("cognome"), persona.get("nome")) if p) or "—",
        "comune": detail.get("comune"),
        "stato": detail["stato"],
        "stato_etichetta": detail["stato_etichetta"],
        "ore_mensili": dati.get("ore_mensili"),
        "ore_settimanali": dati.get("ore_settimanali"),
        "valido_dal": dati.get("valido_dal"),
        "valido_al": dati.get("valido_al"),
        "scadenze": open_deadlines,
        "registro": due,
        "registro_in_ritardo": bool(due and due["scadenza"] < today),
    }


PORTAL_MAX = 10_000  # SAD cases of one provider listed on its portal (a provider serves tens to hundreds)
SUMMARY_KEYS = ("ore_mensili", "ore_settimanali", "valido_dal", "valido_al")


def portal(scoped: ScopedCaseService, principal: Principal) -> dict[str, Any]:
    """The provider's SAD cases: vouchers waiting for acceptance and cases being served, with deadlines.

    Set-based (a handful of statements for the whole page): each case's summary comes from the fields the
    provider may see (field classes of the declaration, as `read_case` would leave them), its open deadlines
    and its registers' months; no health data is read, so nothing is logged."""
    _require(principal)
    today = scoped.today()
    scope = scoped_filter(principal, today=today)
    rows = [r for r in list_cases(scoped.engine, CaseFilter(case_type=SAD, limit=PORTAL_MAX), today=today,
                                  scope=scope) if r["stato"] in PENDING_STATES + SERVED_STATES]
    ids = [r["id"] for r in rows]
    keys = {k.id: k for k in case_reads.people_with_keys(scoped.engine, ids)} if ids else {}
    people = people_of(scoped.engine, principal, ids, today=today) if ids else {}
    data = portal_reads.data_keys(scoped.engine, ids, SUMMARY_KEYS) if ids else {}
    deadlines = portal_reads.open_deadlines(scoped.engine, ids) if ids else {}
    steps = portal_reads.step_texts(scoped.engine, ids, {VISITS: ("mese",), ACCEPT: ("visita", "data")}) \
        if ids else {}
    pending, active = [], []
    for row in rows:
        k = keys.get(row["id"])
        ref = CaseRef(SAD, k.comune_istat, k.sub_ambito, k.owner, k.provider_codice,
                      is_minor(k.data_nascita, today), k.state, ambito=k.ambito_code) if k else None
        visible = visible_fields(principal, ref) if ref else frozenset()
        detail = {
            "id": row["id"], "stato": row["stato"], "stato_etichetta": row["stato_etichetta"],
            "comune": row["comune"], "persona": (people.get(row["id"]) or {}).get("persona"),
            "dati": {key: v for key, v in data.get(row["id"], {}).items() if field_class(SAD, key) in visible},
            "scadenze": [_deadline_row(d, today) for d in deadlines.get(row["id"], [])],
            "storia": [{"transizione": t, "dati": {"mese": v} if t == VISITS else {"visita": {"data": v}}}
                       for t, v in steps.get(row["id"], []) if v is not None],
        }
        (pending if row["stato"] in PENDING_STATES else active).append(_summary(detail, today))
    adhesions = list_cases(scoped.engine, CaseFilter(case_type=ADHESION), today=today, scope=scope)
    return {"in_attesa": pending, "attivi": active, "adesioni": adhesions, "oggi": today}


def case_page(scoped: ScopedCaseService, principal: Principal, case_id: int) -> dict[str, Any]:
    _require(principal)
    detail = scoped.read(principal, case_id)
    if detail["tipo"] != SAD:
        raise NotFound(f"il caso {case_id} non è un caso SAD")
    allowed = set(scoped.allowed(principal, case_id))
    visits = []
    for row in detail.get("storia", []):
        dati = row.get("dati") or {}
        if row["transizione"] == ACCEPT and isinstance(dati.get("visita"), dict):
            visits.append(dati["visita"])
        elif row["transizione"] == VISITS:
            visits.extend(v for v in dati.get("visite", []) if isinstance(v, dict))
    wf = get_workflow(SAD)
    return {
        "caso": detail,
        "riepilogo": _summary(detail, scoped.today()),
        "visite": visits,
        "puo_accettare": ACCEPT in allowed,
        "puo_registrare": VISITS in allowed,
        "etichetta_accetta": wf.transition(ACCEPT).label,
        "etichetta_registro": wf.transition(VISITS).label,
        "servizi": SERVICE_LABELS,
        "righe_visite": VISIT_ROWS,
    }


def _visit(form: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {
        "data": (form.get(f"{prefix}.data") or "").strip(),
        "operatore": (form.get(f"{prefix}.operatore") or "").strip(),
        "minuti": (form.get(f"{prefix}.minuti") or "").strip(),
        "servizi": [s for s in form.get(f"{prefix}.servizi", []) if s],
    }


def _blank(visit: dict[str, Any]) -> bool:
    return not (visit["data"] or visit["operatore"] or visit["minuti"] or visit["servizi"])


def _visit_day(text: str, today: date) -> date | None:
    """The visit's day as the step's effective date, when it is a valid past day (else validation speaks)."""
    try:
        d = parse_date(text)
    except ValueError:
        return None
    return d if d <= today else None


def accept_voucher(scoped: ScopedCaseService, principal: Principal, case_id: int, form: dict[str, Any],
                   expected_version: int | None) -> int:
    """Accept the voucher by logging the first visit (the declared `prima_visita` step), dated that day."""
    _require(principal)
    visit = _visit(form, "visita")
    return scoped.advance(principal, case_id=case_id, transition=ACCEPT, data={"visita": visit},
                          effective_at=_visit_day(visit["data"], scoped.today()),
                          expected_version=expected_version)


def log_visits(scoped: ScopedCaseService, principal: Principal, case_id: int, form: dict[str, Any],
               expected_version: int | None) -> int:
    """Send the month's visit register (`registra_visite`): the rows after the last filled one are ignored."""
    _require(principal)
    rows = [_visit(form, f"visite.{i}") for i in range(VISIT_ROWS)]
    while rows and _blank(rows[-1]):
        rows.pop()
    data = {"mese": (form.get("mese") or "").strip(), "visite": rows}
    return scoped.advance(principal, case_id=case_id, transition=VISITS, data=data,
                          expected_version=expected_version)
