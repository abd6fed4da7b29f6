"""Indicators from the history: a hand-computed fixture year, as-of recomputation, small-cell suppression."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from config.tally_files import load_tally_settings
from services.cases import CaseService
from services.setup import ensure_user
from services.tallies import BY, compute_tallies, materialise, read_snapshot
from tests.district_world import EXTRA_USERS, build_world

from .conftest import ROME
from .patto_steps import ASSEGNA, MONITORAGGIO, VALUTAZIONE, patto_firmato, segnalazione

NO_SUPPRESSION = replace(load_tally_settings(), threshold=1)
CREMA, PANDINO = "019035", "019067"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build_year(service: CaseService) -> dict[str, int]:
    """Four patti of 2026 (three in Crema, one in Pandino), by hand:

    P1 Crema: referred 12/01, activated 02/02 (project), monitoring 16 h and € 400, verified 20/08: objectives
       weighted 2 and 1 reached 1 and 0.5 -> rate 0.8333, positive.
    P2 Crema: referred 12/01, activated 02/02 (further pact), interrupted 10/03.
    P3 Crema: referred 12/01, archived 13/01.
    P4 Pandino: referred 12/01, activated 02/02 (project, autonomy), monitoring 10 h and € 300, verified 20/08
       with nothing reached -> rate 0, negative.
    """
    w_crema, w_pandino = service.actor("as.rossi"), service.actor("as.verdi")
    c_crema, c_pandino, system = service.actor("coord.crema"), service.actor("coord.pandino"), service.actor("sistema")
    ids = {}
    for name, comune, worker, surname in (("P1", CREMA, w_crema, "Bianchi"), ("P2", CREMA, w_crema, "Neri"),
                                          ("P3", CREMA, w_crema, "Gallo"), ("P4", PANDINO, w_pandino, "Conti")):
        ids[name] = service.open_case(case_type="patto", actor=worker, comune_istat=comune,
                                      effective_at=date(2026, 1, 12), data=segnalazione(surname=surname))
    service.advance(case_id=ids["P3"], transition="archivia", actor=w_crema, reason="doppia segnalazione",
                    effective_at=date(2026, 1, 13))
    for name, coord, worker, username, kind, channel in (
            ("P1", c_crema, w_crema, "as.rossi", "inclusione", "progetto"),
            ("P2", c_crema, w_crema, "as.rossi", "inclusione", "ulteriore"),
            ("P4", c_pandino, w_pandino, "as.verdi", "autonomia", "progetto")):
        service.advance(case_id=ids[name], transition="assegna", actor=coord, effective_at=date(2026, 1, 14),
                        data={**ASSEGNA, "assegnatario": username})
        service.advance(case_id=ids[name], transition="avvia_redazione", actor=worker, effective_at=date(2026, 1, 20),
                        data={**VALUTAZIONE, "tipologia": kind})
        service.advance(case_id=ids[name], transition="attiva", actor=worker, effective_at=date(2026, 2, 2),
                        data={**patto_firmato(), "canale": channel})
    service.advance(case_id=ids["P2"], transition="interrompi", actor=c_crema, effective_at=date(2026, 3, 10),
                    data={"causa": "trasferimento"}, reason="trasferito in altro ambito")
    for name, worker, hours, euro, shares in (("P1", w_crema, "16", "400", ["1", "0.5"]),
                                              ("P4", w_pandino, "10", "300", ["0", "0"])):
        service.advance(case_id=ids[name], transition="registra_monitoraggio", actor=worker,
                        effective_at=date(2026, 3, 2),
                        data={**MONITORAGGIO, "ore_reciprocita": hours, "importo_erogato": euro})
        service.advance(case_id=ids[name], transition="avvia_verifica", actor=system, effective_at=date(2026, 7, 31))
        service.advance(case_id=ids[name], transition="chiudi", actor=worker, effective_at=date(2026, 8, 20),
                        data={"raggiungimento": shares, "relazione": "verifica finale"})
    return ids


@pytest.fixture
def pandino_team(engine):
    with engine.begin() as conn:
        ensure_user(conn, "coord.pandino", "Coord Pandino", "coord.pandino@example.org", "subarea_coordinator",
                    "Pandino")


def figures(result: dict) -> dict[str, dict[str, object]]:
    """code -> {"totale": value, "<row>": value, ...}"""
    table = {}
    for i in result["indicatori"]:
        table[i["codice"]] = {"totale": i["totale"]["valore"], **{r["chiave"]: r["valore"] for r in i["righe"]}}
    return table


def test_a_fixture_year_gives_the_hand_computed_indicators(service, engine, pandino_team):
    build_year(service)
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="sub_ambito", settings=NO_SUPPRESSION)
    got = figures(result)
    expected = {
        "patti_segnalazioni": {"totale": 4, "Crema": 3, "Pandino": 1},
        "patti_attivati": {"totale": 3, "Crema": 2, "Pandino": 1},
        "patti_attivati_progetto": {"totale": 2, "Crema": 1, "Pandino": 1},
        "patti_attivati_ulteriori": {"totale": 1, "Crema": 1},
        "patti_conclusi": {"totale": 3, "Crema": 2, "Pandino": 1},
        "patti_esito_positivo": {"totale": 1, "Crema": 1},
        "patti_esito_parziale": {"totale": 0},
        "patti_esito_negativo": {"totale": 1, "Pandino": 1},
        "patti_interrotti": {"totale": 1, "Crema": 1},
        "patti_rinunce": {"totale": 0},
        "patti_ore_reciprocita": {"totale": 26.0, "Crema": 16.0, "Pandino": 10.0},
        "patti_euro_erogati": {"totale": 700.0, "Crema": 400.0, "Pandino": 300.0},
        "patti_realizzazione_pct": {"totale": 33.3, "Crema": 50.0, "Pandino": 0.0},
    }
    for code, values in expected.items():
        assert got[code] == values, code
    assert got["patti_tasso_medio"]["totale"] == pytest.approx((0.8333 + 0) / 2, abs=1e-4)
    assert got["patti_tasso_medio"]["Crema"] == 0.8333
    assert got["patti_tasso_medio"]["Pandino"] == 0.0

    by_kind = figures(compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="type",
                                      settings=NO_SUPPRESSION))
    assert by_kind["patti_attivati"] == {"totale": 3, "inclusione": 2, "autonomia": 1}

    realisation = next(i for i in result["indicatori"] if i["codice"] == "patti_realizzazione_pct")
    assert realisation["obiettivo"]["esito"] == "sotto"  # 33.3% against 70-75%
    intervals = {i["codice"]: i for i in result["intervalli"]}
    to_activation = intervals["patti_giorni_segnalazione_attivazione"]["lordo"]
    assert to_activation["totale"] == {"casi": 3, "mediana": 21.0, "p90": 21.0, "soppresso": False}  # 12/01 -> 02/02
    assert to_activation["Pandino"] == {"casi": 1, "mediana": 21.0, "p90": 21.0, "soppresso": False}
    assert intervals["patti_giorni_attivazione_verifica"]["lordo"]["totale"]["mediana"] == 199.0  # 02/02 -> 20/08
    assert [b for b in result["arretrato"] if b["tipo_caso"] == "patto"] == []  # all four are closed


def test_suspension_time_is_taken_out_of_the_net_interval(service, engine, pandino_team):
    ids = build_year(service)
    del ids
    worker = service.actor("as.rossi")
    case_id = service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=date(2026, 4, 1),
                                data=segnalazione(surname="Ferri"))
    service.advance(case_id=case_id, transition="assegna", actor=service.actor("coord.crema"), data=ASSEGNA,
                    effective_at=date(2026, 4, 2))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                    effective_at=date(2026, 4, 3))
    service.advance(case_id=case_id, transition="attiva", actor=worker, effective_at=date(2026, 4, 6),
                    data={**patto_firmato(start="06/04/2026", end="06/08/2026"), "firmato_il": "06/04/2026"})
    service.advance(case_id=case_id, transition="sospendi", actor=worker, reason="ricovero",
                    effective_at=date(2026, 5, 1))
    service.advance(case_id=case_id, transition="riprendi", actor=worker, effective_at=date(2026, 5, 21))
    service.advance(case_id=case_id, transition="avvia_verifica", actor=service.actor("sistema"),
                    effective_at=date(2026, 8, 6))
    service.advance(case_id=case_id, transition="chiudi", actor=worker, effective_at=date(2026, 8, 10),
                    data={"raggiungimento": ["1", "1"], "relazione": "obiettivi raggiunti"})
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="comune", settings=NO_SUPPRESSION)
    interval = next(i for i in result["intervalli"] if i["codice"] == "patti_giorni_attivazione_verifica")
    # Crema: P1 199 days, the new pact 06/04 -> 10/08 = 126 days gross, 106 net of 20 days suspended
    assert interval["lordo"]["Crema"] == {"casi": 2, "mediana": 162.5, "p90": 191.7, "soppresso": False}
    assert interval["netto_sospensioni"]["Crema"]["mediana"] == 152.5


def test_recomputing_a_past_day_gives_the_snapshot_stored_that_day(db_url, engine, pandino_team):
    clock = Clock(datetime(2026, 3, 1, 18, 0, tzinfo=ROME))
    service = CaseService(engine, clock=clock)
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    first = service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=date(2026, 2, 20),
                              data=segnalazione())
    service.advance(case_id=first, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 2, 25))
    stored = materialise(engine, as_of=date(2026, 3, 1))
    assert figures(stored["sub_ambito"])["patti_segnalazioni"]["totale"] is None  # 1 person: suppressed

    clock.now = datetime(2026, 3, 5, 9, 0, tzinfo=ROME)  # days later, a referral of 27/02 is recorded after the fact
    service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=date(2026, 2, 27),
                      data=segnalazione(surname="Neri"))
    assert snapshot_equal(read_snapshot(engine, as_of=date(2026, 3, 1)),
                          {by: compute_tallies(engine, year=2026, as_of=date(2026, 3, 1), by=by)
                           for by in ("sub_ambito", "comune", "type")})
    today = compute_tallies(engine, year=2026, as_of=date(2026, 3, 5), by="sub_ambito", settings=NO_SUPPRESSION)
    assert figures(today)["patti_segnalazioni"]["totale"] == 2
    before = compute_tallies(engine, year=2026, as_of=date(2026, 3, 1), by="sub_ambito", settings=NO_SUPPRESSION)
    assert figures(before)["patti_segnalazioni"]["totale"] == 1


def snapshot_equal(a: dict, b: dict) -> bool:
    import json

    return json.loads(json.dumps(a, sort_keys=True)) == json.loads(json.dumps(b, sort_keys=True, default=str))


def test_cells_under_five_people_are_suppressed_everywhere(service, engine, pandino_team):
    build_year(service)
    for by in ("sub_ambito", "comune", "type"):
        result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by=by)
        for indicator in result["indicatori"] + result["scadenze"]:
            for cell in [indicator["totale"], *indicator["righe"]]:
                if cell["soppresso"]:
                    assert (cell["valore"], cell["n"]) == (None, None)
                else:
                    assert cell["n"] is None or cell["n"] == 0 or cell["n"] >= 5, (by, indicator["codice"], cell)
    suppressed = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20))
    assert figures(suppressed)["patti_segnalazioni"] == {"totale": None, "Crema": None, "Pandino": None}
    realisation = next(i for i in suppressed["indicatori"] if i["codice"] == "patti_realizzazione_pct")
    assert all(cell["soppresso"] for cell in [realisation["totale"], *realisation["righe"]])
    for interval in suppressed["intervalli"]:  # medians over 1-4 people are those people's own figures
        if interval["codice"].startswith("patti_"):
            for stats in [*interval["lordo"].values(), *interval["netto_sospensioni"].values()]:
                assert stats == {"casi": None, "mediana": None, "p90": None, "soppresso": True}


def test_a_single_hidden_cell_hides_its_complement_too(service, engine, pandino_team):
    build_year(service)
    settings = replace(load_tally_settings(), threshold=2)  # Crema 3 people shown, Pandino 1 hidden...
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), settings=settings)
    referrals = next(i for i in result["indicatori"] if i["codice"] == "patti_segnalazioni")
    assert referrals["totale"]["valore"] == 4
    assert {r["chiave"]: r["soppresso"] for r in referrals["righe"]} == {"Crema": True, "Pandino": True}


def test_aggregates_carry_no_names_or_codici_fiscali(service, engine, pandino_team):
    import json

    build_year(service)
    text = json.dumps(compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="comune",
                                      settings=NO_SUPPRESSION))
    for forbidden in ("Bianchi", "Neri", "Conti", "Gallo", "BNCLCU"):
        assert forbidden not in text


def test_every_state_to_state_step_has_its_median_and_p90(service, engine, pandino_team):
    build_year(service)
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), settings=NO_SUPPRESSION)
    steps = {(i["da"], i["a"]): (i["casi"], i["mediana"], i["p90"])
             for i in result["intervalli_stati"] if i["tipo_caso"] == "patto"}
    assert steps == {
        ("REFERRED", "INTAKE"): (3, 2.0, 2.0),           # 12/01 -> 14/01
        ("REFERRED", "ARCHIVED"): (1, 1.0, 1.0),         # P3: 12/01 -> 13/01
        ("INTAKE", "DRAFTING"): (3, 6.0, 6.0),           # 14/01 -> 20/01
        ("DRAFTING", "ACTIVE"): (3, 13.0, 13.0),         # 20/01 -> 02/02
        ("ACTIVE", "INTERRUPTED"): (1, 36.0, 36.0),      # P2: 02/02 -> 10/03
        ("ACTIVE", "ACTIVE"): (2, 28.0, 28.0),           # monitoring 02/02 -> 02/03
        ("ACTIVE", "UNDER_REVIEW"): (2, 151.0, 151.0),   # 02/03 -> 31/07
        ("UNDER_REVIEW", "CLOSED"): (2, 20.0, 20.0),     # 31/07 -> 20/08
    }
    hidden = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20))["intervalli_stati"]
    assert all(i["soppresso"] and i["mediana"] is None for i in hidden if i["tipo_caso"] == "patto")


def test_a_person_referred_again_within_twelve_months_is_a_re_referral(service, engine, pandino_team):
    worker = service.actor("as.rossi")
    for when, surname in ((date(2025, 3, 3), "Bianchi"),   # first referral of Bianchi
                          (date(2026, 2, 2), "Bianchi"),   # 336 days later: a re-referral
                          (date(2025, 1, 7), "Neri"),      # first referral of Neri
                          (date(2026, 2, 2), "Neri"),      # 391 days later: not within 12 months
                          (date(2026, 3, 2), "Conti")):    # first ever
        service.open_case(case_type="patto", actor=worker, comune_istat=CREMA, effective_at=when,
                          data=segnalazione(surname=surname))
    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), settings=NO_SUPPRESSION)
    assert figures(result)["patti_risegnalazioni_12m"] == {"totale": 1, "Crema": 1}
    overall = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by="totale", settings=NO_SUPPRESSION)
    assert figures(overall)["patti_risegnalazioni_12m"] == {"totale": 1}
    assert figures(result)["patti_segnalazioni"]["totale"] == 3


# ----------------------------------------------------------------------------- suppression counts people


def one_person_many_patti(service, count: int, *, comune: str = CREMA, surname: str = "Bianchi",
                          activate: bool = False) -> list[int]:
    """`count` patti of the same person (same codice fiscale), referred 12/01/2026; each one assigned, drafted and
    activated on 02/02 when `activate`. Every referral brings its own deadlines."""
    worker = service.actor("as.rossi" if comune == CREMA else "as.verdi")
    coord = service.actor("coord.crema" if comune == CREMA else "coord.pandino")
    ids = [service.open_case(case_type="patto", actor=worker, comune_istat=comune, effective_at=date(2026, 1, 12),
                             data=segnalazione(surname=surname)) for _ in range(count)]
    for case_id in ids if activate else ():
        service.advance(case_id=case_id, transition="assegna", actor=coord, effective_at=date(2026, 1, 14),
                        data={**ASSEGNA, "assegnatario": worker.username})
        service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, effective_at=date(2026, 1, 20),
                        data=VALUTAZIONE)
        service.advance(case_id=case_id, transition="attiva", actor=worker, effective_at=date(2026, 2, 2),
                        data=patto_firmato())
    return ids


def deadline_cells(result: dict, code: str = "scadenze_configured") -> dict[str, dict]:
    series = next(s for s in result["scadenze"] if s["codice"] == code)
    rows = {r["chiave"]: {k: v for k, v in r.items() if k != "chiave"} for r in series["righe"]}
    return {"totale": series["totale"], **rows}


def test_deadlines_of_one_person_are_hidden_however_many_they_are(service, engine):
    one_person_many_patti(service, 9)

    cells = deadline_cells(compute_tallies(engine, year=2026, as_of=date(2026, 11, 20)))

    assert cells["Crema"] == {"valore": None, "n": None, "soppresso": True}
    assert cells["totale"] == {"valore": None, "n": None, "soppresso": True}


def test_deadlines_of_five_people_are_shown_with_the_number_of_people(service, engine):
    for surname in ("Bianchi", "Neri", "Gallo", "Conti", "Ferri"):
        one_person_many_patti(service, 2, surname=surname)

    cells = deadline_cells(compute_tallies(engine, year=2026, as_of=date(2026, 11, 20)))

    assert cells["Crema"]["soppresso"] is False and cells["Crema"]["n"] == 5
    assert cells["Crema"]["valore"] is not None


def test_a_single_hidden_deadline_cell_hides_its_complement_too(service, engine, pandino_team):
    for surname in ("Bianchi", "Neri", "Gallo", "Conti", "Ferri"):
        one_person_many_patti(service, 1, surname=surname)
    one_person_many_patti(service, 9, comune=PANDINO, surname="Riva")  # one person, many deadlines

    cells = deadline_cells(compute_tallies(engine, year=2026, as_of=date(2026, 11, 20)))

    assert cells["totale"]["soppresso"] is False and cells["totale"]["n"] == 6
    assert cells["Pandino"]["soppresso"] is True
    assert cells["Crema"]["soppresso"] is True  # else Pandino's share would follow from the total


def test_backlog_intervals_and_steps_of_one_person_are_hidden_however_many_cases(service, engine):
    one_person_many_patti(service, 6, activate=True)

    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20))

    backlog = next(b for b in result["arretrato"] if (b["tipo_caso"], b["stato"]) == ("patto", "ACTIVE"))
    assert backlog["soppresso"] is True and backlog["valore"] is None
    interval = next(i for i in result["intervalli"] if i["codice"] == "patti_giorni_segnalazione_attivazione")
    assert interval["lordo"]["Crema"]["soppresso"] is True and interval["lordo"]["totale"]["soppresso"] is True
    step = next(s for s in result["intervalli_stati"] if (s["tipo_caso"], s["da"], s["a"]) == ("patto", "DRAFTING",
                                                                                                 "ACTIVE"))
    assert step["soppresso"] is True and step["mediana"] is None


def test_backlog_intervals_and_steps_of_five_people_are_shown(service, engine):
    for surname in ("Bianchi", "Neri", "Gallo", "Conti", "Ferri"):
        one_person_many_patti(service, 1, surname=surname, activate=True)

    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20))

    backlog = next(b for b in result["arretrato"] if (b["tipo_caso"], b["stato"]) == ("patto", "ACTIVE"))
    assert backlog["valore"] == 5 and backlog["soppresso"] is False
    interval = next(i for i in result["intervalli"] if i["codice"] == "patti_giorni_segnalazione_attivazione")
    assert interval["lordo"]["Crema"] == {"casi": 5, "mediana": 21.0, "p90": 21.0, "soppresso": False}
    step = next(s for s in result["intervalli_stati"] if (s["tipo_caso"], s["da"], s["a"]) == ("patto", "DRAFTING",
                                                                                                 "ACTIVE"))
    assert (step["casi"], step["mediana"], step["soppresso"]) == (5, 13.0, False)


def test_one_persons_cases_of_two_kinds_are_one_person_in_a_cell(service, engine):
    first, _ = one_person_many_patti(service, 2)  # the second stays a referral, of no kind yet
    worker = service.actor("as.rossi")
    service.advance(case_id=first, transition="assegna", actor=service.actor("coord.crema"),
                    effective_at=date(2026, 1, 14), data=ASSEGNA)
    service.advance(case_id=first, transition="avvia_redazione", actor=worker, effective_at=date(2026, 1, 20),
                    data={**VALUTAZIONE, "tipologia": "autonomia"})
    two = replace(load_tally_settings(), threshold=2)

    result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), settings=two)

    referrals = next(i for i in result["indicatori"] if i["codice"] == "patti_segnalazioni")
    assert referrals["totale"] == {"valore": None, "n": None, "soppresso": True}
    assert [(r["chiave"], r["soppresso"]) for r in referrals["righe"]] == [("Crema", True)]


def test_every_cell_of_a_measure_about_people_counts_its_people_in_every_breakdown(service, engine):
    with engine.begin() as conn:
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    build_world(service)  # patti, SAD, FNA applications (measure, birth year), calls and adhesions
    one = replace(load_tally_settings(), threshold=1)
    for by in BY:
        result = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), by=by, settings=one)
        for indicator in result["indicatori"]:
            if indicator["tipo_caso"] in ("patto", "sad_caso", "fna_domanda") and indicator["totale"]["n"]:
                lines = [indicator["totale"], *indicator["righe"]]
                assert all(line["n"] >= 1 for line in lines), (by, indicator["codice"], lines)
                assert sum(line["n"] for line in indicator["righe"]) >= indicator["totale"]["n"], (by, indicator)
