"""bench/pages runs end to end on a tiny district: a demo at 1/50 of its size cloned to 200 cases (PostgreSQL)."""
from __future__ import annotations

import sys

import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, reachable_admin

pytestmark = pytest.mark.postgres


@pytest.fixture
def bench_url():
    base = sa.engine.make_url(PG_URL.replace("postgresql+psycopg://", "postgresql://"))
    url = base.set(database="legami_bench_pages_test").render_as_string(hide_password=False)
    admin = reachable_admin(url)  # CI: a missing server fails the run, as for every other PostgreSQL test
    yield url
    with admin.connect() as conn:
        for name in ("legami_bench_pages_test", "legami_bench_demo0_02"):
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_pages_bench_clones_the_demo_to_the_size_asked_and_times_every_page(bench_url, monkeypatch, capsys):
    from bench import pages
    from store.sealed import unseal

    monkeypatch.setattr(sys, "argv", ["bench.pages", "--url", bench_url, "--cases", "200", "--scale", "0.02",
                                      "--rounds", "1", "--depth", "2"])
    pages.main()
    table = capsys.readouterr().out

    with psycopg.connect(bench_url) as conn:
        assert conn.execute("SELECT count(*) FROM case_file").fetchone()[0] == 200
        people, codes = conn.execute("SELECT count(*), count(DISTINCT codice_fiscale) FROM person").fetchone()
        assert people == codes
        # a copy's sealed health part opens for its own (case, step)
        copied = conn.execute("SELECT case_id, seq, key_id, nonce, ciphertext FROM health_data ORDER BY case_id DESC "
                              "LIMIT 1").fetchone()
        assert isinstance(unseal(copied[2], copied[3], copied[4], copied[0], copied[1]), dict)
        # the copies' cases belong to the copies' workers, who exist
        orphans = conn.execute("SELECT count(*) FROM case_file c WHERE c.owner LIKE '%%.k%%' AND NOT EXISTS "
                               "(SELECT 1 FROM app_user u WHERE u.username = c.owner)").fetchone()[0]
        assert orphans == 0
    for page in ("Oggi", "Casi, pagina 1", "Cruscotto", "Portale dell'ente", "Graduatoria FNA"):
        assert f"| {page} |" in table
    assert "HTTP" not in table  # every page answered 200
