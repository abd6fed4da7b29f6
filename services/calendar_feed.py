"""Per-person calendar feed (RFC 5545): the open deadlines they answer for and the district obligations
of their role, for Outlook or Thunderbird to subscribe to."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import icalendar
from sqlalchemy.engine import Engine

from config.obligation_files import load_obligations
from domain.access import AccessDenied
from domain.errors import NotFound
from domain.obligations import Scope
from domain.registry import get_workflow
from services.access import answers_for_filter, principal_for
from services.directory import Directory
from services.obligations import obligation_overview
from store import case_queries
from store.uow import reading

PRODID = "-//Legami//Scadenze dei casi//IT"


def calendar_for(engine: Engine, username: str, *, today: date, base_url: str, horizon_days: int = 400) -> bytes:
    with reading(engine) as conn:
        directory = Directory(conn)
        user = directory.users.get(username)
        if user is None:
            raise NotFound(f"utente «{username}» inesistente o disattivato")
        try:
            principal = principal_for(conn, username)
        except AccessDenied:
            raise NotFound(f"utente «{username}» inesistente o disattivato") from None
        # the open deadlines the user answers for, within their read scope: the same rule as Oggi
        # (`domain.access.answers_for`), never a copy of it
        rows = case_queries.open_deadline_rows(conn, answers_for_filter(principal, today=today),
                                               until=today + timedelta(days=horizon_days), limit=None,
                                               ambito=principal.ambito)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Legami – {user.full_name}")
    cal.add("x-wr-timezone", "Europe/Rome")
    stamp = datetime.now(timezone.utc)
    for r in rows:
        wf = get_workflow(r.case_type)
        late = " (SCADUTA)" if r.due < today else ""
        cal.add_component(_event(
            uid=f"scadenza-{r.id}@legami", day=r.due, stamp=stamp,
            summary=f"{r.label}{late} – {wf.label} n. {r.case_id}",
            description=f"Caso {r.case_id} ({wf.label}), comune di {r.comune or '—'}. "
                        f"Termine {'normativo' if r.source == 'statutory' else 'configurato'}.",
            url=f"{base_url}/casi/{r.case_id}",
        ))
    for ob in _obligations_for(engine, user.role, today):
        cal.add_component(_event(
            uid=f"obbligo-{ob['codice']}-{ob['periodo']}@legami", day=date.fromisoformat(ob["scadenza"]),
            stamp=stamp, summary=f"Obbligo: {ob['etichetta']}",
            description="; ".join(p["mancante"] for p in ob["in_sospeso"]) or "adempiuto",
            url=f"{base_url}/obblighi/{ob['codice']}",
        ))
    return cal.to_ical()


def _obligations_for(engine: Engine, role: str, today: date) -> list[dict]:
    # per-case obligations (ISEE renewals) reach a social worker in her digest, case by case: her feed keeps
    # district-wide ones only
    mine = [o for o in load_obligations()
            if (o.owner_role == role or any(role in s.recipients for s in o.steps))
            and not (o.scope is Scope.CASE and role == "social_worker")]
    return obligation_overview(engine, as_of=today, obligations=mine) if mine else []


def _event(*, uid: str, day: date, stamp: datetime, summary: str, description: str, url: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    return event
