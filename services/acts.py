"""Generated acts (DOMAIN.md §14) behind the one access decision: what the case page, the API and the CLI call.

- `offered_acts`: the acts a case's type declares for its current state that the reader may generate;
- `render_act`: one act of a case as PDF/A bytes: scope first (out of scope learns nothing), then the act and
  the state, then `domain.access.act_refusal` on the classes the act prints; only the act's declared fields
  reach the template; health data in it is logged as read before the PDF is returned.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from domain.access import AccessDenied, AccessPolicy, DEFAULT_POLICY, Principal, act_refusal, read_refusal
from domain.acts import ACT_DOC_TYPE, ACT_ORIGIN, Act, act_classes, check_inputs, find_act, offered, stored_class
from domain.errors import InvalidData, NotFound
from domain.field_errors import FieldError, italian_errors
from domain.fields import FieldClass
from domain.italian import ROME
from domain.registry import get_case_type
from reports.acts import act_pdf
from services.access import case_ref, log_health_read, redact
from services.queries import case_detail
from store import reference
from store.uow import reading


@dataclass(frozen=True)
class RenderedAct:
    case_id: int
    act: Act
    pdf: bytes
    filename: str
    data_class: FieldClass


def _today(now: datetime) -> date:
    return now.astimezone(ROME).date()


def offered_acts(engine: Engine, principal: Principal, case_id: int, *, now: datetime | None = None,
                 policy: AccessPolicy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """The acts offered in the case's state that `principal` may generate (AccessDenied out of scope)."""
    now = now or datetime.now(timezone.utc)
    with reading(engine) as conn:
        ref = case_ref(conn, case_id, _today(now))
    reason = read_refusal(principal, ref, policy)
    if reason is not None:
        raise AccessDenied(reason)
    ct = get_case_type(ref.case_type)
    return [{"atto": a.name, "titolo": a.title, "da_firmare": a.prepares, "passo": a.transition,
             "passo_etichetta": ct.workflow.transition(a.transition).label}
            for a in offered(ct, ref.state) if act_refusal(principal, ref, act_classes(ct, a), policy) is None]


def render_act(engine: Engine, principal: Principal, case_id: int, name: str, *,
               contents: dict[str, Any] | None = None, now: datetime | None = None,
               policy: AccessPolicy = DEFAULT_POLICY) -> RenderedAct:
    """The act `name` of the case as PDF/A. AccessDenied / NotFound / InvalidData, nothing logged then."""
    now = now or datetime.now(timezone.utc)
    today = _today(now)
    with reading(engine) as conn:
        ref = case_ref(conn, case_id, today)
        reason = read_refusal(principal, ref, policy)  # scope first: out of scope learns nothing of the acts
        if reason is not None:
            raise AccessDenied(reason)
        ct = get_case_type(ref.case_type)
        act = _act(ct, name)
        classes = act_classes(ct, act)
        reason = act_refusal(principal, ref, classes, policy)  # before the state: who may not issue it learns nothing
        if reason is not None:
            raise AccessDenied(reason)
        _offered_in(ct, act, ref.state)
        given = _contents(act, contents)
        detail = redact(case_detail(conn, case_id, role=principal.role, today=today,
                                    health=FieldClass.HEALTH in classes), principal, case=ref, policy=policy,
                        fresh=True)
        district = reference.district(conn)
    context = _context(ct, act, detail, given, district.name if district else "Ambito distrettuale", today)
    if context["d"].get("ente"):
        from services.case_pages import provider_names

        context["ente_nome"] = provider_names(engine).get(context["d"]["ente"])
    health = [f for f in act.fields if ct.field_map.of(f) is FieldClass.HEALTH and context["d"].get(f) is not None]
    pdf = act_pdf(act, context)
    if health:
        log_health_read(engine, principal, case_id, health, at=now, context=f"atto:{act.name}")
    filename = f"{act.filename_stem}-caso-{case_id}-{today:%Y%m%d}.pdf"
    return RenderedAct(case_id, act, pdf, filename, stored_class(ct, act))


def _act(ct: Any, name: str) -> Act:
    act = find_act(ct, name)
    if act is None:
        known = ", ".join(a.name for a in ct.acts) or "nessuno"
        raise NotFound(f"l'atto «{name}» non esiste per «{ct.label}» (disponibili: {known})")
    return act


def _offered_in(ct: Any, act: Act, state: str) -> None:
    if state not in act.states:
        states = ", ".join(sorted(ct.workflow.state(s).label for s in act.states))
        raise InvalidData([FieldError("atto", "Atto", f"«{act.title}» si genera solo nello stato: {states} "
                                      f"(il caso è «{ct.workflow.state(state).label}»)")])


def _contents(act: Act, contents: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return check_inputs(act, contents)
    except ValidationError as exc:
        raise InvalidData(italian_errors(exc, act.inputs)) from None
    except ValueError as exc:
        raise InvalidData([FieldError("contenuti", "Contenuti dell'atto", str(exc))]) from None


def _context(ct: Any, act: Act, detail: dict[str, Any], given: dict[str, Any], ambito: str,
             today: date) -> dict[str, Any]:
    data = detail.get("dati") or {}
    d = {f: data.get(f) for f in act.fields}
    d.update({k: v for k, v in given.items() if v is not None})
    step = next((h for h in reversed(detail.get("storia", [])) if h["transizione"] == act.transition), None)
    deadlines = {s["tipo"]: s["scadenza"] for s in detail.get("scadenze", []) if s["stato"] == "open"}
    persona = detail.get("persona") if act.identity else None
    return {
        "ambito": ambito, "comune": detail.get("comune"), "persona": persona, "d": d,
        "caso": {"id": detail["id"], "tipo": ct.label, "stato": detail["stato_etichetta"],
                 "protocollo": data.get("protocollo") if "protocollo" in act.fields else None},
        "passo": {"data": step["efficace_il"], "attore": step["attore"]} if step else None,
        "scadenze": deadlines, "generato_il": today, "ente_nome": None, **(act.extras(d) if act.extras else {}),
    }


def generate_act(engine: Engine, principal: Principal, case_id: int, name: str, *,
                 contents: dict[str, Any] | None = None, now: datetime | None = None,
                 policy: AccessPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Render the act and store it among the case's documents (doc_type «atto», origin «generato», its
    SHA-256 recorded by services/documents.py); what is shown of the stored document."""
    from domain.documents import CLASS_LABELS
    from services.documents import add_document, shown as shown_document
    from store import documents as documents_store

    now = now or datetime.now(timezone.utc)
    rendered = render_act(engine, principal, case_id, name, contents=contents, now=now, policy=policy)
    doc_id = add_document(engine, principal, case_id, content=rendered.pdf, filename=rendered.filename,
                          doc_type=ACT_DOC_TYPE, data_class=CLASS_LABELS[rendered.data_class], origin=ACT_ORIGIN,
                          act_name=rendered.act.name, now=now, policy=policy)
    with reading(engine) as conn:  # the row just written: no second read to log (render_act logged the act's)
        shown = shown_document(documents_store.one(conn, doc_id))
    return shown | {"atto_titolo": rendered.act.title}


def generated_acts(engine: Engine, principal: Principal, case_id: int, *, now: datetime | None = None,
                   policy: AccessPolicy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """The acts generated on the case that `principal` may read (AccessDenied out of scope)."""
    from services.documents import list_documents

    return acts_among(list_documents(engine, principal, case_id, now=now, policy=policy, context="atti"))


def acts_among(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The generated acts in a list of the case's documents (as services/documents.py shows them)."""
    return [d for d in documents if d["origine"] == ACT_ORIGIN and d["tipo"] == ACT_DOC_TYPE]
