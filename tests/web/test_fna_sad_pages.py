"""FNA call pages (calls, applications, ranking with breakdown and cut-off, public ranking) and the SAD
provider portal (own cases only, voucher acceptance, monthly visit log, Italian field errors), through the
real pages on SQLite and PostgreSQL.

The district world has one open call with one application; this module adds a second call with a small
budget (10.000 €) and five applications admitted with known scores, so the ranking order, the tie-breaks
and the funding line are known in advance:

    protocol  ISEE    severity  alone  born  ADL IADL  score  annual
    FNA-1     4.000   both      yes    1938  5   6     87     4.800   A
    FNA-2     9.000   both      no     1960  2   3     53     4.800   C
    FNA-3     12.000  one       no     1950  3   4     45     1.200   D (ties with B and E; lower ISEE)
    FNA-9     14.000  one       no     1950  3   4     45     3.600   B (same ISEE as E, earlier protocol)
    FNA-10    14.000  one       no     1950  3   4     45     2.400   E
A + C = 9.600 € fit the budget; D would bring it to 10.800 €: the line falls before D.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.casetypes.fna import ranking as rk
from services.access import health_reads
from services.cases import CaseService
from store.tables import case_t, transition_t
from tests.district_world import CREMA
from tests.integration.patto_steps import persona

from .conftest import NOW, csrf_of

APPLICANTS = [
    # key, protocol, surname, name, birth, isee, grave, accompagnamento, alone, adl, iadl, monthly
    ("A", "FNA-1", "Marchi", "Angela", date(1938, 3, 1), "4000", True, True, True, 5, 6, "400"),
    ("C", "FNA-2", "Fontana", "Carlo", date(1960, 5, 7), "9000", True, True, False, 2, 3, "400"),
    ("D", "FNA-3", "Donati", "Dario", date(1950, 8, 9), "12000", False, True, False, 3, 4, "100"),
    ("B", "FNA-9", "Bassi", "Bruna", date(1950, 2, 2), "14000", True, False, False, 3, 4, "300"),
    ("E", "FNA-10", "Esposito", "Elio", date(1950, 11, 3), "14000", True, False, False, 3, 4, "200"),
]
EXPECTED_ORDER = ["FNA-1", "FNA-2", "FNA-3", "FNA-9", "FNA-10"]
EXPECTED_SCORES = {"FNA-1": 87, "FNA-2": 53, "FNA-3": 45, "FNA-9": 45, "FNA-10": 45}
BUDGET = Decimal(10000)


def _small_call(service: CaseService) -> dict[str, int]:
    udp, csc, worker = service.actor("udp.neri"), service.actor("csc.bianchi"), service.actor("as.rossi")
    call = service.open_case(case_type="fna_bando", actor=udp, effective_at=date(2026, 5, 5),
                             data={"titolo": "Bando FNA B2 2026 - Vita a casa", "anno_fna": 2025,
                                   "dgr": "DGR 1234/2026"})
    service.advance(case_id=call, transition="approva", actor=udp, effective_at=date(2026, 5, 21), data={
        "delibera": "Assemblea dei Sindaci 21/05/2026", "budget": str(BUDGET),
        "misure": [{"misura": "caregiver", "importo_min": "100", "importo_max": "400"}],
        "apertura": "10/06/2026", "chiusura": "10/07/2026"})
    service.advance(case_id=call, transition="apri", actor=udp, effective_at=date(2026, 6, 10))
    ids = {"call": call}
    for n, (key, prot, surname, name, born, isee, grave, acc, alone, adl, iadl, monthly) in enumerate(APPLICANTS):
        app = service.open_case(
            case_type="fna_domanda", actor=csc, comune_istat=CREMA, related_case_id=call,
            effective_at=date(2026, 6, 15 + n),
            data={"persona": persona(surname, name, born), "protocollo": prot,
                  "isee": {"tipo": "sociosanitario", "valore": isee, "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                           "data_dsu": "2026-02-10"},
                  "invalidita_104_art3c3": grave, "indennita_accompagnamento": acc, "misura": "caregiver",
                  "caregiver": "Familiare", "vive_solo": alone, "iban": "IT60X0542811101000000123456"})
        service.advance(case_id=app, transition="avvia_istruttoria", actor=csc, effective_at=date(2026, 6, 22))
        service.advance(case_id=app, transition="avvia_valutazione", actor=csc, effective_at=date(2026, 6, 23))
        ids[key] = app
    service.advance(case_id=call, transition="chiudi", actor=udp, effective_at=date(2026, 7, 11))
    for key, prot, *_, adl, iadl, monthly in APPLICANTS:
        service.advance(case_id=ids[key], transition="ammetti", actor=worker, effective_at=date(2026, 7, 20),
                        data={"adl": adl, "iadl": iadl, "misura_proposta": "caregiver",
                              "importo_mensile_proposto": monthly})
    return ids


@pytest.fixture
def fna_world(world, web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    return {**world, "small": _small_call(service)}


@pytest.fixture
def sad_world(world, web_engine):
    """The world, with ENTE02's voucher issued too: each provider then has one voucher to accept."""
    service = CaseService(web_engine, clock=lambda: NOW)
    service.advance(case_id=world["sad_ente02"], transition="emetti_voucher", actor=service.actor("csc.bianchi"),
                    effective_at=date(2026, 4, 16),
                    data={"ore_mensili": "18", "tariffa_oraria": "21.50", "quota_utente": "0",
                          "valido_dal": "16/04/2026", "valido_al": "31/12/2026"})
    return world


def _table(html: str, testid: str, fase: str | None = None, end: str = "</table>") -> str:
    """The markup from the element with that data-testid to its closing tag `end`."""
    marker = f'data-testid="{testid}"' + (f' data-fase="{fase}"' if fase else "")
    start = html.index(marker)
    return html[start:html.index(end, start)]


ROW_RE = re.compile(r'<tr data-domanda="(\d+)" data-punteggio="([\d.]+)" data-finanziabile="(si|no)">(.*?)</tr>', re.DOTALL)
CELL_RE = re.compile(r'data-componente="(\w+)">([^<]*)<')


def _ranking_rows(html: str, fase: str) -> list[dict]:
    rows = []
    for domanda, score, fundable, body in ROW_RE.findall(_table(html, "graduatoria", fase)):
        protocol = re.search(r'<th scope="row">(?:<a [^>]*>)?([^<]+)<', body).group(1)
        parts = {k: v for k, v in CELL_RE.findall(body) if v}  # a reserved component shows no number
        rows.append({"domanda": int(domanda), "protocollo": protocol, "punteggio": Decimal(score),
                     "finanziabile": fundable == "si", "dettaglio": parts})
    return rows


def _case(engine, case_id: int):
    with engine.connect() as conn:
        row = conn.execute(sa.select(case_t.c.state, case_t.c.version).where(case_t.c.id == case_id)).one()
        steps = conn.execute(sa.select(transition_t.c.transition).where(transition_t.c.case_id == case_id)
                             .order_by(transition_t.c.seq)).scalars().all()
    return row.state, row.version, steps


# ============================================================================ FNA calls


def test_the_planning_office_sees_each_call_with_state_budget_window_and_number_of_applications(
        fna_world, client_for):
    page = client_for("udp.neri").get("/fna/bandi")
    assert page.status_code == 200
    table = _table(page.text, "bandi")
    world_call = re.search(rf'<tr data-bando="{fna_world["bando"]}">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "Bando FNA B2 2026" in world_call and "Aperto" in world_call
    assert "€ 200.000,00" in world_call and "10/06/2026 – 10/07/2026" in world_call
    assert world_call.rstrip().endswith('<td class="text-end">1</td>')
    small = re.search(rf'<tr data-bando="{fna_world["small"]["call"]}">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "Chiuso" in small and "€ 10.000,00" in small and small.rstrip().endswith('<td class="text-end">5</td>')


def test_the_call_page_lists_its_applications_with_state_protocol_and_score_and_the_allowed_steps(
        fna_world, client_for):
    client = client_for("udp.neri")
    page = client.get(f"/fna/bandi/{fna_world['small']['call']}")
    assert page.status_code == 200
    table = _table(page.text, "domande")
    protocols = re.findall(r'<th scope="row"><a href="/casi/\d+">([^<]+)</a>', table)
    assert protocols == ["FNA-1", "FNA-2", "FNA-3", "FNA-9", "FNA-10"]  # natural protocol order
    row_a = re.search(rf'<tr data-domanda="{fna_world["small"]["A"]}">(.*?)</tr>', table, re.DOTALL).group(1)
    assert "Ammessa" in row_a and ">87<" in row_a and "€ 4.800,00" in row_a
    steps = _table(page.text, "transizioni-bando", end="</ul>")
    assert "Graduatoria provvisoria" in steps and f'href="/casi/{fna_world["small"]["call"]}' in steps
    # the world's call is open: its application is being assessed and has no score yet
    other = client.get(f"/fna/bandi/{fna_world['bando']}")
    assert "CSC-2026-0042" in other.text and "Valutazione" in other.text


def test_the_ranking_follows_the_score_then_lower_isee_then_earlier_protocol_and_each_breakdown_sums_to_the_score(
        fna_world, client_for):
    page = client_for("udp.neri").get(f"/fna/bandi/{fna_world['small']['call']}/graduatoria")
    assert page.status_code == 200
    rows = _ranking_rows(page.text, "proposta")
    assert [r["protocollo"] for r in rows] == EXPECTED_ORDER
    for r in rows:
        assert r["punteggio"] == EXPECTED_SCORES[r["protocollo"]]
        assert set(r["dettaglio"]) == set(rk.COMPONENT_KEYS)
        assert sum(Decimal(v) for v in r["dettaglio"].values()) == r["punteggio"]
    a = rows[0]["dettaglio"]
    assert (a["isee"], a["gravita"], a["solitudine"], a["eta"], a["adl"], a["iadl"]) == \
        ("30", "20", "10", "6", "15", "6")


def test_the_funding_line_falls_where_the_cumulative_amount_would_exceed_the_budget(fna_world, client_for):
    page = client_for("udp.neri").get(f"/fna/bandi/{fna_world['small']['call']}/graduatoria")
    rows = _ranking_rows(page.text, "proposta")
    assert [r["finanziabile"] for r in rows] == [True, True, False, False, False]
    table = _table(page.text, "graduatoria", "proposta")
    assert table.index('data-testid="linea-taglio"') < table.index(f'data-domanda="{fna_world["small"]["D"]}"')
    assert table.index(f'data-domanda="{fna_world["small"]["C"]}"') < table.index('data-testid="linea-taglio"')
    assert "Finanziabili: € 9.600,00 su € 10.000,00" in page.text
    # the same rule, as a pure function: what fits is funded, what follows the first overflow is not
    entries = [rk.Entry(i, f"P-{i}", Decimal(10 - i), {}, Decimal(0), Decimal(a)) for i, a in
               enumerate(["6000", "4000", "1", "500"])]
    assert rk.apply_cut_off(rk.rank(entries), BUDGET) == 2
    assert [e.finanziabile for e in entries] == [True, True, False, False]


def test_a_published_ranking_is_public_with_protocols_scores_and_outcomes_and_no_personal_data(
        fna_world, client_for, web_engine):
    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    before = client.get(f"/fna/bandi/{call}/graduatoria/pubblica")
    assert 'data-testid="graduatoria-pubblica-assente"' in before.text
    done = client.post(f"/fna/bandi/{call}/graduatoria", data={
        "csrf_token": csrf_of(client), "fase": "provvisoria", "atto": "Determinazione UdP n. 41/2026"},
        follow_redirects=False)
    assert done.status_code == 303
    assert _case(web_engine, call)[0] == "RANKING_PROVISIONAL"
    confirmed = client.get(done.headers["location"])  # post-redirect-get: the confirmation on the next page
    assert 'data-testid="eseguita">Registrato: graduatoria provvisoria pubblicata.' in confirmed.text
    internal = client.get(f"/fna/bandi/{call}/graduatoria")
    assert [r["protocollo"] for r in _ranking_rows(internal.text, "provvisoria")] == EXPECTED_ORDER

    public = client.get(f"/fna/bandi/{call}/graduatoria/pubblica")
    assert public.status_code == 200
    table = _table(public.text, "graduatoria-pubblica")
    assert re.findall(r'<th scope="row">([^<]+)</th>', table) == EXPECTED_ORDER
    assert "Finanziabile" in table and "Non finanziabile (budget esaurito)" in table
    csv = client.get(f"/fna/bandi/{call}/graduatoria/pubblica?formato=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "Posizione;Protocollo;Punteggio;Esito"
    assert lines[1] == "1;FNA-1;87;Finanziabile" and lines[3].startswith("3;FNA-3;45;Non finanziabile")
    for key, prot, surname, name, born, *_ in APPLICANTS:
        cf = persona(surname, name, born)["codice_fiscale"]
        for text in (public.text, csv.text):
            assert surname not in text and name not in text and cf not in text
            assert born.strftime("%d/%m/%Y") not in text


def test_the_health_derived_points_are_shown_only_to_who_sees_health_data_and_their_reading_is_logged(
        fna_world, client_for, web_engine):
    call = fna_world["small"]["call"]
    csc = client_for("csc.bianchi").get(f"/fna/bandi/{call}/graduatoria")
    assert csc.status_code == 200
    rows = _ranking_rows(csc.text, "proposta")
    assert [r["protocollo"] for r in rows] == EXPECTED_ORDER  # the order and the scores are the same
    assert set(rows[0]["dettaglio"]) == {"isee", "eta"}  # ADL, IADL, severity, living alone: not for CSC
    assert health_reads(web_engine, username="csc.bianchi") == []
    client_for("udp.neri").get(f"/fna/bandi/{call}/graduatoria")
    logged = health_reads(web_engine, username="udp.neri")
    assert {r["caso"] for r in logged} == {fna_world["small"][k] for k in "ABCDE"}
    assert {"adl", "iadl"} <= set(logged[0]["campi"]) and logged[0]["contesto"] == "graduatoria_fna"


def test_a_coordinator_of_another_sub_ambito_sees_positions_and_scores_but_no_breakdown(
        fna_world, client_for, web_engine):
    page = client_for("coord.pandino").get(f"/fna/bandi/{fna_world['small']['call']}/graduatoria")
    assert page.status_code == 200
    rows = _ranking_rows(page.text, "proposta")
    assert [(r["protocollo"], r["punteggio"]) for r in rows] == [(p, EXPECTED_SCORES[p]) for p in EXPECTED_ORDER]
    assert all(r["dettaglio"] == {} for r in rows)
    assert f'href="/casi/{fna_world["small"]["A"]}"' not in page.text
    assert health_reads(web_engine, username="coord.pandino") == []
    crema = client_for("coord.crema").get(f"/fna/bandi/{fna_world['small']['call']}/graduatoria")
    assert all(set(r["dettaglio"]) == set(rk.COMPONENT_KEYS) for r in _ranking_rows(crema.text, "proposta"))


def test_once_the_final_ranking_is_published_the_page_shows_both_snapshots_and_the_public_one_is_final(
        fna_world, client_for, web_engine):
    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    for fase, atto in (("provvisoria", "Determinazione UdP n. 41/2026"), ("definitiva", "Determinazione UdP n. 60/2026")):
        version = _case(web_engine, call)[1]
        done = client.post(f"/fna/bandi/{call}/graduatoria", data={
            "csrf_token": csrf_of(client), "fase": fase, "atto": atto, "versione": version}, follow_redirects=False)
        assert done.status_code == 303
    assert _case(web_engine, call)[0] == "RANKING_FINAL"
    page = client.get(f"/fna/bandi/{call}/graduatoria")
    assert 'data-fase="proposta"' not in page.text and 'data-testid="pubblica-graduatoria"' not in page.text
    final = _ranking_rows(page.text, "definitiva")
    assert [r["protocollo"] for r in final] == EXPECTED_ORDER
    # the snapshots' health-derived points are stored sealed; the planning office reads them, and that is logged
    assert all(set(r["dettaglio"]) == set(rk.COMPONENT_KEYS) for r in final)
    assert final[0]["dettaglio"]["adl"] == "15" and final[0]["dettaglio"]["gravita"] == "20"
    logged = health_reads(web_engine, case_id=call, username="udp.neri")
    assert logged and "posizioni[].dettaglio.adl" in logged[-1]["campi"]
    assert final[0]["dettaglio"]["adl"] == "15"  # the snapshot's breakdown, as recorded
    assert "Determinazione UdP n. 60/2026" in page.text
    public = client.get(f"/fna/bandi/{call}/graduatoria/pubblica")
    assert "Graduatoria definitiva" in public.text and "Determinazione UdP n. 60/2026" in public.text
    stale = client.post(f"/fna/bandi/{call}/graduatoria", data={
        "csrf_token": csrf_of(client), "fase": "definitiva", "atto": "Determinazione UdP n. 61/2026",
        "versione": 1})
    assert stale.status_code in (409, 422) and _case(web_engine, call)[0] == "RANKING_FINAL"


@pytest.mark.parametrize("username", ["as.verdi", "ente.girasole", "ovd.valutatore"])
def test_who_may_not_read_the_applications_is_refused_the_ranking(fna_world, client_for, username):
    page = client_for(username).get(f"/fna/bandi/{fna_world['small']['call']}/graduatoria")
    assert page.status_code == 403
    assert "Accesso negato" in page.text
    assert "FNA-1" not in page.text


def test_a_social_worker_sees_the_calls_but_none_of_the_applications_outside_their_comuni(fna_world, client_for):
    page = client_for("as.verdi").get(f"/fna/bandi/{fna_world['small']['call']}")
    assert page.status_code == 200
    assert "FNA-1" not in page.text and "Nessuna domanda consultabile" in page.text
    assert client_for("ente.girasole").get("/fna/bandi").status_code == 403


# ============================================================================ SAD provider portal


def _portal_rows(html: str) -> dict[int, str]:
    return {int(i): s for i, s in re.findall(r'<tr data-caso="(\d+)" data-stato="(\w+)">', _table(html, "casi-ente"))}


def test_each_provider_lists_only_the_sad_cases_that_chose_it(sad_world, client_for):
    girasole = client_for("ente.girasole")
    page = girasole.get("/ente")
    assert page.status_code == 200
    assert _portal_rows(page.text) == {sad_world["sad_ente01"]: "VOUCHER_ISSUED"}
    assert f'href="/ente/casi/{sad_world["sad_ente01"]}"' in page.text
    assert "Colombo" in page.text and "Sala" not in page.text
    assert "Prima visita dell&#39;ente" in page.text  # the deadline of the pending voucher
    assert _portal_rows(client_for("ente.ponte").get("/ente").text) == {sad_world["sad_ente02"]: "VOUCHER_ISSUED"}
    assert girasole.get(f"/ente/casi/{sad_world['sad_ente02']}").status_code == 403
    assert client_for("as.rossi").get("/ente").status_code == 403


def test_the_provider_accepts_the_voucher_with_the_first_visit_then_sends_the_monthly_register(
        sad_world, client_for, web_engine):
    client = client_for("ente.girasole")
    case_id = sad_world["sad_ente01"]
    page = client.get(f"/ente/casi/{case_id}")
    assert 'data-testid="modulo-accetta"' in page.text and 'data-testid="modulo-visite"' not in page.text
    assert "igiene quotidiana in sicurezza" in page.text  # the PAI it needs
    _, version, _ = _case(web_engine, case_id)
    done = client.post(f"/ente/casi/{case_id}/accetta", data={
        "csrf_token": csrf_of(client), "versione": version, "visita.data": "16/11/2026",
        "visita.operatore": "Lucia Ferrari", "visita.minuti": "90", "visita.servizi": ["igiene_personale", "pasti"]},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    state, version, steps = _case(web_engine, case_id)
    assert state == "ACTIVE" and steps[-1] == "prima_visita"
    portal = client.get("/ente")
    assert _portal_rows(portal.text) == {case_id: "ACTIVE"}
    assert "11/2026 entro il" in portal.text and "10/12/2026" in portal.text  # November's register due

    done = client.post(f"/ente/casi/{case_id}/visite", data={
        "csrf_token": csrf_of(client), "versione": version, "mese": "01/11/2026",
        "visite.0.data": "18/11/2026", "visite.0.operatore": "Lucia Ferrari", "visite.0.minuti": "60",
        "visite.0.servizi": "igiene_personale",
        "visite.1.data": "19/11/2026", "visite.1.operatore": "Paolo Greco", "visite.1.minuti": "45",
        "visite.1.servizi": ["pasti", "cura_ambiente"]}, follow_redirects=False)
    assert done.status_code == 303, done.text
    state, _, steps = _case(web_engine, case_id)
    assert state == "ACTIVE" and steps[-1] == "registra_visite"
    page = client.get(f"/ente/casi/{case_id}")
    visits = _table(page.text, "visite")
    assert "16/11/2026" in visits and "19/11/2026" in visits and "Paolo Greco" in visits
    assert "10/01/2027" in client.get("/ente").text  # next: December's register
    # the district's monthly-register obligation reads the register's month: November's does not cover December
    from services.obligations import load_obligations, obligation_overview
    from store.obligations import text_of_steps

    assert [(i, m[:7]) for i, m in text_of_steps(web_engine, "registra_visite", [case_id], "mese")] == [
        (case_id, "2026-11")]
    register = [o for o in load_obligations() if o.code == "report_mensile_sad"]
    rows = obligation_overview(web_engine, as_of=date(2027, 1, 12), obligations=register)
    owed = {r["scadenza"]: {p["ambito"]: p["mancante"] for p in r["in_sospeso"]} for r in rows}
    assert owed["2027-01-10"].get("ente:ENTE01") == "registro di 12/2026 mancante per 1 utenti"


def test_bad_visit_data_shows_italian_errors_naming_the_fields_and_writes_nothing(sad_world, client_for, web_engine):
    client = client_for("ente.girasole")
    case_id = sad_world["sad_ente01"]
    before = _case(web_engine, case_id)
    page = client.post(f"/ente/casi/{case_id}/accetta", data={
        "csrf_token": csrf_of(client), "versione": before[1], "visita.data": "31/02/2026",
        "visita.operatore": "Lucia Ferrari", "visita.minuti": "0"}, follow_redirects=False)
    assert page.status_code == 422
    errors = _table(page.text, "errori", end="</div>")
    assert "nulla è stato registrato" in errors
    assert "Data della visita" in errors and "Durata (minuti)" in errors and "Prestazioni" in errors
    assert 'id="err-visita-minuti"' in page.text and 'value="Lucia Ferrari"' in page.text  # kept for correction
    assert _case(web_engine, case_id) == before

    future = client.post(f"/ente/casi/{case_id}/accetta", data={
        "csrf_token": csrf_of(client), "versione": before[1], "visita.data": "25/11/2026",
        "visita.operatore": "Lucia Ferrari", "visita.minuti": "60", "visita.servizi": "pasti"})
    assert future.status_code == 422 and "visite successive alla data del passo: 25/11/2026" in future.text
    assert _case(web_engine, case_id) == before


def test_another_provider_cannot_accept_a_voucher_that_did_not_choose_it(sad_world, client_for, web_engine):
    client = client_for("ente.ponte")
    case_id = sad_world["sad_ente01"]
    before = _case(web_engine, case_id)
    page = client.post(f"/ente/casi/{case_id}/accetta", data={
        "csrf_token": csrf_of(client), "visita.data": "16/11/2026", "visita.operatore": "Intruso",
        "visita.minuti": "60", "visita.servizi": "pasti"})
    assert page.status_code == 403
    assert _case(web_engine, case_id) == before


# ============================================================================ the call's stored ranking snapshot


def _publish_provisional(client, call: int) -> None:
    done = client.post(f"/fna/bandi/{call}/graduatoria", data={
        "csrf_token": csrf_of(client), "fase": "provvisoria", "atto": "Determinazione UdP n. 41/2026"},
        follow_redirects=False)
    assert done.status_code == 303


def _snapshot_details(detail: dict) -> list[dict]:
    rows = [detail.get("dati") or {}, *((h.get("dati") or {}) for h in detail["storia"])]
    return [p.get("dettaglio", {}) for data in rows for p in data.get("posizioni", [])]


def test_the_call_record_hides_the_applicants_health_derived_points_from_readers_without_health_access(
        fna_world, client_for, web_engine):
    call = fna_world["small"]["call"]
    _publish_provisional(client_for("udp.neri"), call)
    for reader in ("csc.bianchi", "coord.crema", "as.rossi"):
        before = len(health_reads(web_engine, case_id=call))
        detail = client_for(reader).get(f"/api/v1/casi/{call}").json()
        details = _snapshot_details(detail)
        assert details, reader  # the ranking itself is there: protocols, scores, ISEE points
        assert all({"adl", "iadl", "gravita"}.isdisjoint(d) and "isee" in d for d in details), reader
        assert "dati sanitari" in detail["dati_riservati"], reader
        assert len(health_reads(web_engine, case_id=call)) == before, reader
        page = client_for(reader).get(f"/casi/{call}")
        assert page.status_code == 200 and "Posizioni in graduatoria" in page.text, reader
        assert not re.search(r"Dettaglio del punteggio › (Adl|Iadl|Gravita)<", page.text), reader


def test_the_planning_office_reads_the_snapshot_points_and_the_read_is_logged(fna_world, client_for, web_engine):
    call = fna_world["small"]["call"]
    client = client_for("udp.neri")
    _publish_provisional(client, call)
    before = len(health_reads(web_engine, case_id=call, username="udp.neri"))
    detail = client.get(f"/api/v1/casi/{call}").json()
    assert all({"adl", "iadl", "gravita"} <= set(d) for d in _snapshot_details(detail))
    assert re.search(r"Dettaglio del punteggio › Iadl<", client.get(f"/casi/{call}").text)
    logged = health_reads(web_engine, case_id=call, username="udp.neri")[before:]
    assert logged and "posizioni[].dettaglio.adl" in logged[-1]["campi"]
