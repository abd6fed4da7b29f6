"""Oggi's reads on SQLite and PostgreSQL: which of many pending cases a reader may see, asked in chunks with the
ids as one array (PostgreSQL) or an IN list (SQLite), answers what the scope alone answers."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from services.demo import generate_demo
from store.db import make_engine
from store.tables import case_t
from store.today import readable_case_ids


def test_the_readable_cases_among_many_ids_are_those_the_scope_selects_whatever_the_chunk(db_url):
    engine = make_engine(db_url)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=date(2026, 11, 20))
    scope = case_t.c.case_type == "fna_domanda"
    with engine.connect() as conn:
        every = list(conn.execute(sa.select(case_t.c.id)).scalars())
        expected = set(conn.execute(sa.select(case_t.c.id).where(scope)).scalars())
    assert expected and len(expected) < len(every)
    asked = every + [max(every) + 1000]  # an id of no case is not readable
    assert readable_case_ids(engine, scope, asked, chunk=3) == expected
    assert readable_case_ids(engine, scope, asked) == expected
    assert readable_case_ids(engine, scope, []) == set()
    engine.dispose()


def test_a_fact_over_cases_that_takes_a_scope_finds_nothing_outside_it(db_url):
    """Oggi does not ask again whether a scoped fact's cases are readable: each such fact must honour its scope."""
    from config.obligation_files import load_obligations
    from services.directory import Directory
    from services.facts import SCOPED, evidence
    from services.obligations import _next_due

    engine = make_engine(db_url)
    today = date(2026, 11, 20)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=today)
    scoped = [ob for ob in load_obligations() if ob.fact in SCOPED]
    assert scoped
    with engine.connect() as conn:
        directory = Directory(conn)
        for ob in scoped:
            [due] = _next_due(conn, ob, today) or [date(2026, 12, 31)]
            assert evidence(conn, directory, ob, due, today, scope=sa.true()), ob.code  # it finds some at all
            assert [p for p in evidence(conn, directory, ob, due, today, scope=sa.false())
                    if p.case_id is not None] == [], ob.code
    engine.dispose()


def test_the_providers_offered_for_a_comune_are_those_that_serve_it_by_name(db_url):
    """A case page's provider select: PostgreSQL filters the providers' comuni itself; same list as in Python."""
    from services.case_pages import providers_for
    from store import reference

    engine = make_engine(db_url)
    every = reference.providers(engine, by_name=True)
    served = sorted({c for p in every for c in p.comuni})
    assert every and served
    for istat in [*served, "999999"]:
        assert providers_for(engine, istat) == [(p.codice, p.nome) for p in every if istat in p.comuni], istat
    assert providers_for(engine, None) == [(p.codice, p.nome) for p in every]
    engine.dispose()


def test_the_health_parts_of_many_cases_are_read_for_exactly_those_cases(db_url):
    """The FNA ranking reads its applications' sealed health parts with the ids as one array (PostgreSQL)."""
    from store.health_store import current_of
    from store.tables import health_data_t as h

    engine = make_engine(db_url)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=date(2026, 11, 20))
    with engine.connect() as conn:
        sealed = sorted(set(conn.execute(sa.select(h.c.case_id).where(h.c.seq == 0)).scalars()))
        assert len(sealed) > 2
        assert sorted(current_of(conn, sealed)) == sealed
        assert sorted(current_of(conn, [sealed[0], sealed[-1], 10**9])) == [sealed[0], sealed[-1]]
        assert all(isinstance(v, dict) and v for v in current_of(conn, sealed).values())
    engine.dispose()


def test_the_full_names_of_many_users_are_those_of_exactly_the_users_asked(db_url):
    """Oggi and the lists name people with one read (the usernames as one array on PostgreSQL)."""
    from store.tables import AppUser
    from store.users import full_names

    engine = make_engine(db_url)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=date(2026, 11, 20))
    with engine.connect() as conn:
        every = dict(conn.execute(sa.select(AppUser.username, AppUser.full_name)).all())
    assert len(every) > 3
    assert full_names(engine, [*every, "nessuno", None]) == {u: n or u for u, n in every.items()}
    some = sorted(every)[:2]
    assert full_names(engine, some) == {u: every[u] or u for u in some} and full_names(engine, []) == {}
    engine.dispose()


def test_a_case_pointer_reads_each_name_it_gives_once_and_gives_the_same_words(db_url, monkeypatch):
    """«Who acts next» names the owner in the pointer and again in each of its steps: one read per name."""
    from collections import Counter

    from services import next_steps
    from services.access import case_ref, principal_for
    from store import users
    from store.tables import AppUser

    engine = make_engine(db_url)
    today = date(2026, 11, 20)
    generate_demo(engine, year=2026, seed=7, scale=0.05, today=today)
    with engine.connect() as conn:
        worker = conn.execute(sa.select(AppUser.username).where(AppUser.role == "social_worker")).scalars().first()
        owned = list(conn.execute(sa.select(case_t.c.id).where(case_t.c.owner.is_not(None))
                                  .order_by(case_t.c.id)).scalars())
    principal = principal_for(engine, worker)
    asked: Counter = Counter()
    real = users.full_names

    def counting(bind, usernames):
        usernames = list(usernames)
        asked.update(u for u in usernames if u)
        return real(bind, usernames)

    pointers = {}
    for case_id in owned[:25]:
        ref = case_ref(engine, case_id, today)
        asked.clear()
        monkeypatch.setattr(users, "full_names", counting)
        pointers[case_id] = next_steps.pointer(engine, principal, ref)
        monkeypatch.setattr(users, "full_names", real)
        assert asked and max(asked.values()) == 1, (case_id, asked)
        assert next_steps.pointer(engine, principal, ref) == pointers[case_id]  # the same words without the count
    engine.dispose()
