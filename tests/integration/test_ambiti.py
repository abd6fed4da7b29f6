"""Two Ambiti in one instance (issue 15 items 1-2), on SQLite and PostgreSQL: Lodi loads beside Cremasco with its
three distretti and two aziende; the body managing a comune is reached for it; and no role of one Ambito reads,
lists or counts a case of the other."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from config.district import load_district
from config.locate import resolve
from domain.access import AccessDenied
from services.access import ScopedCaseService, authorize_read, principal_for, scoped_filter
from services.ambiti import ambito_detail, ambito_scope, ambiti_summary
from services.directory import Directory
from services.queries import CaseFilter, list_cases
from services.setup import ensure_user, load_ambito
from store import users as user_store

from .patto_steps import segnalazione

LODI_DIR = "config/districts/lodi"
CREMA, LODI, CASALPUSTERLENGO = "019035", "098031", "098010"
LODI_USERS = [("as.lodi", "social_worker", "Lodi", None), ("as.casale", "social_worker", "Casalpusterlengo-Codogno",
                                                           None),
              ("coord.lodi", "subarea_coordinator", "Lodi", None), ("csc.lodi", "csc_admin", None, None),
              ("udp.lodi", "planning_office", None, None)]


@pytest.fixture
def two_ambiti(engine):
    load_ambito(engine, LODI_DIR)
    with engine.begin() as conn:
        for username, role, area, provider in LODI_USERS:
            user_store.upsert_user(conn, username, username, f"{username}@example.org", role, area, provider,
                                   ambito_code="lodi")
    return engine


def test_lodi_loads_beside_cremasco_with_three_distretti_and_two_aziende(two_ambiti):
    summary = {a["codice"]: a for a in ambiti_summary(two_ambiti)}
    assert summary["cremasco"]["predefinito"] and not summary["lodi"]["predefinito"]
    assert (summary["cremasco"]["comuni"], summary["cremasco"]["distretti"], summary["cremasco"]["enti_gestori"]) \
        == (48, 1, 1)
    lodi = ambito_detail(two_ambiti, "lodi")
    assert len(lodi["comuni"]) == 60 and lodi["distretti_provvisori"] and lodi["enti_gestori_provvisori"]
    assert sorted(e["comuni"] for e in lodi["enti_gestori"]) == [7, 53]
    assert {d["nome"] for d in lodi["distretti"]} == {"Lodi", "Sant'Angelo Lodigiano", "Casalpusterlengo-Codogno"}
    assert lodi["popolazione_mancante"] and "Castelgerundo" in lodi["note"]


def test_loading_an_ambito_again_changes_nothing_and_a_clash_writes_nothing(two_ambiti, tmp_path):
    load_ambito(two_ambiti, LODI_DIR)
    assert ambito_detail(two_ambiti, "lodi")["enti_gestori"][0]["comuni"] in (7, 53)
    clash = tmp_path / "copia"
    clash.mkdir()
    for name in ("comuni.csv", "providers.csv"):
        (clash / name).write_text((load_district.__globals__["Path"](LODI_DIR) / name).read_text())
    (clash / "district.toml").write_text(open(f"{LODI_DIR}/district.toml").read().replace('"lodi"', '"lodi2"'))
    with pytest.raises(ValueError, match="appartiene già all'Ambito «lodi»"):
        load_ambito(two_ambiti, clash)
    assert "lodi2" not in {a["codice"] for a in ambiti_summary(two_ambiti)}


def test_the_azienda_managing_a_comune_is_the_one_reached_for_it(two_ambiti):
    with two_ambiti.connect() as conn:
        directory = Directory(conn)
    assert [r.email for r in directory.resolve("csc_admin", comune=CASALPUSTERLENGO)] \
        == ["segreteria.aziendacasale@example.org"]
    assert [r.email for r in directory.resolve("csc_admin", comune=LODI)] == ["segreteria.consortile@example.org"]
    assert [r.username for r in directory.resolve("csc_admin", comune=CREMA)] == ["csc.bianchi"]
    assert [r.username for r in directory.resolve("planning_office", comune=LODI)] == ["udp.lodi"]


@pytest.fixture
def cases_in_both(service, two_ambiti):
    scoped = ScopedCaseService(service)
    crema = scoped.open_case(principal_for(two_ambiti, "as.rossi"), case_type="patto", comune_istat=CREMA,
                             effective_at=date(2026, 1, 12), data=segnalazione())
    lodi = scoped.open_case(principal_for(two_ambiti, "as.lodi"), case_type="patto", comune_istat=LODI,
                            effective_at=date(2026, 1, 12), data=segnalazione(surname="Rossi", name="Mario"))
    return {"cremasco": crema, "lodi": lodi}


ROLES = {"cremasco": ["as.rossi", "coord.crema", "csc.bianchi", "udp.neri"],
         "lodi": ["as.lodi", "coord.lodi", "csc.lodi", "udp.lodi"]}


def test_no_role_reads_or_lists_a_case_of_the_other_ambito(two_ambiti, cases_in_both):
    crossings = []
    for ambito, usernames in ROLES.items():
        other = cases_in_both["lodi" if ambito == "cremasco" else "cremasco"]
        for username in usernames:
            who = principal_for(two_ambiti, username)
            assert who.ambito is not None and who.ambito.code == ambito
            try:
                authorize_read(two_ambiti, who, other)
                crossings.append((username, "lettura"))
            except AccessDenied as exc:
                assert "altro Ambito" in exc.reason
            listed = {r["id"] for r in list_cases(two_ambiti, CaseFilter(), scope=scoped_filter(who))}
            if other in listed:
                crossings.append((username, "elenco"))
    assert crossings == []


def test_each_ambito_still_reads_its_own_cases(two_ambiti, cases_in_both):
    for username, ambito in (("as.rossi", "cremasco"), ("as.lodi", "lodi"), ("csc.lodi", "lodi")):
        authorize_read(two_ambiti, principal_for(two_ambiti, username), cases_in_both[ambito])


def test_a_lodi_worker_cannot_open_a_case_in_a_cremasco_comune(service, two_ambiti):
    with pytest.raises(AccessDenied):
        ScopedCaseService(service).open_case(principal_for(two_ambiti, "as.lodi"), case_type="patto",
                                             comune_istat=CREMA, effective_at=date(2026, 1, 12), data=segnalazione())


def test_settings_files_come_from_the_ambito_then_the_instance_then_the_package(tmp_path, monkeypatch):
    ambito, instance = tmp_path / "ambito", tmp_path / "istanza"
    ambito.mkdir(), instance.mkdir()
    assert resolve("obligations.toml", ambito)[0] == "predefinito"
    monkeypatch.setenv("LEGAMI_CONFIG_DIR", str(instance))
    (instance / "obligations.toml").write_text("")
    assert resolve("obligations.toml", ambito) == ("istanza", instance / "obligations.toml")
    (ambito / "obligations.toml").write_text("")
    assert resolve("obligations.toml", ambito) == ("ambito", ambito / "obligations.toml")
    assert resolve("tallies.toml", ambito)[0] == "predefinito"


def test_a_lodi_referral_in_a_comune_of_the_smaller_azienda_reminds_that_azienda(service, two_ambiti):
    """A Lodi social worker refers a person living in Casalpusterlengo; the referral's deadline, routed to the
    administrative staff, reaches the Azienda Speciale di Casalpusterlengo's address, not the other azienda's
    nor Cremasco's CSC."""
    recipients = _digest_recipients_of_a_casalpusterlengo_referral(service, two_ambiti)
    assert any("segreteria.aziendacasale@example.org" in r for r in recipients), recipients
    assert not any("segreteria.consortile@example.org" in r or "csc.bianchi" in r for r in recipients), recipients


def _digest_recipients_of_a_casalpusterlengo_referral(service, engine) -> set[str]:
    """A Lodi social worker refers a person living in Casalpusterlengo (a comune of the 7-comuni Azienda Speciale
    di Casalpusterlengo); the sweep runs until the referral's deadline, routed to the administrative staff, is
    reminded; the recipients of the digests written."""
    from dataclasses import replace

    import sqlalchemy as sa

    from config.obligation_files import load_reminder_policy
    from services.sweep import run_deadline_sweep
    from store.tables import deadline_t, outbox_t

    case_id = ScopedCaseService(service).open_case(
        principal_for(engine, "as.casale"), case_type="patto", comune_istat=CASALPUSTERLENGO,
        effective_at=date(2026, 11, 16), data=segnalazione(surname="Ferrari", name="Paolo"))
    with engine.connect() as conn:
        kind, due = conn.execute(sa.select(deadline_t.c.kind, deadline_t.c.due)
                                 .where(deadline_t.c.case_id == case_id).order_by(deadline_t.c.due)).first()
    policy = load_reminder_policy()
    policy = replace(policy, by_kind={**policy.by_kind, kind: ("csc_admin",)},
                     without_owner={**policy.without_owner, "patto": ("csc_admin",)})
    for days_before in range(30):  # the first day a reminder stage falls on (working days, holidays)
        if run_deadline_sweep(engine, as_of=due - timedelta(days=days_before), service=service,
                              policy=policy).reminders:
            break
    with engine.connect() as conn:
        return set(conn.execute(sa.select(outbox_t.c.recipient).where(outbox_t.c.template == "digest")).scalars())


def test_a_lodi_referral_in_a_comune_of_the_smaller_azienda_reaches_that_azienda_s_staff(service, two_ambiti):
    """With administrative users tied to each azienda (`legami user create --ente-gestore`), the reminder goes
    to the Azienda Speciale di Casalpusterlengo's staff: not the other azienda's, not the untied Lodi CSC user,
    not Cremasco's, and not the azienda's address (it has users)."""
    from services.auth import create_user

    create_user(two_ambiti, "csc.casale", "Segreteria Casale", "csc.casale@example.org", "csc_admin",
                ente_gestore="AS_CASALPUSTERLENGO")
    create_user(two_ambiti, "csc.lodigiano", "Segreteria Lodigiano", "csc.lodigiano@example.org", "csc_admin",
                ente_gestore="ASC_LODIGIANO")
    assert user_store.user(two_ambiti, "csc.casale").ambito_code == "lodi"  # the body's Ambito
    recipients = _digest_recipients_of_a_casalpusterlengo_referral(service, two_ambiti)
    assert any("csc.casale" in r for r in recipients), recipients
    others = ("csc.lodigiano", "csc.lodi", "csc.bianchi", "segreteria.aziendacasale", "segreteria.consortile")
    assert not any(o in r for r in recipients for o in others), recipients


def test_only_an_administrative_user_is_tied_to_a_managing_body_of_their_own_ambito(two_ambiti):
    from services.auth import AccountError, create_user

    with pytest.raises(AccountError, match="solo per il personale amministrativo"):
        create_user(two_ambiti, "as.x", "X", "as.x@example.org", "social_worker", sub_ambito="Lodi",
                    ente_gestore="ASC_LODIGIANO")
    with pytest.raises(AccountError, match="ente gestore «NESSUNO» inesistente"):
        create_user(two_ambiti, "csc.x", "X", "csc.x@example.org", "csc_admin", ente_gestore="NESSUNO")
    with pytest.raises(AccountError, match="appartiene all'Ambito «lodi», non a «cremasco»"):
        create_user(two_ambiti, "csc.y", "Y", "csc.y@example.org", "csc_admin", ambito="cremasco",
                    ente_gestore="ASC_LODIGIANO")
    assert user_store.user(two_ambiti, "csc.x") is None and user_store.user(two_ambiti, "csc.y") is None


def test_a_new_user_belongs_to_the_ambito_of_their_sub_ambito_and_a_mismatch_is_refused(two_ambiti):
    from services.auth import AccountError, create_user

    create_user(two_ambiti, "as.codogno", "Assistente Codogno", "as.codogno@example.org", "social_worker",
                sub_ambito="Casalpusterlengo-Codogno")
    create_user(two_ambiti, "udp.lodi2", "Ufficio di Piano Lodi", "udp.lodi2@example.org", "planning_office",
                ambito="lodi")
    assert principal_for(two_ambiti, "as.codogno").ambito.code == "lodi"
    assert principal_for(two_ambiti, "udp.lodi2").ambito.code == "lodi"
    with pytest.raises(AccountError, match="appartiene all'Ambito «lodi»"):
        create_user(two_ambiti, "as.mista", "Mista", "as.mista@example.org", "social_worker", sub_ambito="Lodi",
                    ambito="cremasco")
    with pytest.raises(AccountError, match="Ambito «nessuno» inesistente"):
        create_user(two_ambiti, "udp.x", "X", "udp.x@example.org", "planning_office", ambito="nessuno")


def test_the_tallies_of_one_ambito_count_only_its_own_cases(two_ambiti, cases_in_both):
    from dataclasses import replace

    from config.tally_files import load_tally_settings
    from services.tallies import compute_tallies

    everyone = replace(load_tally_settings(), threshold=1)

    def referred(ambito) -> int:
        body = compute_tallies(two_ambiti, year=2026, as_of=date(2026, 11, 20), settings=everyone, ambito=ambito)
        return sum(r["valore"] for r in body["arretrato"] if r["tipo_caso"] == "patto" and r["stato"] == "REFERRED")

    lodi, cremasco = (principal_for(two_ambiti, u).ambito for u in ("udp.lodi", "udp.neri"))
    assert (referred(None), referred(cremasco), referred(lodi)) == (2, 1, 1)


def test_lodi_s_tallies_break_down_by_distretto_and_by_managing_body(service, two_ambiti):
    from dataclasses import replace

    from config.tally_files import load_tally_settings
    from services.tallies import compute_tallies

    scoped = ScopedCaseService(service)
    for username, comune, surname in (("as.lodi", LODI, "Galli"), ("as.casale", CASALPUSTERLENGO, "Conti")):
        scoped.open_case(principal_for(two_ambiti, username), case_type="patto", comune_istat=comune,
                         effective_at=date(2026, 1, 12), data=segnalazione(surname=surname, name="Luca"))
    everyone, lodi = replace(load_tally_settings(), threshold=1), principal_for(two_ambiti, "udp.lodi").ambito

    def referred_by(by: str) -> dict[str, int]:
        body = compute_tallies(two_ambiti, year=2026, as_of=date(2026, 11, 20), by=by, settings=everyone,
                               ambito=lodi)
        (referrals,) = [i for i in body["indicatori"] if i["codice"] == "patti_segnalazioni"]
        return {r["chiave"]: r["valore"] for r in referrals["righe"]}

    assert referred_by("distretto") == {"Lodi": 1, "Casalpusterlengo-Codogno": 1}
    assert referred_by("ente_gestore") == {"ASC_LODIGIANO": 1, "AS_CASALPUSTERLENGO": 1}


def test_an_ambito_with_its_own_obligations_and_targets_uses_them_and_the_others_keep_the_instance_s(engine,
                                                                                                   tmp_path):
    """Lodi loaded from a folder holding its own obligations.toml (one obligation) and tallies.toml (threshold 1, one
    target): its calendar, threshold and target are those files'; its reminders and Cremasco's settings stay the
    packaged ones."""
    import shutil

    from services.ambiti import obligations_of, reminder_policy_of, tally_settings_of
    from services.tallies import compute_tallies

    folder = tmp_path / "lodi"
    shutil.copytree(LODI_DIR, folder)
    calendar = open("config/obligations.toml", encoding="utf-8").read()
    first = calendar[calendar.index("[[obbligo]]"):calendar.index("[[obbligo]]", calendar.index("[[obbligo]]") + 1)]
    (folder / "obligations.toml").write_text(first, encoding="utf-8")
    (folder / "tallies.toml").write_text('soglia_riservatezza = 1\n[obiettivi.default]\npatti_segnalazioni = '
                                         '{ min = 10, max = 20, fonte = "Piano di Zona di Lodi" }\n', encoding="utf-8")
    load_ambito(engine, folder)

    assert [o.code for o in obligations_of(engine, "lodi")] == ["misura_abitativa_30_09"]
    assert len(obligations_of(engine, "cremasco")) > 1
    assert reminder_policy_of(engine, "lodi") == reminder_policy_of(engine, "cremasco")
    assert tally_settings_of(engine, "lodi").threshold == 1 and tally_settings_of(engine, "cremasco").threshold == 5
    applied = ambito_detail(engine, "lodi")["impostazioni"]
    assert (applied["obligations.toml"]["livello"], applied["tallies.toml"]["livello"],
            applied["reminders.toml"]["livello"]) == ("ambito", "ambito", "predefinito")

    lodi, cremasco = ambito_scope(engine, "lodi"), ambito_scope(engine, "cremasco")
    body = compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), ambito=lodi)
    (referrals,) = [i for i in body["indicatori"] if i["codice"] == "patti_segnalazioni"]
    assert body["soglia_riservatezza"] == 1 and (referrals["obiettivo"]["min"], referrals["obiettivo"]["max"]) == (10, 20)
    assert compute_tallies(engine, year=2026, as_of=date(2026, 11, 20), ambito=cremasco)["soglia_riservatezza"] == 5
