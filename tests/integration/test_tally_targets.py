"""Targets per sub-ambito (issue 14 item 4): each row of a tally by sub-ambito has its own range, band and
year-end projection, checked against figures computed by hand on the fixture year of test_tallies.py."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.tallies import compute_tallies

from .test_tallies import NO_SUPPRESSION, build_year, pandino_team  # noqa: F401  (pandino_team: a fixture)


def test_a_sub_ambitos_target_and_projection_computed_by_hand_equal_the_output(service, engine, pandino_team):
    """Targets per sub-ambito (issue 14 item 4), apportioned by population (config/tallies.toml).

    By hand: the district's 100 patti in the project and 50-75 further ones; Crema's comuni have 45,681 of the
    district's 162,702 residents (comuni.csv), a share of 0.28077, so Crema's ranges are 28.1 (100 × 0.28077) and
    14.0-21.1. As of 20/11/2026, 324 of the year's 365 days have elapsed (0.88767 of the year): Crema's one project
    patto projects to 1 / 0.88767 = 1.1, «sotto» its 28.1; Pandino's (36,045 residents, 0.22154) to 1.1 against
    22.2. The realisation percentage is a share: Crema's range is the district's 70-75, Crema's 50.0 is «sotto»,
    and so is its projection (a percentage is not projected: 50.0)."""
    build_year(service)
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="sub_ambito", settings=NO_SUPPRESSION)
    rows = {(i["codice"], r["chiave"]): r["obiettivo"] for i in result["indicatori"] for r in i["righe"]}
    crema = rows[("patti_attivati_progetto", "Crema")]
    assert (crema["min"], crema["max"], crema["esito"]) == (28.1, 28.1, "sotto")
    assert (crema["proiezione_fine_anno"], crema["esito_proiezione"]) == (1.1, "sotto")
    assert "ripartito per popolazione (28,1% dei residenti)" in crema["fonte"]
    further = rows[("patti_attivati_ulteriori", "Crema")]
    assert (further["min"], further["max"]) == (14.0, 21.1)
    pandino = rows[("patti_attivati_progetto", "Pandino")]
    assert (pandino["min"], pandino["proiezione_fine_anno"]) == (22.2, 1.1)
    realisation = rows[("patti_realizzazione_pct", "Crema")]
    assert (realisation["min"], realisation["max"], realisation["esito"]) == (70.0, 75.0, "sotto")
    assert (realisation["proiezione_fine_anno"], realisation["esito_proiezione"]) == (50.0, "sotto")
    assert rows[("patti_attivati", "Crema")] is None  # no district target, no sub-ambito's


def test_a_target_written_for_a_sub_ambito_wins_over_the_apportioned_one(service, engine, pandino_team):
    from config.tally_files import Target

    build_year(service)
    settings = replace(NO_SUPPRESSION, area_targets={"default": {"Crema": {
        "patti_attivati_progetto": Target(1, 2, "Comitato Ristretto")}}})
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="sub_ambito", settings=settings)
    line = next(r for i in result["indicatori"] if i["codice"] == "patti_attivati_progetto" for r in i["righe"]
                if r["chiave"] == "Crema")
    assert line["obiettivo"] == {"min": 1, "max": 2, "fonte": "Comitato Ristretto", "esito": "entro",
                                 "proiezione_fine_anno": 1.1, "esito_proiezione": "entro"}
