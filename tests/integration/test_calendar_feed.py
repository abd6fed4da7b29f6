"""Each person's .ics feed: valid RFC 5545, their deadlines and their role's obligations."""
from __future__ import annotations

from datetime import date

import icalendar

from services.calendar_feed import calendar_for

from .patto_steps import drive_to_active, open_patto


def events(ics: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def test_a_social_worker_subscribes_to_the_deadlines_of_her_own_cases(service, engine):
    case_id = open_patto(service, service.actor("as.rossi"))
    drive_to_active(service, case_id)
    ics = calendar_for(engine, "as.rossi", today=date(2026, 2, 10), base_url="https://legami.example.org")
    cal = icalendar.Calendar.from_ical(ics)
    assert (str(cal["version"]), str(cal["prodid"])) == ("2.0", "-//Legami//Scadenze dei casi//IT")
    found = {str(e["summary"]): e for e in events(ics)}
    monitoring = found[f"Incontro di monitoraggio – Patto gener-attivo n. {case_id}"]
    assert monitoring.decoded("dtstart") == date(2026, 3, 4)
    assert str(monitoring["url"]) == f"https://legami.example.org/casi/{case_id}"
    assert all({"uid", "dtstamp", "dtstart"} <= {k.lower() for k in e.keys()} for e in events(ics))
    assert len({str(e["uid"]) for e in events(ics)}) == len(events(ics))
    assert b"\r\n" in ics  # RFC 5545 line endings
    assert events(calendar_for(engine, "as.verdi", today=date(2026, 2, 10), base_url="x")) == []


def test_the_planning_office_feed_carries_the_district_obligations(service, engine):
    ics = calendar_for(engine, "udp.neri", today=date(2026, 8, 1), base_url="https://legami.example.org")
    summaries = [str(e["summary"]) for e in events(ics)]
    assert "Obbligo: Almeno una misura abitativa attivata entro il 30/09" in summaries
    housing = next(e for e in events(ics) if "misura abitativa" in str(e["summary"]))
    assert housing.decoded("dtstart") == date(2026, 9, 30)
    assert "Crema" in str(housing["description"])
