"""Case pages: the scoped list with search, the case page (header, history, deadlines, the transitions
this user may fire now as forms generated from their declared data), and the new referral.

Routes stay thin: scope and redaction are the service layer's (ScopedCaseService, scoped_filter), the
rules are the declarations', the forms are web/forms.py's. Every form works without JavaScript (plain
POST → 303 or the page again with the errors); with htmx the transition forms swap in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from domain.access import AccessDenied, passage_offered
from domain.errors import (
    ConflictError,
    DomainError,
    EffectiveDateInvalid,
    GuardRefused,
    InvalidData,
    NotFound,
    RoleNotAllowed,
    TransitionNotAllowed,
    UnknownTransition,
)
from domain.engine import data_errors
from domain.registry import all_workflows, get_workflow
from domain.validation import FieldError
from domain.workflow import Transition, Workflow
from services import case_pages, next_steps
from services.access import authorize_open
from services.request_memo import once_per_request
from web.api_models import IdPath
from web.case_filters import PAGE_ROWS, list_query
from web.deps import CurrentUser, current_user, services
from web.case_view import FULL_STEPS, deadline_badge, history, ordered_forms, people_named, runs, with_names  # noqa: F401  (oggi imports deadline_badge from here)
from web.describe import describe_blocks
from web.acts_view import acts_context
from web.diary_view import diary_context
from web.documents_view import documents_context
from web.errors import status_of
from web.forms import (
    FormField,
    FormInput,
    apply_errors,
    build_fields,
    dedupe_ids,
    parse_effective_date,
    parse_form,
    summary,
)
from web.form_input import EFFECTIVE_HELP, EFFECTIVE_LABEL
from web.new_referral import KEPT, carried, every_problem, head_fields
from web.templating import render

router = APIRouter(include_in_schema=False)

REFUSED = (InvalidData, GuardRefused, EffectiveDateInvalid, TransitionNotAllowed, RoleNotAllowed, ConflictError,
           UnknownTransition)


# ----------------------------------------------------------------------------- helpers


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _done(request: Request, url: str) -> Response:
    if _is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _errors_of(exc: DomainError) -> tuple[list[FieldError], list[str]]:
    """(field errors, messages without a field) of a refusal."""
    if isinstance(exc, InvalidData):
        return list(exc.errors), []
    if isinstance(exc, GuardRefused):
        return [], list(exc.reasons)
    if isinstance(exc, EffectiveDateInvalid):
        return [FieldError("efficace_il", EFFECTIVE_LABEL, str(exc))], []
    if isinstance(exc, AccessDenied):
        return [], [exc.reason]
    return [], [str(exc)]


def _field_choices(engine, wf: Workflow, t: Transition, comune_istat: str | None,
                   sub_ambito: str | None) -> dict[str, list[tuple[str, str]]]:
    """Fields offered as a select instead of free text: the assignee among the sub-ambito's social workers,
    the provider among those serving the comune."""
    out: dict[str, list[tuple[str, str]]] = {}
    if t.data is None:
        return out
    if t.assigns_owner:
        out[t.assigns_owner] = case_pages.social_workers(engine, sub_ambito)
    if "ente" in t.data.model_fields:
        out["ente"] = case_pages.providers_for(engine, comune_istat if not wf.district_level else None)
    return out


@dataclass
class StepForm:
    """One transition's form as the template draws it."""

    name: str
    label: str
    action: str
    fields: list[FormField]
    extra: list[FormField]  # motivo, efficace il
    version: int | None = None
    errors: list[Any] = field(default_factory=list)  # the summary (web.forms.Problem): field errors linked, reasons
    conflict: bool = False
    secondary: bool = False  # ends the case early or suspends it (Workflow.is_secondary): styled as secondary


def step_form(engine, wf: Workflow, t: Transition, *, action: str, comune_istat: str | None,
              sub_ambito: str | None, version: int | None, values: dict[str, Any] | None = None,
              exc: DomainError | None = None, head: list[FormField] | None = None) -> StepForm:
    """`head`: inputs drawn above the form's own (the new referral's comune, kind, linked case), whose errors the
    summary links to as well."""
    values = values or {}
    choices = _field_choices(engine, wf, t, comune_istat, sub_ambito)
    fields = build_fields(t.data, values=values, choices=choices) if t.data is not None else []
    motivo = FormField("motivo", "Motivo" if t.requires_reason else "Motivo (facoltativo)", "textarea",
                       required=t.requires_reason, value=values.get("motivo", ""),
                       help="" if t.requires_reason else "Annotazione sul passo, visibile nella storia del caso.")
    efficace = FormField("efficace_il", EFFECTIVE_LABEL, "date", value=values.get("efficace_il", ""),
                         help=EFFECTIVE_HELP)
    form = StepForm(t.name, t.label, action, fields, [motivo, efficace], version,
                    secondary=not t.opening and wf.is_secondary(t))
    if exc is not None:
        field_errors, messages = _errors_of(exc)
        if head:  # the engine names the comune "comune"; the form's input is "comune_istat"
            field_errors = [FieldError("comune_istat", e.label, e.message) if e.field == "comune" else e
                            for e in field_errors]
        every = [*(head or []), *fields, motivo, efficace]
        apply_errors(every, field_errors)
        form.errors = summary(every, field_errors, messages)
        form.conflict = isinstance(exc, ConflictError)
    return form


# ----------------------------------------------------------------------------- list


@router.get("/casi")
async def case_list(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    p = request.query_params
    principal = user.principal
    today = svc.today()
    known = {wf.case_type: wf for wf in all_workflows()}
    lq = list_query(p)
    tipo, stato, comune, overdue, mine, q, limit = lq.tipo, lq.stato, lq.comune, lq.overdue, lq.mine, lq.q, lq.limit
    page_text = p.get("pagina") or ""
    number = min(int(page_text), 10**6) if page_text.isdigit() and int(page_text) > 0 and (lq.after or lq.before) \
        else 1
    f = lq.case_filter(principal)
    page = case_pages.scoped_page(svc.engine, principal, f, q=q, today=today)
    if page.previous_key is None:
        number = 1
    rows = page.rows
    for r in rows:
        r["tipo_etichetta"] = known[r["tipo"]].label
        r["badge"] = deadline_badge(r["prossima_scadenza"], today)
    stati = [(wf.label, [(f"{wf.case_type}:{s.name}", s.label) for s in wf.states])
             for wf in known.values() if not tipo or wf.case_type == tipo]
    queue = case_pages.waiting_for_assignment(svc.engine, principal, today=today) \
        if case_pages.assignment_steps(principal) else None
    filtri = {"tipo": tipo or "", "stato": f"{tipo}:{stato}" if tipo and stato else "", "comune": comune or "",
              "in_ritardo": overdue, "miei": mine, "q": q}
    keep = {**lq.kept(), **({"limit": str(limit)} if limit != PAGE_ROWS else {})}
    pages = max(1, -(-page.total // limit)) if page.total is not None else 1
    return render(request, "casi/elenco.html", {
        "casi": rows, "filtri": filtri,
        "tipi": [(wf.case_type, wf.label) for wf in known.values()],
        "stati": stati,
        "comuni": case_pages.comuni(svc.engine, principal),
        "da_assegnare": queue, "oggi": today,
        "totale": page.total, "pagina": number, "pagine": pages,
        "successiva": urlencode({**keep, "dopo": page.next_key.text(), "pagina": number + 1})
        if page.next_key else None,
        "precedente": urlencode({**keep, "prima": page.previous_key.text(), "pagina": max(number - 1, 1)})
        if page.previous_key else None,
        "prima_pagina": urlencode(keep) if page.previous_key else None,
        "nomi": case_pages.display_names(svc.engine, [r["assegnatario"] for r in rows]),
        "esporta": urlencode(lq.kept()),
    })


# ----------------------------------------------------------------------------- new referral


def _new_context(request: Request, user: CurrentUser, tipo: str | None, values: dict[str, Any] | None = None,
                 exc: DomainError | None = None, posted: FormInput | None = None) -> dict[str, Any]:
    """The new-referral page for `tipo`; `posted`: the form as posted. When the worker chose another type, what
    fits is shown again and the rest carried along (hidden) and listed; a refused one carries the same."""
    svc = services(request)
    options = case_pages.openable(user.principal)
    chosen = next(((wf, t) for wf, t in options if wf.case_type == tipo), options[0] if options else None)
    ctx: dict[str, Any] = {"tipi": [(wf.case_type, wf.label) for wf, _ in options], "modulo": None,
                           "tipo": chosen[0].case_type if chosen else "", "oggi": svc.today(), "conservati": None}
    if chosen is None:
        return ctx
    wf, t = chosen
    switched = posted is not None and posted.get("tipo_modulo") != wf.case_type
    values = values or {}
    if posted is not None:  # first what the form can show of what was posted (and kept), then the form with it
        where = posted.get("comune_istat") or None
        blank = step_form(svc.engine, wf, t, action="", comune_istat=where, version=None,
                          sub_ambito=case_pages.sub_ambito_of(svc.engine, where))
        kept = carried([*head_fields(svc.engine, user.principal, wf, {}), *blank.fields], posted, options)
        values = {**{k: v for k, v in values.items() if not k.startswith(KEPT)}, **kept.values}
        ctx["conservati"] = kept
        ctx["cambiato_da"] = next((w.label for w, _ in options if w.case_type == posted.get("tipo_modulo")), None) \
            if switched else None
    comune = values.get("comune_istat") or ""
    head = head_fields(svc.engine, user.principal, wf, values)
    form = step_form(svc.engine, wf, t, action="/casi/nuovo", comune_istat=comune or None,
                     sub_ambito=case_pages.sub_ambito_of(svc.engine, comune or None), version=None,
                     values=values, exc=exc, head=head)
    ctx.update({"modulo": form, "intestazione": head, "transizione": t, "workflow": wf})
    return ctx


@router.get("/casi/nuovo")
async def new_case_page(request: Request, user: CurrentUser = Depends(current_user)):
    ctx = _new_context(request, user, request.query_params.get("tipo"))
    return render(request, "casi/nuovo.html", ctx)


@router.get("/casi/nuovo/scelte")
async def new_case_choices(request: Request, user: CurrentUser = Depends(current_user)):
    """The choices of the new-referral form that depend on the comune (the assignee among its sub-ambito's social
    workers, the providers serving it), as {field id: [[value, label], ...]}: casi.js refills those selects when
    the comune changes, so nothing typed is lost."""
    svc = services(request)
    options = {wf.case_type: (wf, t) for wf, t in case_pages.openable(user.principal)}
    tipo = request.query_params.get("tipo")
    if tipo not in options:
        return JSONResponse({})
    wf, t = options[tipo]
    allowed = {istat for istat, _, _ in case_pages.comuni(svc.engine, user.principal)}
    comune = request.query_params.get("comune_istat") or None
    comune = comune if comune in allowed else None
    choices = _field_choices(svc.engine, wf, t, comune, case_pages.sub_ambito_of(svc.engine, comune))
    return JSONResponse({name.replace(".", "__"): [list(c) for c in found] for name, found in choices.items()})


@router.post("/casi/nuovo")
async def new_case(request: Request, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    tipo = inp.get("tipo")
    values = inp.flat()
    options = {wf.case_type: (wf, t) for wf, t in case_pages.openable(user.principal)}
    if tipo not in options or inp.get("azione") == "cambia_tipo" or inp.get("tipo_modulo") != tipo:
        # another type was chosen (htmx posts the whole form; without JavaScript, «Mostra il modulo»): its form
        # with everything typed kept, nothing recorded
        status = 200 if tipo in options else 422
        ctx = _new_context(request, user, tipo, values, posted=inp)
        if tipo not in options:
            ctx["errore_pagina"] = "scegliere un tipo di caso tra quelli proposti"
        response = render(request, "casi/nuovo.html", ctx, status_code=status)
        if _is_htmx(request) and tipo in options:
            response.headers["HX-Push-Url"] = f"/casi/nuovo?{urlencode({'tipo': tipo})}"
        return response
    wf, t = options[tipo]
    head = {f.name: f for f in head_fields(svc.engine, user.principal, wf, values)}
    data = parse_form(t.data, inp) if t.data is not None else {}
    effective, date_error = parse_effective_date(inp.get("efficace_il"))
    reason, comune = (inp.get("motivo") or "").strip() or None, inp.get("comune_istat") or None
    related = inp.get("caso_collegato") if "caso_collegato" in head else None
    problems = every_problem(t, list(head.values()), inp, data, reason=reason, date_error=date_error,
                             today=svc.today())
    try:
        if problems:
            if comune:  # scope first: a 403 is not hidden behind missing fields
                authorize_open(svc.engine, user.principal, wf.case_type, t.name, comune, policy=svc.scoped.policy)
            raise InvalidData(problems)
        case_id = svc.scoped.open_case(
            user.principal, case_type=wf.case_type, data=data, transition=t.name, comune_istat=comune,
            kind=(inp.get("tipologia") or None) if "tipologia" in head else None,
            related_case_id=int(related) if related and related.isdigit() else None,
            effective_at=effective, reason=reason)
    except (*REFUSED, AccessDenied) as exc:
        ctx = _new_context(request, user, tipo, values, exc, posted=inp)
        return render(request, "casi/nuovo.html", ctx, status_code=status_of(exc))
    return _done(request, f"/casi/{case_id}?eseguita={t.name}")


# ----------------------------------------------------------------------------- case page


def _case_context(request: Request, user: CurrentUser, case_id: int, **kw: Any) -> dict[str, Any]:
    """The case page's context; the case's keys and the user's deputyships read once for all its parts."""
    with once_per_request():
        return _page_context(request, user, case_id, **kw)


def _page_context(request: Request, user: CurrentUser, case_id: int, *, failed: str | None = None,
                  values: dict[str, Any] | None = None, exc: DomainError | None = None,
                  diary_values: dict[str, Any] | None = None, diary_errors: list | None = None) -> dict[str, Any]:
    svc, me = services(request), user.principal  # «who acts next» names a deputy as the owner (services/handover.py)
    today, detail = svc.today(), svc.scoped.read(me, case_id, steps_with_data=FULL_STEPS)  # the older: one line
    wf = get_workflow(detail["tipo"])
    allowed = svc.scoped.allowed(me, case_id)
    # the people and providers the page names, read first: the pointer names some of them again (one read each)
    names = case_pages.display_names(svc.engine, people_named(wf, detail["storia"], detail["assegnatario"]))
    providers = case_pages.provider_names(svc.engine, case_pages.providers_named(detail))
    where = next_steps.pointer(svc.engine, svc.scoped.deputised(me), ref := svc.scoped.case_ref(me, case_id))
    forms = []
    for name in allowed:
        t = wf.transition(name)
        forms.append(step_form(
            svc.engine, wf, t, action=f"/casi/{case_id}/transizioni/{name}", comune_istat=detail["comune_istat"],
            sub_ambito=detail["sub_ambito"], version=detail["versione"],
            values=values if name == failed else None, exc=exc if name == failed else None))
    dedupe_ids([(form.name, [*form.fields, *form.extra]) for form in forms])
    forward, secondary = ordered_forms(forms, [s.name for s in where.steps],
                                       {s.name for s in where.steps if s.secondary})
    page_errors: list[str] = []
    if exc is not None and failed not in allowed:
        page_errors = [str(e) for e in _errors_of(exc)[0]] + _errors_of(exc)[1]
    open_deadlines = [{**d, "badge": deadline_badge(d["scadenza"], today)}
                      for d in detail["scadenze"] if d["stato"] in ("open", "paused")]
    past_deadlines = [d for d in detail["scadenze"] if d["stato"] not in ("open", "paused")]
    eseguita = request.query_params.get("eseguita")
    done = wf.transition(eseguita).label if eseguita and wf.transition(eseguita) else None
    storia = history(wf, detail["storia"], names, providers, full=FULL_STEPS)
    documents = documents_context(svc, user, case_id)
    return diary_context(svc, user, case_id, storia, values=diary_values, errors=diary_errors) | documents | \
        {"documento_caricato": request.query_params.get("documento")} | \
        acts_context(svc, user, case_id, documents["documenti"], request.query_params.get("atto")) | {
        "caso": detail, "workflow": wf, "moduli": forms, "moduli_avanti": forward, "moduli_secondari": secondary,
        "punto": where, "storia": storia, "passi_compatti": sum(h["compatto"] for h in storia),
        "voce_scritta": request.query_params.get("voce"),
        "assegnatario_nome": names.get(detail["assegnatario"] or "", detail["assegnatario"]),
        "ente_nome": providers.get(detail["ente"], detail["ente"]) if detail["ente"] else None,
        "dati": runs(describe_blocks(wf, None, with_names(wf, detail["dati"], names, providers))),
        "scadenze_aperte": open_deadlines,
        "scadenze_chiuse": past_deadlines, "errori_pagina": page_errors, "eseguita": done,
        "conflitto": isinstance(exc, ConflictError), "oggi": today, "passaggio": passage_offered(user.principal, ref),
    }


def _fragment(request: Request, user: CurrentUser, wf: Workflow, t: Transition, case_id: int,
              version: int | None, values: dict[str, Any], exc: DomainError) -> StepForm:
    """The one form again (htmx), with the same ids it has on the full page."""
    svc = services(request)
    keys = case_pages.case_keys(svc.engine, case_id)
    allowed = svc.scoped.allowed(user.principal, case_id)
    names = allowed if t.name in allowed else [*allowed, t.name]
    forms = [step_form(svc.engine, wf, wf.transition(n), action=f"/casi/{case_id}/transizioni/{n}",
                       comune_istat=keys["comune_istat"], sub_ambito=keys["sub_ambito"], version=version,
                       values=values if n == t.name else None, exc=exc if n == t.name else None)
             for n in names]
    dedupe_ids([(f.name, [*f.fields, *f.extra]) for f in forms])
    return next(f for f in forms if f.name == t.name)


@router.get("/casi/{case_id}")
async def case_page(request: Request, case_id: IdPath, user: CurrentUser = Depends(current_user)):
    return render(request, "casi/caso.html", _case_context(request, user, case_id))


@router.post("/casi/{case_id}/transizioni/{name}")
async def fire(request: Request, case_id: IdPath, name: str, user: CurrentUser = Depends(current_user)):
    svc = services(request)
    inp = FormInput(await request.form())
    wf = get_workflow(case_pages.case_type_of(svc.engine, case_id))
    t = wf.transition(name)
    if t is None:
        raise NotFound(f"la transizione «{name}» non esiste per «{wf.label}»")
    data = parse_form(t.data, inp) if t.data is not None else {}
    effective, date_error = parse_effective_date(inp.get("efficace_il"))
    version_text = inp.get("expected_version") or ""
    version = int(version_text) if version_text.isdigit() else None
    try:
        if date_error is not None:  # with every other error of the form, not alone
            svc.scoped.allowed(user.principal, case_id)  # scope first: a 403 is not hidden behind a date error
            reason = (inp.get("motivo") or "").strip() or None
            raise InvalidData([*data_errors(t, data, reason=reason, today=svc.today()), date_error])
        svc.scoped.advance(user.principal, case_id=case_id, transition=name, data=data, effective_at=effective,
                           reason=(inp.get("motivo") or "").strip() or None, expected_version=version)
    except REFUSED as exc:
        values = inp.flat()
        status = status_of(exc)
        if _is_htmx(request):
            form = _fragment(request, user, wf, t, case_id, version, values, exc)
            return render(request, "casi/_transizione.html", {"modulo": form, "caso_id": case_id},
                          status_code=status)
        ctx = _case_context(request, user, case_id, failed=name, values=values, exc=exc)
        return render(request, "casi/caso.html", ctx, status_code=status)
    return _done(request, f"/casi/{case_id}?eseguita={name}")
