"""The synthetic demo year: every case driven through the real service, consistent and repeatable."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from domain.italian import ROME
from domain.registry import all_case_types
from domain.validation import validate_codice_fiscale
from services.demo import generate_demo
from services.tallies import compute_tallies
from services.setup import init_database
from store.db import make_engine
from store.tables import AppUser, Comune, case_t, outbox_t, person_t, transition_t

TODAY = date(2026, 11, 20)
CASE_TYPES = {ct.case_type for ct in all_case_types()}


def _demo_database(path, seed: int = 7):
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_database(url, engine)
    summary = generate_demo(engine, year=2026, seed=seed, scale=0.05, today=TODAY)
    return engine, summary


def _counts(engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(case_t.c.case_type, case_t.c.state, sa.func.count())
                            .group_by(case_t.c.case_type, case_t.c.state)).all()
    return {(t, s): n for t, s, n in rows}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    engine, summary = _demo_database(tmp_path_factory.mktemp("demo") / "d.db")
    yield engine, summary
    engine.dispose()


def test_every_case_type_is_present(demo):
    engine, summary = demo
    assert {t for t, _ in _counts(engine)} == CASE_TYPES
    assert set(summary["cases"]) == CASE_TYPES


def test_patti_are_spread_over_at_least_five_states(demo):
    engine, _ = demo
    states = {s for (t, s) in _counts(engine) if t == "patto"}
    assert len(states) >= 5, states


def test_some_patti_are_closed_with_an_outcome(demo):
    engine, _ = demo
    with engine.connect() as conn:
        outcomes = conn.execute(sa.select(case_t.c.outcome).where(
            case_t.c.case_type == "patto", case_t.c.state == "CLOSED")).scalars().all()
    assert outcomes
    assert all(o in ("positivo", "parziale", "negativo") for o in outcomes)


def test_every_person_has_a_valid_codice_fiscale(demo):
    engine, _ = demo
    with engine.connect() as conn:
        codes = conn.execute(sa.select(person_t.c.codice_fiscale)).scalars().all()
    assert codes
    for code in codes:
        assert validate_codice_fiscale(code) == code


def test_every_active_sad_case_is_served_by_an_active_provider_covering_its_comune(demo):
    engine, _ = demo
    with engine.connect() as conn:
        active = conn.execute(sa.select(case_t.c.id, case_t.c.comune_istat, case_t.c.provider_codice).where(
            case_t.c.case_type == "sad_caso", case_t.c.state == "ACTIVE")).all()
        adhesions = {row.provider_codice: row for row in conn.execute(
            sa.select(case_t.c.provider_codice, case_t.c.state, case_t.c.data)
            .where(case_t.c.case_type == "sad_adesione"))}
    assert active
    for case in active:
        adhesion = adhesions[case.provider_codice]
        assert adhesion.state == "ACTIVE", case
        assert case.comune_istat in adhesion.data["comuni"], case


def test_providers_reproduce_the_adhesion_pattern_of_the_minutes(demo):
    engine, _ = demo
    counts = _counts(engine)
    assert sum(n for (t, _), n in counts.items() if t == "sad_adesione") == 11
    assert counts[("sad_adesione", "ACTIVE")] >= 5
    assert counts.get(("sad_adesione", "INVITED"), 0) + counts.get(("sad_adesione", "ANSWERED"), 0) >= 1
    with engine.connect() as conn:
        comuni = set(conn.execute(sa.select(Comune.__table__.c.istat)).scalars())
        data = conn.execute(sa.select(case_t.c.data).where(case_t.c.case_type == "sad_adesione",
                                                           case_t.c.state == "ACTIVE")).scalars().all()
    assert set().union(*(d["comuni"] for d in data)) == comuni


def test_no_step_is_dated_after_today_and_dates_never_go_backwards_within_a_case(demo):
    engine, _ = demo
    end_of_today = datetime.combine(TODAY, datetime.max.time(), ROME)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(transition_t.c.case_id, transition_t.c.seq, transition_t.c.effective_at)
                            .order_by(transition_t.c.case_id, transition_t.c.seq)).all()
    previous: dict[int, datetime] = {}
    for case_id, _, effective_at in rows:
        when = effective_at if effective_at.tzinfo else effective_at.replace(tzinfo=timezone.utc)
        assert when <= end_of_today
        assert when >= previous.get(case_id, when)
        previous[case_id] = when


def test_the_summary_lists_demo_users_for_every_role_with_example_org_addresses(demo):
    engine, summary = demo
    users = summary["users"]
    assert len(users["social_worker"]) >= 24 and len(users["subarea_coordinator"]) == 6
    assert len(users["csc_admin"]) == 2 and len(users["planning_office"]) == 2
    assert len(users["provider"]) == 11 and users["beneficiary"] == ["beneficiario.demo"]
    assert users["evaluator"] and users["health_assessor"]
    assert all(u.startswith("as.") for u in users["social_worker"])
    assert all(u.startswith("coord.") for u in users["subarea_coordinator"])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AppUser.__table__.c.username, AppUser.__table__.c.email,
                                      AppUser.__table__.c.role, AppUser.__table__.c.provider_codice)).all()
    assert all(r.email.endswith("@example.org") for r in rows)
    assert all(r.provider_codice for r in rows if r.role == "provider")
    with engine.connect() as conn:
        transitions = conn.execute(sa.select(sa.func.count()).select_from(transition_t)).scalar_one()
    assert summary["transitions"] == transitions
    assert summary["cases_total"] == sum(_counts(engine).values())


def test_the_same_seed_gives_the_same_year_in_another_database(demo, tmp_path):
    engine, summary = demo
    other, other_summary = _demo_database(tmp_path / "again.db")
    try:
        assert _counts(other) == _counts(engine)
        assert other_summary["cases"] == summary["cases"]
        assert other_summary["transitions"] == summary["transitions"]
        assert other_summary["sad_visits"] == summary["sad_visits"]
    finally:
        other.dispose()


def test_the_demo_refuses_a_database_that_already_has_cases(demo):
    engine, _ = demo
    with pytest.raises(ValueError, match="già"):
        generate_demo(engine, year=2026, seed=7, scale=0.05, today=TODAY)


def _rome_day(instant: datetime) -> date:
    return (instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)).astimezone(ROME).date()


def test_each_step_is_recorded_on_the_day_it_took_effect_in_office_hours(demo):
    engine, _ = demo
    with engine.connect() as conn:
        rows = conn.execute(sa.select(transition_t.c.recorded_at, transition_t.c.effective_at)).all()
    assert rows
    assert [r for r in rows if _rome_day(r.recorded_at) != _rome_day(r.effective_at)] == []
    hours = {(r.recorded_at if r.recorded_at.tzinfo else r.recorded_at.replace(tzinfo=timezone.utc))
             .astimezone(ROME).hour for r in rows}
    assert min(hours) >= 9 and max(hours) <= 18


def test_a_tally_as_of_a_day_in_june_counts_the_referrals_recorded_by_then_and_no_later(demo):
    engine, _ = demo

    def referrals(as_of: date) -> int:  # SAD: the indicator with cells above the threshold at this scale
        tally = compute_tallies(engine, year=2026, as_of=as_of, by="type")
        return next(i for i in tally["indicatori"] if i["codice"] == "sad_segnalazioni")["totale"]["n"]

    in_june, at_the_end = referrals(date(2026, 6, 30)), referrals(TODAY)
    assert 0 < in_june < at_the_end


def test_only_the_last_days_mail_waits_in_the_outbox_the_past_is_recorded_as_delivered(demo):
    engine, summary = demo
    start_of_today = datetime.combine(TODAY, datetime.min.time(), ROME)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.status, outbox_t.c.created_at, outbox_t.c.sent_at)).all()
    assert {r.status for r in rows} <= {"pending", "sent"}
    older = [r for r in rows if _rome_day(r.created_at) < TODAY]
    assert older and all(r.status == "sent" and r.sent_at == r.created_at for r in older)
    assert all(r.status == "pending" for r in rows if _rome_day(r.created_at) >= start_of_today.date())
    assert any("recapitata" in note for note in summary["notes"])


def test_a_demo_on_a_database_never_initialised_is_refused_in_italian_naming_the_command(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(ValueError, match="legami init"):
            generate_demo(engine, year=2026, scale=0.05, today=TODAY)
    finally:
        engine.dispose()
