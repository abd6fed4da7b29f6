"""One Ambito's pages in the region against the same pages in a one-Ambito instance of the same size.

    python -m bench.region pages [--url ...region] [--single-url ...region_single] [--rounds 8]

The one-Ambito instance is built by the same generator with `--ambiti 1` (the default Cremasco alone) and as
many cases as Cremasco holds in the region, with the same average history per case; so the Ambito's users
(`as.crema.0`, `coord.crema`, `udp.cremasco`) see the same number of cases in both, and the region adds the
other 90 Ambiti's 380,000-odd cases and 28M audit rows around them. The pages and their timing are
bench/pages.py's (TestClient in process, the real engine); here the two databases alternate (A, B, A, B) so
both see the same machine load, and the figure is p95 region / p95 single per page (goal <= 1.2).
"""
from __future__ import annotations

from bench.pages import pct, run

USERS = {"social_worker": "as.crema.0", "subarea_coordinator": "coord.crema", "planning_office": "udp.cremasco"}


def prepare(url: str) -> dict:
    """The demo password for the Ambito's three users; the worker's case with the most steps."""
    import psycopg

    from services.demo_access import DEMO_PASSWORD
    from services.auth import set_password
    from store.db import make_engine

    engine = make_engine(url)
    for username in USERS.values():
        set_password(engine, username, DEMO_PASSWORD)
    engine.dispose()
    with psycopg.connect(url) as conn:
        case_id = conn.execute("SELECT c.id FROM case_file c JOIN case_transition t ON t.case_id = c.id WHERE "
                               "c.owner = %s GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1",
                               (USERS["social_worker"],)).fetchone()[0]
        cases = conn.execute("SELECT count(*) FROM case_file c JOIN comune cm ON cm.istat = c.comune_istat "
                             "WHERE cm.ambito_code = 'cremasco'").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM case_file").fetchone()[0]
    return {"logins": dict(USERS), "case_id": case_id, "ambito_cases": cases, "all_cases": total}


def snapshot(single_url: str, url: str) -> float:
    """Today's tally snapshot, materialised in the one-Ambito instance and copied into the region's instance
    snapshot, and Cremasco's own snapshot materialised in the region (the night writes them; /cruscotto only
    reads its Ambito's, so both sides read a stored body). Seconds to materialise the one-Ambito one."""
    import time

    import psycopg
    from psycopg.types.json import Jsonb

    from bench.pages import local_today  # the pages' today (Europe/Rome): date.today() is UTC's, a day behind
    # from 23:00 UTC, and then neither side found the day's snapshot and every /cruscotto view computed the tallies

    from services.tallies import materialise
    from store.db import make_engine

    engine = make_engine(single_url)
    t = time.perf_counter()
    materialise(engine, as_of=local_today())
    seconds = time.perf_counter() - t
    engine.dispose()
    with psycopg.connect(single_url) as src, psycopg.connect(url) as dst:
        as_of, computed_at, body = src.execute("SELECT as_of, computed_at, body FROM tally_snapshot WHERE as_of = "
                                               "%s", (local_today(),)).fetchone()
        dst.execute("DELETE FROM tally_snapshot WHERE as_of = %s", (as_of,))
        dst.execute("INSERT INTO tally_snapshot (as_of, computed_at, body) VALUES (%s, %s, %s)",
                    (as_of, computed_at, Jsonb(body)))
    # the region's /cruscotto reads Cremasco's own snapshot (services/dashboard.tallies_for, several Ambiti): the
    # night writes it with the per-Ambito tallies; here written for today
    engine = make_engine(url)
    materialise(engine, as_of=local_today(), ambito="cremasco")
    engine.dispose()
    return seconds


def same_night(single_url: str, url: str) -> dict:
    """Both instances as after the same night: the deadline sweep of the region's last night run on the one-Ambito
    instance too (its reminders are what the Oggi pages read as escalations: with none, the one-Ambito side read
    an empty reminder_log against the region's 70,000 rows), and the night's kept answers (the SIUSS count) for
    today on both sides (else each view of the planning office's Oggi computes the SIUSS export in full, which
    the night does not leave to the page). Seconds per step (None: already there)."""
    from datetime import date

    import psycopg

    from bench.pages import keep_night_answers
    from services.sweep import run_deadline_sweep
    from store.db import make_engine

    done: dict = {}
    with psycopg.connect(url) as conn:
        night = conn.execute("SELECT max(queued_on) FROM reminder_log WHERE deadline_id IS NOT NULL").fetchone()[0]
    with psycopg.connect(single_url) as conn:
        swept = night is not None and conn.execute("SELECT EXISTS (SELECT 1 FROM reminder_log WHERE queued_on = "
                                                   "%s)", (night,)).fetchone()[0]
    if night is not None and not swept:
        import time
        engine = make_engine(single_url)
        t = time.perf_counter()
        run_deadline_sweep(engine, as_of=night)
        done["sweep_single_s"] = round(time.perf_counter() - t, 1)
        engine.dispose()
        with psycopg.connect(single_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE reminder_log")
    done["night"] = night.isoformat() if isinstance(night, date) else None
    done["siuss_single_s"] = keep_night_answers(single_url)
    done["siuss_region_s"] = keep_cremasco(url)
    return done


def keep_cremasco(url: str) -> float | None:
    """bench.pages.keep_night_answers for Cremasco alone (the region's 91 Ambiti take ~4 min, the pages read one)."""
    import time

    import psycopg

    from bench.pages import local_today
    from config.obligation_files import load_obligations
    from services.obligations import keep_answers
    from store.db import make_engine

    today = local_today()
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM siuss_pending WHERE ambito_code = 'cremasco' AND "
                        "computed_at::date = %s)", (today,)).fetchone()[0]:
            return None
    started, engine = time.perf_counter(), make_engine(url)
    try:
        keep_answers(engine, load_obligations(), today, "cremasco")
    finally:
        engine.dispose()
    return round(time.perf_counter() - started, 1)


def compare(url: str, single_url: str, rounds: int, depth: int = 20, repeats: int = 2,
            only: str | None = None) -> dict:
    data = {"region": prepare(url), "single": prepare(single_url)}
    data["same_night"] = same_night(single_url, url)
    data["snapshot_s"] = round(snapshot(single_url, url), 1)
    samples: dict[str, dict[tuple, dict]] = {"region": {}, "single": {}}
    for _ in range(repeats):
        for which, u in (("region", url), ("single", single_url)):
            for row in run(u, data[which], rounds, depth, only=only):
                key = (row["role"], row["page"].split(" (")[0] if "caso" in row["page"] else row["page"])
                got = samples[which].setdefault(key, {"page_s": [], "raw_s": [], "status": row["status"],
                                                      "queries": row["queries"]})
                got["page_s"] += row["page_s"]
                got["raw_s"] += row["raw_s"]
    rows = []
    for key, r in samples["region"].items():
        s = samples["single"].get(key)
        if not s or not r["page_s"] or not s["page_s"]:
            rows.append({"role": key[0], "page": key[1], "missing": True, "status": r["status"]})
            continue
        p95r, p95s = pct(r["page_s"], 0.95) * 1000, pct(s["page_s"], 0.95) * 1000
        rows.append({"role": key[0], "page": key[1], "region_p50": pct(r["page_s"], 0.5) * 1000,
                     "region_p95": p95r, "single_p50": pct(s["page_s"], 0.5) * 1000, "single_p95": p95s,
                     "ratio_p95": p95r / p95s, "raw_ratio_p50": pct(r["raw_s"], 0.5) / pct(s["raw_s"], 0.5),
                     "queries": (r["queries"], s["queries"]), "n": (len(r["page_s"]), len(s["page_s"]))})
    return {"data": data, "rows": rows}
