"""Roles and scope enforced in the service layer (DOMAIN.md §2), on SQLite and PostgreSQL.

One small district world: a patto in Crema and one in Pandino, two SAD cases in Crema (one chose ENTE01,
the other ENTE02), an FNA application sent for assessment, the FNA call, the providers' adhesions and a
minor's patto. Every role reads, lists and acts on it through services/access.py.
"""
from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.access import AccessDenied, can_read_case
from domain.engine import allowed_transitions
from domain.registry import get_workflow
from services.access import (
    ScopedCaseService,
    authorize_read,
    case_ref,
    health_reads,
    principal_for,
    read_case,
    redact,
    scoped_filter,
    visible_case_ids,
)
from services.queries import CaseFilter, case_detail, list_cases
from services.setup import ensure_user
from store.auth_tables import health_access_log_t, login_throttle_t
from store.tables import case_t, transition_t
from tests.district_world import CREMA, EXTRA_USERS, build_world

from .conftest import NOW
from .patto_steps import segnalazione

TODAY = NOW.date()


@pytest.fixture
def users(engine):
    with engine.begin() as conn:
        conn.execute(login_throttle_t.delete())  # not emptied by the PostgreSQL fixture until patched
        for username, role, area, provider in EXTRA_USERS:
            ensure_user(conn, username, username.title(), f"{username}@example.org", role, area, provider)
    return engine


def p(engine, username):
    return principal_for(engine, username)


@pytest.fixture
def world(service, users):
    return build_world(service)


DISTRICT = {"bando", "adesione01", "adesione02"}
ALL_CASES = {"patto_crema", "patto_pandino", "sad_ente01", "sad_ente02", "fna", "minore"} | DISTRICT
READS = {
    "as.rossi": {"patto_crema", "sad_ente01", "sad_ente02", "fna", "minore"} | DISTRICT,
    "as.bruni": {"patto_crema", "sad_ente01", "sad_ente02", "fna"} | DISTRICT,
    "as.verdi": {"patto_pandino"} | DISTRICT,
    "coord.crema": {"patto_crema", "sad_ente01", "sad_ente02", "fna", "minore"} | DISTRICT,
    "coord.pandino": {"patto_pandino"} | DISTRICT,
    "csc.bianchi": ALL_CASES - {"minore"},
    "udp.neri": {"fna"} | DISTRICT,
    "ente.girasole": {"sad_ente01", "adesione01"},
    "ente.ponte": {"sad_ente02", "adesione02"},
    "ovd.valutatore": set(),
    "asst.medici": {"fna"} | DISTRICT,
    "sistema": ALL_CASES,
}


def readable(engine, principal, ids) -> set[str]:
    seen = set()
    for name, case_id in ids.items():
        try:
            authorize_read(engine, principal, case_id, today=TODAY)
            seen.add(name)
        except AccessDenied:
            pass
    return seen


def test_each_role_reads_exactly_the_cases_of_its_scope_in_details_and_in_lists(engine, world):
    by_id = {v: k for k, v in world.items()}
    details = {u: readable(engine, p(engine, u), world) for u in READS}
    lists = {u: {by_id[i] for i in visible_case_ids(engine, p(engine, u), today=TODAY)} for u in READS}
    assert details == READS
    assert lists == READS


def test_the_sql_scope_and_the_pure_rule_agree_on_every_case(engine, world):
    with engine.connect() as conn:
        refs = {name: case_ref(conn, case_id, TODAY) for name, case_id in world.items()}
    for username in READS:
        principal = p(engine, username)
        listed = set(visible_case_ids(engine, principal, today=TODAY))
        for name, ref in refs.items():
            assert (world[name] in listed) is can_read_case(principal, ref), (username, name)


def test_a_refused_read_raises_access_denied_with_the_italian_reason(engine, world):
    with pytest.raises(AccessDenied, match="il caso non appartiene ai comuni del suo sub-ambito"):
        read_case(engine, p(engine, "as.verdi"), world["patto_crema"], today=TODAY)
    with pytest.raises(AccessDenied, match="l'ente vede solo i casi SAD che lo hanno scelto"):
        read_case(engine, p(engine, "ente.ponte"), world["sad_ente01"], today=TODAY)
    with pytest.raises(AccessDenied, match="solo dati aggregati"):
        read_case(engine, p(engine, "ovd.valutatore"), world["fna"], today=TODAY)
    with pytest.raises(AccessDenied, match="minore"):
        read_case(engine, p(engine, "as.bruni"), world["minore"], today=TODAY)


def test_the_principal_carries_the_comuni_of_the_sub_ambito(engine, users):
    rossi = p(engine, "as.rossi")
    assert rossi.comuni == {"019035", "019054", "019062", "019081"}
    assert (rossi.role.value, rossi.sub_ambito, rossi.is_admin) == ("social_worker", "Crema", False)
    assert p(engine, "ente.ponte").provider_codice == "ENTE02"
    with pytest.raises(AccessDenied, match="inesistente o disattivato"):
        p(engine, "nessuno")


# ------------------------------------------------------------------------------------------ acting


def test_the_allowed_steps_of_each_user_follow_role_and_scope(service, engine, world):
    """In scope: every step the declaration gives the role (engine's `allowed_transitions`); a worker on a
    colleague's case: none; out of scope: the case cannot even be asked about."""
    scoped = ScopedCaseService(service)

    def allowed(username, case):
        try:
            return scoped.allowed(p(engine, username), world[case])
        except AccessDenied:
            return None

    def by_role(username, case):
        detail = case_detail(engine, world[case])
        wf = get_workflow(detail["tipo"])
        return [t.name for t in allowed_transitions(wf, detail["stato"], p(engine, username).role)]

    in_scope = [("as.rossi", "patto_crema"), ("coord.crema", "patto_crema"), ("csc.bianchi", "patto_crema"),
                ("ente.girasole", "sad_ente01"), ("as.rossi", "sad_ente01"), ("csc.bianchi", "sad_ente02"),
                ("as.rossi", "fna"), ("as.bruni", "fna"), ("asst.medici", "fna"), ("udp.neri", "fna"),
                ("csc.bianchi", "fna"), ("udp.neri", "bando"), ("ente.girasole", "adesione01")]
    for username, case in in_scope:
        assert allowed(username, case) == by_role(username, case), (username, case)
    assert "sospendi" in allowed("as.rossi", "patto_crema")
    assert allowed("coord.crema", "patto_crema") == ["interrompi"]
    assert allowed("ente.girasole", "sad_ente01") == ["prima_visita"]
    assert allowed("asst.medici", "fna") == ["ammetti"]
    assert allowed("as.bruni", "patto_crema") == []  # assigned to as.rossi
    assert allowed("as.rossi", "sad_ente02") == []  # assigned to as.bruni
    for username, case in [("as.verdi", "patto_crema"), ("coord.pandino", "patto_crema"), ("udp.neri", "patto_crema"),
                           ("ente.ponte", "sad_ente01"), ("as.verdi", "fna"), ("ovd.valutatore", "fna"),
                           ("ente.ponte", "adesione01")]:
        assert allowed(username, case) is None, (username, case)


def test_an_out_of_scope_transition_is_refused_before_anything_is_written(service, engine, world):
    scoped = ScopedCaseService(service)
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(transition_t)).scalar()
    with pytest.raises(AccessDenied, match="il caso non appartiene al suo sub-ambito"):
        scoped.advance(p(engine, "coord.pandino"), case_id=world["patto_crema"], transition="interrompi",
                       data={"causa": "trasferimento"}, reason="trasferito", effective_at=date(2026, 3, 1))
    with pytest.raises(AccessDenied, match="assegnato a «as.rossi»"):
        scoped.advance(p(engine, "as.bruni"), case_id=world["patto_crema"], transition="sospendi",
                       reason="ricovero", effective_at=date(2026, 3, 1))
    with pytest.raises(AccessDenied, match="l'ente vede solo i casi SAD"):
        scoped.advance(p(engine, "ente.ponte"), case_id=world["sad_ente01"], transition="prima_visita",
                       effective_at=date(2026, 4, 20),
                       data={"visita": {"data": "20/04/2026", "operatore": "Lia B.", "minuti": 60,
                                        "servizi": ["igiene_personale"]}})
    with pytest.raises(AccessDenied, match="il ruolo «amministrativo CSC» non può eseguire"):
        scoped.advance(p(engine, "csc.bianchi"), case_id=world["patto_crema"], transition="sospendi",
                       reason="x", effective_at=date(2026, 3, 1))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(transition_t)).scalar() == before


def test_in_scope_users_fire_their_transitions_through_the_scoped_service(service, engine, world):
    scoped = ScopedCaseService(service)
    scoped.advance(p(engine, "ente.girasole"), case_id=world["sad_ente01"], transition="prima_visita",
                   effective_at=date(2026, 4, 20),
                   data={"visita": {"data": "20/04/2026", "operatore": "Lia B.", "minuti": 60,
                                    "servizi": ["igiene_personale"]}})
    scoped.advance(p(engine, "as.rossi"), case_id=world["patto_crema"], transition="sospendi", reason="ricovero",
                   effective_at=date(2026, 3, 1))
    assert case_detail(engine, world["sad_ente01"])["stato"] == "ACTIVE"
    assert case_detail(engine, world["patto_crema"])["stato"] == "SUSPENDED"


def test_opening_a_case_is_limited_to_the_comuni_of_the_worker(service, engine, users):
    scoped = ScopedCaseService(service)
    with pytest.raises(AccessDenied, match="comuni del suo sub-ambito"):
        scoped.open_case(p(engine, "as.verdi"), case_type="patto", comune_istat=CREMA,
                         effective_at=date(2026, 1, 12), data=segnalazione())
    case_id = scoped.open_case(p(engine, "as.rossi"), case_type="patto", comune_istat=CREMA,
                               effective_at=date(2026, 1, 12), data=segnalazione())
    assert case_detail(engine, case_id)["comune_istat"] == CREMA


# ------------------------------------------------------------------------------------------ redaction


SOCIAL_PATTO = {"fonte", "bisogno", "bisogni", "risorse", "componenti_nucleo", "obiettivi", "impegni_reciprocita"}


def test_csc_sees_identity_amounts_and_isee_but_no_social_notes(engine, world, service):
    service.advance(case_id=world["patto_crema"], transition="sospendi", actor=service.actor("as.rossi"),
                    reason="ricovero ospedaliero", effective_at=date(2026, 3, 1))
    full = case_detail(engine, world["patto_crema"], today=TODAY)
    assert SOCIAL_PATTO <= set(full["dati"])
    seen = read_case(engine, p(engine, "csc.bianchi"), world["patto_crema"], today=TODAY)
    assert seen["persona"] == full["persona"]
    assert seen["dati"]["isee"]["valore"] == "6500" and seen["dati"]["misura_economica"]["importo"] == "400"
    assert not SOCIAL_PATTO & set(seen["dati"])
    for row in seen["storia"]:
        assert not SOCIAL_PATTO & set(row["dati"])
        assert row["motivo"] is None
    assert seen["dati_riservati"] == ["note e valutazioni sociali"]
    assert health_reads(engine) == []


def test_csc_never_sees_the_health_data_of_an_fna_application(engine, world):
    seen = read_case(engine, p(engine, "csc.bianchi"), world["fna"], today=TODAY)
    assert seen["dati"]["iban"] == "IT60X0542811101000000123456"
    assert seen["dati"]["protocollo"] == "CSC-2026-0042"
    hidden = {"invalidita_104_art3c3", "indennita_accompagnamento", "caregiver", "vive_solo"}
    assert not hidden & set(seen["dati"])
    assert all(not hidden & set(row["dati"]) for row in seen["storia"])
    assert seen["dati_riservati"] == ["dati sanitari", "note e valutazioni sociali"]
    assert health_reads(engine) == []


def test_a_provider_sees_only_the_care_plan_of_the_case_that_chose_it(engine, world):
    seen = read_case(engine, p(engine, "ente.girasole"), world["sad_ente01"], today=TODAY)
    assert seen["persona"]["cognome"] == "Colombo"
    assert set(seen["dati"]) == {"urgente", "obiettivi", "servizi", "ore_settimanali", "revisione_il",
                                 "ore_mensili", "valido_dal", "valido_al"}
    history_keys = set().union(*(row["dati"] for row in seen["storia"]))
    assert not history_keys & {"adl", "iadl", "isee_valore", "fonte", "tariffa_oraria", "quota_utente"}
    assert seen["prossime_transizioni"] == [{"transizione": "prima_visita", "etichetta": "Prima visita",
                                            "ruoli": ["ente accreditato"]}]


def test_a_social_worker_sees_health_data_only_on_the_cases_they_own(engine, world):
    own = read_case(engine, p(engine, "as.rossi"), world["sad_ente01"], today=TODAY)
    colleague = read_case(engine, p(engine, "as.bruni"), world["sad_ente01"], today=TODAY)
    assert (own["dati"]["adl"], own["dati"]["iadl"]) == (3, 5)
    assert "adl" not in colleague["dati"] and "iadl" not in colleague["dati"]
    assert colleague["dati"]["fonte"] == "dimissione_protetta"  # social data of the comune: visible
    assert colleague["dati_riservati"] == ["dati sanitari"]
    application = read_case(engine, p(engine, "as.rossi"), world["fna"], today=TODAY)
    assert "invalidita_104_art3c3" not in application["dati"]  # an application has no owner


def test_redact_works_on_any_detail_dict_without_touching_the_original(engine, world):
    full = case_detail(engine, world["fna"], today=TODAY)
    redacted = redact(full, p(engine, "csc.bianchi"))
    assert "adl" not in redacted["dati"] and "invalidita_104_art3c3" not in redacted["dati"]
    assert full["dati"]["invalidita_104_art3c3"] is True


# ------------------------------------------------------------------------------------------ health log


def test_every_read_that_returns_health_data_is_logged_with_who_what_and_when(engine, world):
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    read_case(engine, p(engine, "as.rossi"), world["sad_ente01"], today=TODAY, now=at)
    read_case(engine, p(engine, "as.bruni"), world["sad_ente01"], today=TODAY, now=at)  # redacted: no log
    read_case(engine, p(engine, "coord.crema"), world["fna"], today=TODAY, now=at + timedelta(minutes=5))
    read_case(engine, p(engine, "udp.neri"), world["fna"], today=TODAY, now=at + timedelta(minutes=6))
    read_case(engine, p(engine, "ente.girasole"), world["sad_ente01"], today=TODAY, now=at)  # no log
    rows = [(r["utente"], r["ruolo"], r["caso"], r["campi"], r["letto_il"]) for r in health_reads(engine)]
    assert rows == [
        ("as.rossi", "social_worker", world["sad_ente01"], ["adl", "iadl"], at),
        ("coord.crema", "subarea_coordinator", world["fna"], ["indennita_accompagnamento", "invalidita_104_art3c3"],
         at + timedelta(minutes=5)),
        ("udp.neri", "planning_office", world["fna"], ["indennita_accompagnamento", "invalidita_104_art3c3"],
         at + timedelta(minutes=6)),
    ]


def test_the_health_access_log_is_append_only(engine, world):
    read_case(engine, p(engine, "as.rossi"), world["sad_ente01"], today=TODAY)
    for statement in (health_access_log_t.update().values(username="qualcun altro"),
                      health_access_log_t.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(statement)
    assert [r["utente"] for r in health_reads(engine)] == ["as.rossi"]


def test_the_scoped_service_reads_with_its_clock_and_logs_health_reads(service, engine, world):
    seen = ScopedCaseService(service).read(p(engine, "as.rossi"), world["sad_ente01"])
    assert seen["dati"]["adl"] == 3
    assert [r["letto_il"] for r in health_reads(engine, case_id=world["sad_ente01"])] == [NOW]


# ------------------------------------------------------------------------------------------ minors and lists


def test_a_minors_case_is_read_only_by_its_owner_and_the_coordinator(engine, world):
    assert read_case(engine, p(engine, "as.rossi"), world["minore"], today=TODAY)["persona"]["nome"] == "Sara"
    assert read_case(engine, p(engine, "coord.crema"), world["minore"], today=TODAY)["id"] == world["minore"]
    for username in ("as.bruni", "csc.bianchi"):
        with pytest.raises(AccessDenied, match="caso di un minore"):
            authorize_read(engine, p(engine, username), world["minore"], today=TODAY)
    # on her 18th birthday the case is an adult's: the comune's workers and CSC see it again
    assert world["minore"] in visible_case_ids(engine, p(engine, "as.bruni"), today=date(2030, 3, 9))
    assert world["minore"] not in visible_case_ids(engine, p(engine, "as.bruni"), today=date(2030, 3, 8))


def test_the_scope_condition_composes_with_the_case_filters_of_a_list(engine, world):
    q = sa.select(case_t.c.id).where(scoped_filter(p(engine, "csc.bianchi"), today=TODAY),
                                     case_t.c.case_type == "patto").order_by(case_t.c.id)
    with engine.connect() as conn:
        assert list(conn.execute(q).scalars()) == [world["patto_crema"], world["patto_pandino"]]


@pytest.mark.skipif("scope" not in inspect.signature(list_cases).parameters,
                    reason="patch queries-list-scope not applied yet")
def test_list_cases_takes_the_scope_of_the_user(engine, world):
    rows = list_cases(engine, CaseFilter(case_type="patto"), today=TODAY,
                      scope=scoped_filter(p(engine, "as.verdi"), today=TODAY))
    assert [r["id"] for r in rows] == [world["patto_pandino"]]


def _minor_fna_application(service, call: int) -> int:
    from tests.integration.patto_steps import persona

    csc = service.actor("csc.bianchi")
    return service.open_case(
        case_type="fna_domanda", actor=csc, comune_istat=CREMA, related_case_id=call, effective_at=date(2026, 6, 18),
        data={"persona": persona("Galli", "Luca", date(2015, 4, 3)), "protocollo": "CSC-2026-0077",
              "isee": {"tipo": "ordinario", "valore": "18000", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                       "data_dsu": "2026-02-10"},
              "invalidita_104_art3c3": True, "indennita_accompagnamento": True, "misura": "caregiver",
              "caregiver": "Anna Galli", "iban": "IT60X0542811101000000123456"})


def test_a_minors_fna_application_is_processed_by_the_roles_that_process_fna_and_each_read_is_logged(
        service, engine, world):
    """DOMAIN.md §2 [A]: a minor's case is read by its owner and the coordinator; an FNA application has no
    owner, so the roles its declaration names as processing FNA (CSC, the comune's social worker, the planning
    office, the ASST assessor) read and process a minor's application too, each read logged."""
    scoped = ScopedCaseService(service)
    case_id = _minor_fna_application(service, world["bando"])
    csc = p(engine, "csc.bianchi")
    scoped.advance(csc, case_id=case_id, transition="avvia_istruttoria", effective_at=date(2026, 6, 19))
    scoped.advance(csc, case_id=case_id, transition="avvia_valutazione", effective_at=date(2026, 6, 20))
    scoped.advance(p(engine, "as.rossi"), case_id=case_id, transition="ammetti", effective_at=date(2026, 6, 25),
                   data={"adl": 4, "iadl": 5, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})
    for username in ("csc.bianchi", "udp.neri", "as.rossi"):
        before = len(health_reads(engine, case_id=case_id, username=username))
        assert read_case(engine, p(engine, username), case_id, today=TODAY)["id"] == case_id
        logged = health_reads(engine, case_id=case_id, username=username)[before:]
        assert len(logged) == 1 and "caso_di_minore" in logged[0]["campi"], username
        assert case_id in visible_case_ids(engine, p(engine, username), today=TODAY), username
    with pytest.raises(AccessDenied, match="sub-ambito"):  # the scope still holds: a worker of another comune
        authorize_read(engine, p(engine, "as.verdi"), case_id, today=TODAY)
    assert case_id not in visible_case_ids(engine, p(engine, "as.verdi"), today=TODAY)
