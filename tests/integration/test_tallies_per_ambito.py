"""One Ambito's tallies read only that Ambito's history (issue 15 item 4, the region's night): the same figures
whatever the other Ambiti hold, and the "latest step as of" aggregate restricted to the Ambito's cases before it
groups (at region size it otherwise reads the whole instance's history once per Ambito). SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from config.tally_files import load_tally_settings
from services.access import principal_for
from services.setup import ensure_user, load_ambito
from services.tallies import compute_tallies
from store import users as user_store

from .patto_steps import ASSEGNA, MONITORAGGIO, VALUTAZIONE, patto_firmato, segnalazione
from .test_tallies import build_year

AS_OF = date(2026, 11, 20)
EVERYONE = replace(load_tally_settings(), threshold=1)  # nothing hidden: every figure is compared
LODI = "098031"
BREAKDOWNS = ("sub_ambito", "comune", "type", "distretto", "totale")


@pytest.fixture
def cremasco_year_and_lodi(engine, service):
    """The Ambito di Lodi loaded beside Cremasco, empty, and Cremasco's hand-computed year (test_tallies.build_year)."""
    with engine.begin() as conn:
        ensure_user(conn, "coord.pandino", "Coord Pandino", "coord.pandino@example.org", "subarea_coordinator",
                    "Pandino")
    load_ambito(engine, "config/districts/lodi")
    with engine.begin() as conn:
        for username, role, area in (("as.lodi", "social_worker", "Lodi"), ("coord.lodi", "subarea_coordinator",
                                                                              "Lodi"),
                                     ("udp.lodi", "planning_office", None)):
            user_store.upsert_user(conn, username, username, f"{username}@example.org", role, area, None,
                                   ambito_code="lodi")
    build_year(service)
    return engine


def grow_lodi_history(service) -> None:
    """Three Lodi patti of 2026 through referral, assignment, activation, monitoring; one interrupted."""
    worker, coord = service.actor("as.lodi"), service.actor("coord.lodi")
    for k, surname in enumerate(("Galli", "Conti", "Ferri")):
        case = service.open_case(case_type="patto", actor=worker, comune_istat=LODI, effective_at=date(2026, 1, 12),
                                 data=segnalazione(surname=surname, name="Luca"))
        service.advance(case_id=case, transition="assegna", actor=coord, effective_at=date(2026, 1, 14),
                        data={**ASSEGNA, "assegnatario": "as.lodi"})
        service.advance(case_id=case, transition="avvia_redazione", actor=worker, effective_at=date(2026, 1, 20),
                        data=VALUTAZIONE)
        service.advance(case_id=case, transition="attiva", actor=worker, effective_at=date(2026, 2, 2),
                        data={**patto_firmato(), "canale": "progetto"})
        service.advance(case_id=case, transition="registra_monitoraggio", actor=worker, effective_at=date(2026, 3, 2),
                        data={**MONITORAGGIO, "ore_reciprocita": "8", "importo_erogato": "200"})
        if k == 0:
            service.advance(case_id=case, transition="interrompi", actor=coord, effective_at=date(2026, 4, 10),
                            data={"causa": "trasferimento"}, reason="trasferito in altro ambito")


def tallies(engine, ambito) -> dict:
    """Every breakdown's tallies of `ambito` as of the day, as JSON text would hold them."""
    return json.loads(json.dumps({by: compute_tallies(engine, year=2026, as_of=AS_OF, by=by, settings=EVERYONE,
                                                      ambito=ambito) for by in BREAKDOWNS}, sort_keys=True,
                                 default=str))


def referred(body: dict) -> int:
    (referrals,) = [i for i in body["totale"]["indicatori"] if i["codice"] == "patti_segnalazioni"]
    return referrals["totale"]["valore"]


def test_one_ambito_s_tallies_are_unchanged_when_another_ambito_s_history_grows(cremasco_year_and_lodi, service):
    cremasco = principal_for(cremasco_year_and_lodi, "udp.neri").ambito
    lodi = principal_for(cremasco_year_and_lodi, "udp.lodi").ambito
    before = tallies(cremasco_year_and_lodi, cremasco)
    assert referred(before) == 4 and referred(tallies(cremasco_year_and_lodi, lodi)) == 0

    grow_lodi_history(service)

    assert tallies(cremasco_year_and_lodi, cremasco) == before
    assert referred(tallies(cremasco_year_and_lodi, lodi)) == 3
    assert referred(tallies(cremasco_year_and_lodi, None)) == 7  # the instance's: both Ambiti's


def statements_of(engine, work) -> list[str]:
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return statements


def test_the_cases_per_state_of_an_ambito_group_only_that_ambito_s_steps(cremasco_year_and_lodi, service):
    """The backlog's "latest step as of" aggregate (GROUP BY case_id over case_transition) carries the Ambito's
    condition inside it, before the grouping, not only on the outer query that joins its result."""
    grow_lodi_history(service)
    lodi = principal_for(cremasco_year_and_lodi, "udp.lodi").ambito
    body = {}
    statements = statements_of(cremasco_year_and_lodi, lambda: body.update(compute_tallies(
        cremasco_year_and_lodi, year=2026, as_of=AS_OF, settings=EVERYONE, ambito=lodi)))
    grouped = [m.group(0) for s in statements
               for m in re.finditer(r"\(SELECT case_transition\.case_id[^,]*, max\(case_transition\.seq\).*?"
                                    r"GROUP BY case_transition\.case_id", s)]
    assert grouped, "the backlog's latest-step aggregate was not issued"
    assert all("case_file.ambito_code" in g for g in grouped), grouped
    backlog = {(b["tipo_caso"], b["stato"]): b["valore"] for b in body["arretrato"]}
    assert backlog == {("patto", "ACTIVE"): 2}  # Lodi's: the interrupted one is terminal, Cremasco's not counted


def test_every_read_of_the_history_for_an_ambito_names_that_ambito_s_cases_on_the_history_itself(
        cremasco_year_and_lodi, service):
    """Each statement scanning case_transition for one Ambito's tallies bounds case_transition.case_id to the
    Ambito's case ids (`= ANY(ARRAY(...))` on PostgreSQL, so the planner reads them through the (case_id, seq)
    index instead of hashing the whole history against the Ambito's cases; `IN (...)` elsewhere)."""
    grow_lodi_history(service)
    lodi = principal_for(cremasco_year_and_lodi, "udp.lodi").ambito
    for by in BREAKDOWNS:
        statements = statements_of(cremasco_year_and_lodi, lambda: compute_tallies(
            cremasco_year_and_lodi, year=2026, as_of=AS_OF, by=by, settings=EVERYONE, ambito=lodi))
        scans = [s for s in statements if re.search(r"FROM case_transition(?! AS started)\b", s)]
        among = ("case_transition.case_id = ANY(ARRAY(SELECT ambito_case.id"
                 if cremasco_year_and_lodi.dialect.name == "postgresql"
                 else "case_transition.case_id IN (SELECT ambito_case.id")
        assert len(scans) >= 5, (by, len(scans))  # measures, people, intervals, re-referrals, states
        assert [s for s in scans if among not in s] == [], by


def test_an_ambito_s_dashboard_reads_that_ambito_s_snapshot_of_the_day_once_the_night_stored_it(
        cremasco_year_and_lodi, service):
    """In an instance of several Ambiti, /cruscotto's tallies by sub-ambito come from the Ambito's own snapshot
    (ambito_tally_snapshot, the night's per-Ambito tallies) when there is one for the day, as a one-Ambito
    instance reads its snapshot; computed from the history otherwise; never another Ambito's."""
    from services.dashboard import tallies_for
    from services.tallies import materialise

    engine = cremasco_year_and_lodi
    grow_lodi_history(service)
    lodi = principal_for(engine, "udp.lodi").ambito
    cremasco = principal_for(engine, "udp.neri").ambito
    live, stored = tallies_for(engine, year=2026, as_of=AS_OF, ambito=lodi)
    assert not stored

    materialise(engine, as_of=AS_OF, ambito="lodi")

    body, stored = tallies_for(engine, year=2026, as_of=AS_OF, ambito=lodi)
    assert stored and json.loads(json.dumps(body, default=str)) == json.loads(json.dumps(live, default=str))
    assert not tallies_for(engine, year=2026, as_of=AS_OF, ambito=cremasco)[1]  # Lodi's snapshot is not Cremasco's
    assert not tallies_for(engine, year=2026, as_of=date(2026, 11, 19), ambito=lodi)[1]  # another day: computed


def test_an_ambito_s_dashboard_offers_the_years_from_its_own_first_case_not_another_ambito_s(
        cremasco_year_and_lodi, service):
    """The dashboard's years run from the Ambito's first case: a Lodi case of 2025 does not add 2025 to
    Cremasco's (and the minimum reads the Ambito's cases, not every Ambito's)."""
    from services.dashboard import dashboard_for

    engine = cremasco_year_and_lodi
    service.open_case(case_type="patto", actor=service.actor("as.lodi"), comune_istat=LODI,
                      effective_at=date(2025, 3, 1), data=segnalazione(surname="Galli", name="Luca"))
    cremasco = dashboard_for(engine, principal_for(engine, "udp.neri"), today=AS_OF)
    lodi = dashboard_for(engine, principal_for(engine, "udp.lodi"), today=AS_OF)
    assert cremasco.years == [2026]
    assert lodi.years == [2026, 2025]
