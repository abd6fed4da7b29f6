"""District obligations: the 30.09 housing measure and the SAD start of 1 April 2019."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from config.obligation_files import load_obligations
from config.policy_files import load_policies
from domain.errors import InvalidData, RoleNotAllowed
from domain.obligations import Obligation, Schedule, Scope, Step
from services.obligations import mark_met, obligation_overview, run_obligations_check
from services.setup import load_policy
from services.sweep import run_deadline_sweep
from store.tables import outbox_t

from .patto_steps import ASSEGNA, VALUTAZIONE, open_patto, patto_firmato

HOUSING = [o for o in load_obligations() if o.code == "misura_abitativa_30_09"]
SUB_AMBITI = {"Crema", "Sergnano", "Bagnolo Cremasco", "Pandino", "Castelleone", "Vailate"}


def digests(engine, day: date) -> dict[str, list[dict]]:
    """recipient address -> digest items queued for `day`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.recipient, outbox_t.c.payload)
                            .where(outbox_t.c.template == "digest")).all()
    return {r.recipient: r.payload["voci"] for r in rows if r.payload["giorno"] == day.isoformat()}


def areas(items: list[dict]) -> set[str]:
    return {i["comune"] for i in items}


def activate_rent_support_in_crema(service, on: date) -> None:
    worker, coord = service.actor("as.rossi"), service.actor("coord.crema")
    case_id = open_patto(service, worker)
    service.advance(case_id=case_id, transition="assegna", actor=coord, data=ASSEGNA, effective_at=date(2026, 1, 14))
    service.advance(case_id=case_id, transition="avvia_redazione", actor=worker, data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    pact = patto_firmato(start="10/09/2026", end="10/02/2027")
    pact["firmato_il"] = on.strftime("%d/%m/%Y")
    pact["misura_economica"]["voci"] = ["affitto"]
    service.advance(case_id=case_id, transition="attiva", actor=worker, data=pact, effective_at=on)


def test_the_30_09_obligation_reminds_on_its_lead_dates_escalates_after_and_falls_silent_once_met(service, engine):
    # T-60: the UdP, CSC and every sub-ambito's coordinator (a user for Crema, the district address elsewhere)
    assert run_obligations_check(engine, as_of=date(2026, 7, 31), obligations=HOUSING).queued == 0
    first = run_obligations_check(engine, as_of=date(2026, 8, 1), obligations=HOUSING)
    sent = digests(engine, date(2026, 8, 1))
    assert areas(sent["udp.neri@example.org"]) == SUB_AMBITI
    assert areas(sent["csc.bianchi@example.org"]) == SUB_AMBITI
    assert areas(sent["coord.crema@example.org"]) == {"Crema"}
    assert areas(sent["coordinamento.sergnano@example.org"]) == {"Sergnano"}
    assert first.queued == 6 + 6 + 6
    assert sent["udp.neri@example.org"][0]["scadenza"] == "2026-09-30"
    assert run_obligations_check(engine, as_of=date(2026, 8, 1), obligations=HOUSING).queued == 0  # rerun
    assert run_obligations_check(engine, as_of=date(2026, 8, 15), obligations=HOUSING).queued == 0  # no step

    assert run_obligations_check(engine, as_of=date(2026, 8, 31), obligations=HOUSING).queued == 18  # T-30
    activate_rent_support_in_crema(service, date(2026, 9, 10))
    run_obligations_check(engine, as_of=date(2026, 9, 23), obligations=HOUSING)  # T-7
    assert areas(digests(engine, date(2026, 9, 23))["udp.neri@example.org"]) == SUB_AMBITI - {"Crema"}
    assert "coord.crema@example.org" not in digests(engine, date(2026, 9, 23))

    with pytest.raises(InvalidData, match="Motivo"):
        mark_met(engine, code="misura_abitativa_30_09", period="2026", scope_key="Sergnano",
                 actor=service.actor("udp.neri"), reason="  ", met_on=date(2026, 9, 29))
    with pytest.raises(RoleNotAllowed):
        mark_met(engine, code="misura_abitativa_30_09", period="2026", scope_key="Sergnano",
                 actor=service.actor("as.rossi"), reason="bando", met_on=date(2026, 9, 29))
    mark_met(engine, code="misura_abitativa_30_09", period="2026", scope_key="Sergnano",
             actor=service.actor("udp.neri"), reason="bando affitti pubblicato il 28/09", met_on=date(2026, 9, 28))

    escalation = run_obligations_check(engine, as_of=date(2026, 10, 1), obligations=HOUSING)  # T+1
    sent = digests(engine, date(2026, 10, 1))
    assert set(sent) == {"udp.neri@example.org"}
    assert areas(sent["udp.neri@example.org"]) == SUB_AMBITI - {"Crema", "Sergnano"}
    assert all(i["categoria"] == "escalation" for i in sent["udp.neri@example.org"])
    reminded = sent["udp.neri@example.org"][0]["promemoria_precedenti"]
    assert {"destinatario": "udp.neri", "il": "2026-08-01"} in reminded
    assert {"destinatario": "udp.neri", "il": "2026-09-23"} in reminded
    assert escalation.queued == 4

    overview = {r["codice"]: r for r in obligation_overview(engine, as_of=date(2026, 10, 2), obligations=HOUSING)}
    pending = {p["ambito"] for p in overview["misura_abitativa_30_09"]["in_sospeso"]}
    assert pending == SUB_AMBITI - {"Crema", "Sergnano"}
    for area in sorted(pending):
        mark_met(engine, code="misura_abitativa_30_09", period="2026", scope_key=area,
                 actor=service.actor("udp.neri"), reason="misura attivata fuori Legami", met_on=date(2026, 10, 2))
    assert run_obligations_check(engine, as_of=date(2026, 10, 5), obligations=HOUSING).queued == 0
    assert obligation_overview(engine, as_of=date(2026, 10, 5), obligations=HOUSING)[0]["adempiuto"] is True


SAD_START = Obligation(
    code="avvio_sad_2019", label="Avvio della sperimentazione SAD (01/04/2019)", owner_role="csc_admin",
    schedule=Schedule("dated", on=date(2019, 4, 1)), scope=Scope.PROVIDER, fact="adesioni_sad",
    steps=(Step(-30, ("csc_admin", "ente")), Step(-7, ("csc_admin", "ente")), Step(1, ("planning_office",), True)),
)


@pytest.fixture
def policy_2019(engine):
    with engine.begin() as conn:
        load_policy(conn, replace(load_policies()[0], version="2019.1", valid_from=date(2019, 1, 1)))


def test_before_the_sad_start_the_right_providers_and_csc_are_reminded(service, engine, policy_2019):
    """27/02/2019 minutes: of 11 accredited providers 7 answered, and 6 of those 7 still have to sign."""
    csc = service.actor("csc.bianchi")
    ids = {}
    for n in range(1, 12):
        codice = f"ENTE{n:02d}"
        ids[codice] = service.open_case(case_type="sad_adesione", actor=csc, effective_at=date(2019, 2, 11),
                                        data={"ente": codice, "inviato_il": "11/02/2019"})
    answered = [f"ENTE{n:02d}" for n in range(1, 8)]
    for codice in answered:
        service.advance(case_id=ids[codice], transition="rispondi", actor=csc, effective_at=date(2019, 2, 20),
                        data={"referente": "Referente di prova", "risposto_il": "20/02/2019"})
    service.advance(case_id=ids["ENTE01"], transition="firma", actor=csc, effective_at=date(2019, 2, 26),
                    data={"firmato_il": "26/02/2019", "valido_fino": "31/03/2020", "comuni": ["019035"]})
    silent, unsigned = [f"ENTE{n:02d}" for n in range(8, 12)], answered[1:]

    # 02/03/2019, T-30 from the start: the deadline sweep and the obligations check
    sweep = run_deadline_sweep(engine, as_of=date(2019, 3, 2), service=service)
    check = run_obligations_check(engine, as_of=date(2019, 3, 2), obligations=[SAD_START])
    sent = digests(engine, date(2019, 3, 2))

    def provider_address(codice):
        from config.district import load_district
        return next(p.email for p in load_district().providers if p.codice == codice)

    for codice in silent:  # never answered: their reply window lapsed, and the start is near
        items = sent[provider_address(codice)]
        assert any("non ha ancora risposto" in i["etichetta"] for i in items)
    for codice in unsigned:
        items = sent[provider_address(codice)]
        assert any("non ha ancora firmato il patto" in i["etichetta"] for i in items)
    assert "Il Girasole" not in str(sent.get("ente.girasole@example.org", []))  # ENTE01 signed: nothing on adhesion
    assert "ente.girasole@example.org" not in sent
    csc_items = sent["csc.bianchi@example.org"]
    start_items = [i for i in csc_items if i["etichetta"].startswith("Avvio della sperimentazione SAD")]
    assert len(start_items) == len(silent) + len(unsigned) == 10
    overdue_replies = [i for i in csc_items if i["categoria"] == "escalation" and "Risposta" in i["etichetta"]]
    assert {i["caso_id"] for i in overdue_replies} == {ids[c] for c in silent}
    assert sweep.escalations >= 4 and check.queued >= 10
    assert run_obligations_check(engine, as_of=date(2019, 3, 2), obligations=[SAD_START]).queued == 0


def test_a_renewed_isee_meets_the_year_end_renewal_obligation_for_that_case(service, engine):
    from .patto_steps import drive_to_active

    renewal = [o for o in load_obligations() if o.code == "rinnovo_isee"]
    worker = service.actor("as.rossi")
    case_id = open_patto(service, worker)
    drive_to_active(service, case_id)  # ISEE with a 2026 DSU: it expires on 31/12/2026
    run_obligations_check(engine, as_of=date(2026, 11, 16), obligations=renewal)  # T-45
    assert [i["caso_id"] for i in digests(engine, date(2026, 11, 16))["as.rossi@example.org"]] == [case_id]
    # a DSU of November 2026 would still expire on 31/12/2026: the renewal is a DSU of the new year
    from datetime import datetime

    from services.cases import CaseService

    from .conftest import ROME

    january = CaseService(engine, clock=lambda: datetime(2027, 1, 12, 12, 0, tzinfo=ROME))
    pending = lambda day: {p["ambito"] for o in obligation_overview(engine, as_of=day, obligations=renewal)  # noqa: E731
                           for p in o["in_sospeso"]}
    assert f"caso:{case_id}" in pending(date(2027, 1, 9))
    january.advance(case_id=case_id, transition="aggiorna_isee", actor=worker, effective_at=date(2027, 1, 10),
                    data={"isee": {"tipo": "ordinario", "valore": "6100", "data_dsu": "2027-01-08",
                                   "protocollo": "INPS-ISEE-2027-XYZ987654-02"}})
    assert f"caso:{case_id}" not in pending(date(2027, 1, 12))


def test_a_workers_oggi_lists_the_isee_renewals_of_her_cases_and_the_unassigned_not_a_colleagues(service, engine):
    """The ISEE renewal is read for the cases a worker's Oggi keeps (hers and the unassigned ones in her comuni),
    not for every active beneficiary of her comuni; the coordinator's Oggi still lists them all."""
    from services.access import principal_for
    from services.today import my_obligations
    from store.tables import case_t

    from .patto_steps import drive_to_active

    renewal = [o for o in load_obligations() if o.code == "rinnovo_isee"]
    mine, colleague, nobody = (open_patto(service, service.actor("as.rossi"), surname=s)
                               for s in ("Rota", "Bassi", "Conti"))
    for case_id in (mine, colleague, nobody):
        drive_to_active(service, case_id)  # ISEE with a 2026 DSU: due for renewal at the year's end
    with engine.begin() as conn:  # a colleague's case in the same comune, and one left without an owner
        conn.execute(sa.update(case_t).where(case_t.c.id == colleague).values(owner="as.collega"))
        conn.execute(sa.update(case_t).where(case_t.c.id == nobody).values(owner=None))

    def listed(username: str) -> list[str]:
        [item] = my_obligations(engine, principal_for(engine, username), today=date(2026, 12, 8),
                                obligations=renewal, shown=10)
        return item.pending

    assert sorted(listed("as.rossi")) == sorted(f"ISEE da rinnovare (DSU 2026) (caso n. {c})" for c in (mine, nobody))
    assert sorted(listed("coord.crema")) == sorted(f"ISEE da rinnovare (DSU 2026) (caso n. {c})"
                                                   for c in (mine, colleague, nobody))
