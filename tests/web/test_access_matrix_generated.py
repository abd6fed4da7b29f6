"""The access matrix, generated: every entrance × every role × every case of the world × every field class.

Nothing here lists who may read what. The rows come from the route table (`app.routes`), the CLI's command
tree, the users of the district world and the registry's case types; the expected answer for each
(user, case) comes from the pure rule, `domain.access.can_read_case` and `visible_fields` (the oracle); the
class of every value, nested ones included (the FNA call's ranking snapshot), from the case type's
`field_map`. For each entrance it checks:

- out of scope: 403/404 (CLI: exit ≠ 0 and one Italian line) and nothing of the case in the answer (surname,
  codice fiscale, any distinctive value of its data, a link to it);
- in scope: 200, and of the case's data only the values of the classes the role sees (JSON: the redacted
  data is exactly the oracle's; HTML: no label of a hidden value, no distinctive hidden value);
- lists and searches: none of the above for the cases out of scope, none of the hidden values of the others;
- every answer holding health data wrote one new health_access_log row for that user and case, and no other
  answer wrote one;
- transitions and openings out of scope: refused, case version (or number of cases) unchanged.

A route or a case command that is neither exercised nor skipped here with a reason fails
`test_every_entrance_is_in_the_matrix`, so a new entrance cannot escape. A leak found is marked
xfail(strict=True) in KNOWN_LEAKS with its reason, so it stays visible until fixed.
"""
from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from markupsafe import escape
from pypdf import PdfReader
from starlette.routing import Mount, Route
from typer.testing import CliRunner

from domain.access_handover import TRANSFER_ROLES
from domain.casetypes.fna import ranking as rk
from domain.access import (
    CaseRef,
    handover_refusal,
    transfer_refusal,
    FieldClass,
    Principal,
    can_read_case,
    act_refusal,
    diary_refusal,
    document_refusal,
    fire_refusal,
    read_as_minor_processor,
    visible_fields,
)
from domain.acts import act_classes
from domain.registry import all_case_types, get_case_type, get_workflow
from domain.workflow import Role
from services.access import ScopedCaseService, case_ref, health_reads, principal_for
from services.auth import create_user, use_password_hasher
from services.calendar_link import calendar_path
from services.cases import CaseService
from services.fna_pages import RANKING_ROLES, publish_ranking
from services.provider_portal import portal_refusal
from services.queries import case_detail
from store.auth_tables import login_throttle_t
from store.db import make_engine
from store.tables import case_t
from tests.conftest import FAST_HASHER
from tests.district_world import CREMA, PANDINO, build_world
from tests.integration.patto_steps import persona
from web.app import create_app
from web.forms import describe_data

from .conftest import ALL_USERS, NOW, PASSWORD, csrf_of, login

TODAY = NOW.date()
H = FieldClass.HEALTH
REFUSED = (403, 404)
DENIED_PREFIX = "Errore: accesso negato: "

# ============================================================================ the world


def _ranked_call(service: CaseService, engine) -> dict[str, int]:
    """A closed FNA call with two admitted applications (Crema, Pandino) and its provisional ranking published:
    the call's record then holds the snapshot with each application's health-derived points."""
    udp, csc = service.actor("udp.neri"), service.actor("csc.bianchi")
    call = service.open_case(case_type="fna_bando", actor=udp, effective_at=date(2026, 5, 6),
                             data={"titolo": "Bando FNA B2 2026 Graduato", "anno_fna": 2025, "dgr": "DGR 4321/2026"})
    service.advance(case_id=call, transition="approva", actor=udp, effective_at=date(2026, 5, 22), data={
        "delibera": "Assemblea dei Sindaci 22/05/2026", "budget": "50000",
        "misure": [{"misura": "caregiver", "importo_min": "100", "importo_max": "400"}],
        "apertura": "10/06/2026", "chiusura": "10/07/2026"})
    service.advance(case_id=call, transition="apri", actor=udp, effective_at=date(2026, 6, 10))
    ids = {"bando_graduato": call}
    applicants = [("fna_graduata_crema", CREMA, "as.rossi", "Lodigiani", "Teresa", date(1939, 2, 3), "FNA-G-1",
                   "Gianni Lodigiani", 5, 6),
                  ("fna_graduata_pandino", PANDINO, "as.verdi", "Scotti", "Piera", date(1944, 7, 8), "FNA-G-2",
                   "Ornella Scotti", 3, 4)]
    for key, comune, _, surname, name, born, prot, caregiver, *_ in applicants:
        app = service.open_case(
            case_type="fna_domanda", actor=csc, comune_istat=comune, related_case_id=call,
            effective_at=date(2026, 6, 18),
            data={"persona": persona(surname, name, born), "protocollo": prot,
                  "isee": {"tipo": "sociosanitario", "valore": "8000", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                           "data_dsu": "2026-02-10"},
                  "invalidita_104_art3c3": True, "indennita_accompagnamento": False, "misura": "caregiver",
                  "caregiver": caregiver, "iban": "IT60X0542811101000000123456"})
        service.advance(case_id=app, transition="avvia_istruttoria", actor=csc, effective_at=date(2026, 6, 22))
        service.advance(case_id=app, transition="avvia_valutazione", actor=csc, effective_at=date(2026, 6, 23))
        ids[key] = app
    service.advance(case_id=call, transition="chiudi", actor=udp, effective_at=date(2026, 7, 11))
    for key, _, worker, *_, adl, iadl in applicants:
        service.advance(case_id=ids[key], transition="ammetti", actor=service.actor(worker),
                        effective_at=date(2026, 7, 20),
                        data={"scala": "ADL/IADL Katz-Lawton", "adl": adl, "iadl": iadl,
                              "misura_proposta": "caregiver", "importo_mensile_proposto": "300"})
    publish_ranking(ScopedCaseService(service), principal_for(engine, "udp.neri"), call, "provvisoria",
                    "Determinazione UdP n. 41/2026", None)
    return ids


def _minor_fna_application(service: CaseService, call: int) -> int:
    """A minor's FNA application sent for assessment: read by the roles that process FNA, each read logged."""
    csc = service.actor("csc.bianchi")
    app = service.open_case(
        case_type="fna_domanda", actor=csc, comune_istat=CREMA, related_case_id=call, effective_at=date(2026, 6, 25),
        data={"persona": persona("Zanoletti", "Giada", date(2013, 5, 6)), "protocollo": "CSC-2026-0077",
              "isee": {"tipo": "minorenni", "valore": "9000", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                       "data_dsu": "2026-02-10"},
              "invalidita_104_art3c3": True, "indennita_accompagnamento": True, "misura": "caregiver",
              "caregiver": "Marta Zanoletti", "iban": "IT60X0542811101000000123456"})
    service.advance(case_id=app, transition="avvia_istruttoria", actor=csc, effective_at=date(2026, 6, 26))
    service.advance(case_id=app, transition="avvia_valutazione", actor=csc, effective_at=date(2026, 6, 27))
    return app


# The cases of the world, by name (tests/district_world.py plus the two builders above): the parametrisation
# needs them before the world exists; `test_the_world_has_a_case_of_every_registered_type` checks both agree.
CASES = ("patto_crema", "patto_pandino", "adesione01", "adesione02", "sad_ente01", "sad_ente02", "bando", "fna",
         "minore", "bando_graduato", "fna_graduata_crema", "fna_graduata_pandino", "fna_minore",
         "bonus_famiglia", "misura_esterna")
USERS = tuple(sorted(u for u, *_ in ALL_USERS))


@dataclass
class Case:
    id: int
    ref: CaseRef
    detail: dict[str, Any]  # unredacted (services.queries.case_detail)


@dataclass
class World:
    engine: Any
    url: str
    app: Any
    cases: dict[str, Case]
    principals: dict[str, Principal]
    pages: dict[str, TestClient]  # logged in through the login form
    api: dict[str, TestClient]  # HTTP Basic

    def by_id(self, case_id: int) -> tuple[str, Case]:
        return next((n, c) for n, c in self.cases.items() if c.id == case_id)

    def refresh(self, name: str) -> None:
        c = self.cases[name]
        c.detail = case_detail(self.engine, c.id, today=TODAY)


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_url(request, tmp_path_factory, sqlite_template):
    """One database for the whole module (the world is built once), on each backend."""
    from tests.conftest import fresh_database_url

    return fresh_database_url(request, tmp_path_factory.mktemp("matrix"), sqlite_template)


def _bonus_with_sheet(service) -> int:
    """A Bonus Famiglia pregnancy in Crema, owned by as.rossi, with its interview sheet (social notes) and the
    expected delivery date (health class)."""
    from tests.integration.test_bonus_famiglia import SHEET, request

    case_id = service.open_case(case_type="bonus_famiglia", actor=service.actor("csc.bianchi"), comune_istat=CREMA,
                                effective_at=date(2026, 3, 2), data=request("Ferrari"))
    service.advance(case_id=case_id, transition="rilascia_scheda", actor=service.actor("as.rossi"),
                    effective_at=date(2026, 3, 9), data=SHEET)
    return case_id


@pytest.fixture(scope="module")
def world(matrix_url) -> Iterator[World]:
    previous = use_password_hasher(FAST_HASHER)
    engine = make_engine(matrix_url)
    with engine.begin() as conn:
        conn.execute(login_throttle_t.delete())
    for username, role, area, provider in ALL_USERS:
        create_user(engine, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                    sub_ambito=area, provider_codice=provider, password=PASSWORD,
                    is_admin=username == "udp.admin", now=NOW)
    service = CaseService(engine, clock=lambda: NOW)
    ids = build_world(service)
    ids |= _ranked_call(service, engine)
    ids["fna_minore"] = _minor_fna_application(service, ids["bando"])
    ids["bonus_famiglia"] = _bonus_with_sheet(service)
    ids["misura_esterna"] = service.open_case(
        case_type="misura_esterna", actor=service.actor("csc.bianchi"), comune_istat=CREMA, effective_at=date(2026, 3, 2),
        data={"persona": persona("Conti", "Gino", date(1950, 7, 1)), "misura": "B1", "ente_erogatore": "ASST Crema",
              "dal": "02/03/2026"})
    cases = {}
    with engine.connect() as conn:
        for name, case_id in ids.items():
            cases[name] = Case(case_id, case_ref(conn, case_id, TODAY), case_detail(engine, case_id, today=TODAY))
    app = create_app(engine=engine, clock=lambda: NOW)
    pages = {u: login(TestClient(app, base_url="http://testserver"), u) for u in USERS}
    api = {u: TestClient(app, headers=basic(u)) for u in USERS}
    w = World(engine, matrix_url, app, cases, {u: principal_for(engine, u) for u in USERS}, pages, api)
    yield w
    for client in (*pages.values(), *api.values()):
        client.close()
    use_password_hasher(previous)
    engine.dispose()


# ============================================================================ the oracle: classes of every value


def _leaves(fm, path: str, value: Any, cls: FieldClass, on_path: frozenset[FieldClass]) -> Iterator[tuple]:
    """(path, classes on the path, own class, value) of every value, in the order web.forms.describe_data
    shows them (a list of records one record at a time, a list of plain values as one value)."""
    if isinstance(value, dict):
        for key, item in value.items():
            sub, sub_cls = fm.child(path, str(key), cls)
            yield from _leaves(fm, sub, item, sub_cls, on_path | {sub_cls})
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for item in value:
            yield from _leaves(fm, path + "[]", item, cls, on_path)
    else:
        yield path, on_path, cls, value


def data_leaves(case_type: str, data: dict[str, Any] | None) -> list[tuple]:
    fm = get_case_type(case_type).field_map
    out = []
    for key, value in (data or {}).items():
        cls = fm.of(key)
        out += list(_leaves(fm, key, value, cls, frozenset({cls})))
    return out


def _prune(fm, path: str, value: Any, cls: FieldClass, visible: frozenset[FieldClass], health: set[str]) -> Any:
    if isinstance(value, list):
        return [_prune(fm, path + "[]", v, cls, visible, health) for v in value]
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            sub, sub_cls = fm.child(path, str(key), cls)
            if sub_cls in visible:
                kept[key] = _prune(fm, sub, item, sub_cls, visible, health)
        return kept
    if cls is H:
        health.add(path)
    return value


def expected_data(case_type: str, data: dict[str, Any] | None, visible: frozenset[FieldClass],
                  health: set[str]) -> dict[str, Any]:
    """The data as the oracle says a reader seeing `visible` gets it; `health` collects the health paths kept."""
    fm = get_case_type(case_type).field_map
    return {k: _prune(fm, k, v, fm.of(k), visible, health) for k, v in (data or {}).items() if fm.of(k) in visible}


@dataclass
class Expectation:
    """What one user may get of one case."""

    readable: bool
    visible: frozenset[FieldClass]
    dati: dict[str, Any]
    storia: list[dict[str, Any]]
    persona: dict[str, Any] | None
    health: bool  # the answer holds health data (or the read is a logged read of a minor's case)
    hidden_labels: set[str]  # labels (as the case page shows them) of values the user may not see
    hidden_values: set[str]  # distinctive values the user may not see


def _distinctive(value: Any) -> bool:
    """A value whose presence in a page can only mean it was shown: free text, not a date, an enum or a number."""
    return (isinstance(value, str) and len(value) >= 6 and (" " in value or any(ch.isupper() for ch in value))
            and not re.fullmatch(r"[\d/.:\- T+]+", value))


def expect(world: World, username: str, name: str) -> Expectation:
    p, case = world.principals[username], world.cases[name]
    readable = can_read_case(p, case.ref)
    visible = visible_fields(p, case.ref)
    d = case.detail
    health: set[str] = set()
    dati = expected_data(d["tipo"], d["dati"], visible, health)
    storia = [expected_data(d["tipo"], h["dati"], visible, health) for h in d["storia"]]
    wf = get_workflow(d["tipo"])
    shown: set[str] = set()
    hidden: set[str] = set()
    values: set[str] = set()
    sources = [(None, d["dati"]), *((wf.transition(h["transizione"]), h["dati"]) for h in d["storia"])]
    for t, data in sources:
        leaves = data_leaves(d["tipo"], data)
        labels = describe_data(wf, t, data or {})
        assert len(labels) == len(leaves), (name, t, labels, leaves)
        for (path, on_path, _, value), (label, _) in zip(leaves, labels):
            if on_path <= visible:
                shown.add(str(escape(label)))
            else:
                hidden.add(str(escape(label)))
                if _distinctive(value):
                    values.add(value)
    if FieldClass.SOCIAL not in visible:
        values |= {r for r in [d.get("motivo_esito"), *(h.get("motivo") for h in d["storia"])] if _distinctive(r)}
    person = d["persona"] if FieldClass.IDENTITY in visible else None
    return Expectation(readable, visible, dati, storia, person,
                       bool(health) or read_as_minor_processor(p, case.ref), hidden - shown, values)


def identity_strings(world: World, case: Case) -> set[str]:
    """What names the case's person: the codice fiscale, and the surname when no user is called so."""
    person = case.detail.get("persona")
    if not person:
        return set()
    users = " ".join(f"{u} {u.replace('.', ' ').title()}" for u in USERS).lower()
    return {person["codice_fiscale"]} | ({person["cognome"]} if person["cognome"].lower() not in users else set())


def forbidden_for(world: World, username: str) -> dict[str, str]:
    """Every string that must not reach `username` from anywhere, with the reason; minus what the user may
    legitimately see of the cases in scope (the same value may be visible in one case and hidden in another)."""
    forbidden: dict[str, str] = {}
    allowed: set[str] = set()
    for name, case in world.cases.items():
        e = expect(world, username, name)
        if not e.readable:
            for s in identity_strings(world, case):
                forbidden[s] = f"persona del caso «{name}» (fuori ambito)"
            for _, _, _, value in data_leaves(case.detail["tipo"], case.detail["dati"]):
                if _distinctive(value):
                    forbidden.setdefault(value, f"dato del caso «{name}» (fuori ambito)")
            continue
        for s in e.hidden_values:
            forbidden.setdefault(s, f"dato riservato del caso «{name}»")
        allowed |= _strings(e.dati) | _strings(e.storia) | _strings(e.persona)
        allowed |= {str(case.detail.get(k)) for k in ("motivo_esito",) if FieldClass.SOCIAL in e.visible}
        allowed |= {str(h.get("motivo")) for h in case.detail["storia"] if FieldClass.SOCIAL in e.visible}
    return {s: why for s, why in forbidden.items() if not any(s in a for a in allowed)}


def _strings(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_strings(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


def leaks_in(text: str, forbidden: dict[str, str]) -> list[str]:
    return [f"«{s}»: {why}" for s, why in forbidden.items() if s in text or str(escape(s)) in text]


# ============================================================================ the entrances


CASE_PARAMS = {"case_id", "caso_id", "call_id"}


@dataclass(frozen=True)
class CaseRead:
    """A GET of one case. `narrower` says why the route refuses some readers the rule admits (never more)."""

    form: str  # "json_detail" | "html_detail" | "json" | "html" | "pdf"
    logs: str = "case"  # "case": read_case's log; "ranking": also each application shown; "none"
    roles: frozenset[Role] | None = None  # the route serves only these roles
    case_types: frozenset[str] | None = None  # ... and only these case types
    narrower: str = ""


CALL = frozenset({"fna_bando"})
PERSONAL = frozenset(ct.case_type for ct in all_case_types() if ct.workflow.has_person)
CASE_READS: dict[str, CaseRead] = {
    "/casi/{case_id}/persona": CaseRead("html", logs="none", case_types=PERSONAL,
                                        narrower="solo i casi di una persona (la pagina della persona)"),
    "/api/v1/casi/{caso_id}/persona": CaseRead("json", logs="none", case_types=PERSONAL,
                                               narrower="solo i casi di una persona"),
    "/casi/{case_id}": CaseRead("html_detail"),
    "/casi/{case_id}/storia": CaseRead("html_detail"),  # «Storia completa»: every step's data, as read_case redacts it
    "/api/v1/casi/{caso_id}": CaseRead("json_detail"),
    "/api/v1/casi/{caso_id}/transizioni": CaseRead("json", logs="none"),
    "/api/v1/casi/{caso_id}/scadenze": CaseRead("json", logs="none"),
    "/api/v1/casi/{caso_id}/diario": CaseRead("json", logs="none", narrower="il mondo non ha voci di diario: "
                                              "le voci per classe e le loro letture in tests/web/test_diary.py"),
    "/api/v1/casi/{caso_id}/atti": CaseRead("json", logs="none", narrower="il mondo non ha atti generati: "
                                            "gli atti per classe e le loro letture in tests/web/test_acts.py"),
    "/api/v1/casi/{caso_id}/documenti": CaseRead("json", logs="none", narrower="i documenti del mondo sono sociali: "
                                                 "quelli sanitari e le loro letture in tests/web/test_documents.py"),
    "/ente/casi/{case_id}": CaseRead("html", roles=frozenset(r for r in Role if portal_refusal(
        Principal("x", r, provider_codice="X")) is None), case_types=frozenset({"sad_caso"}),
        narrower="il portale è degli enti, per i casi SAD"),
    "/fna/bandi/{call_id}": CaseRead("html", case_types=CALL, narrower="solo i bandi FNA"),
    "/fna/bandi/{call_id}/graduatoria": CaseRead("html", logs="ranking", roles=RANKING_ROLES, case_types=CALL,
                                                 narrower="graduatoria interna: RANKING_ROLES, solo bandi"),
    "/fna/bandi/{call_id}/graduatoria/pubblica": CaseRead("html", case_types=CALL, narrower="solo i bandi FNA"),
    "/casi/{case_id}/riepilogo.pdf": CaseRead("pdf"),
    "/casi/{case_id}/passaggio": CaseRead("html", logs="none", roles=frozenset(TRANSFER_ROLES),
                                          case_types=frozenset(ct.case_type for ct in all_case_types() if ct.personal),
                                          narrower="riassegnare e trasferire: coordinatore e UdP, casi di persone"),
}
# GETs without a case: lists, searches, feeds, pages that may name cases. Each gets the leak check against
# every case out of scope and every hidden value of the cases in scope.
LIST_READS: dict[str, dict[str, Any]] = {
    "/": {},
    "/casi": {"limit": 1000},
    "/casi/nuovo": {},
    "/casi/nuovo/scelte": {"tipo": "bonus_famiglia", "comune_istat": "019035"},
    "/oggi": {},
    "/cruscotto": {},
    "/profilo": {},
    "/admin/posta": {},
    "/importa": {},
    "/ente": {},
    "/fna/bandi": {},
    "/siuss": {},
    "/calendario/{username}/{token}.ics": {},
    "/api/v1/tipi": {},
    "/api/v1/casi": {"limit": 500},
    "/api/v1/scadenze": {"entro_giorni": 366},
    "/api/v1/indicatori": {"anno": 2026},
    "/regione": {},
    "/api/v1/regione/indicatori": {"anno": 2026},
    "/ambiti": {},
    "/casi/esporta": {"formato": "csv"},
    "/api/v1/esportazioni/casi": {"formato": "csv"},
    "/relazione": {},
    "/relazione/scarica": {"anno": 2026, "formato": "csv"},
    "/api/v1/relazione": {"anno": 2026, "formato": "csv"},
    "/consegne": {},
    "/api/v1/sostituti": {},
}
# POSTs that fire a transition on an existing case (the case's version must not move when refused).
FIRES = {"/api/v1/casi/{caso_id}/transizioni/{nome}", "/casi/{case_id}/transizioni/{name}",
         "/ente/casi/{case_id}/accetta", "/ente/casi/{case_id}/visite", "/fna/bandi/{call_id}/graduatoria"}
# POSTs that open a case (the number of cases must not move when refused).
OPENS = {"/api/v1/casi", "/casi/nuovo"}
# POSTs that write a diary entry on a case (the number of entries must not move when refused).
DIARY_WRITES = {"/api/v1/casi/{caso_id}/diario", "/casi/{case_id}/diario"}
# POSTs that reassign or transfer a case (its version must not move when refused).
HANDOVER_WRITES = {"/api/v1/casi/{caso_id}/riassegnazione", "/casi/{case_id}/riassegnazione",
                   "/api/v1/casi/{caso_id}/trasferimento", "/casi/{case_id}/trasferimento"}
HANDOVER_NOTE = "consegne e sostituti, senza caso nel percorso: chi può e chi no in tests/web/test_handover*.py"
# POSTs that add a document to a case, GETs that download one (services/documents.py)
DOCUMENT_WRITES = {"/api/v1/casi/{caso_id}/documenti", "/casi/{case_id}/documenti"}
DOCUMENT_READS = {"/api/v1/documenti/{documento_id}", "/casi/{case_id}/documenti/{doc_id}"}
# POSTs that generate an act on a case (the number of documents must not move when refused; services/acts.py)
ACT_WRITES = {"/api/v1/casi/{caso_id}/atti/{atto}", "/casi/{case_id}/atti/{atto}"}
DOCUMENT_PARAMS = {"documento_id", "doc_id"}
SKIPPED = {
    ("GET", "/accesso"): "pagina di accesso: nessun dato di caso, nessun utente",
    ("POST", "/accesso"): "login: tests/web/test_sessions.py",
    ("POST", "/esci"): "logout: nessun dato di caso",
    ("GET", "/api/docs"): "documentazione OpenAPI statica (Swagger UI sulla specifica)",
    ("GET", "/api/openapi.json"): "schema OpenAPI: nessun dato di caso",
    ("MOUNT", "/static"): "file statici (CSS, JS)",
    ("GET", "/api/v1/casi/{caso_id}/riepilogo.pdf"): "la stessa funzione del riepilogo della pagina "
                                                     "(web/case_summary.py, qui come /casi/{case_id}/riepilogo.pdf): "
                                                     "ogni ruolo nella matrice a mano, tests/web/test_access_matrix.py",
    ("GET", "/persone/{person_id}"): "per persona, non per caso: tests/web/test_person.py e test_access_matrix.py",
    ("GET", "/api/v1/persone/{persona_id}"): "per persona: tests/web/test_person.py e test_access_matrix.py",
    ("POST", "/persone/{person_id}/unione"): "unione di codici (coordinatore, CSC): tests/web/test_person.py",
    ("POST", "/api/v1/persone/unione"): "unione di codici (coordinatore, CSC): test_person.py, test_access_matrix.py",
    ("POST", "/persone/{person_id}/discrepanze/{case_id}"): "discrepanze anagrafiche: tests/web/test_person.py",
    ("POST", "/api/v1/casi/{caso_id}/discrepanza"): "discrepanze anagrafiche: test_person.py, test_access_matrix.py",
    ("POST", "/consegne"): HANDOVER_NOTE, ("POST", "/consegne/sostituti"): HANDOVER_NOTE,
    ("POST", "/consegne/sostituti/{deputyship_id}/fine"): HANDOVER_NOTE,
    ("POST", "/api/v1/consegne/anteprima"): HANDOVER_NOTE, ("POST", "/api/v1/consegne"): HANDOVER_NOTE,
    ("POST", "/api/v1/sostituti"): HANDOVER_NOTE, ("POST", "/api/v1/sostituti/{sostituzione_id}/fine"): HANDOVER_NOTE,
    ("GET", "/importa/modello/{case_type}.xlsx"): "modello vuoto, nessun dato di caso; ruoli in "
                                                  "tests/web/test_import_page.py",
    ("POST", "/importa"): "importazione: ruoli e comuni del sub-ambito in tests/web/test_import_page.py e "
                          "tests/integration/test_import.py",
    ("GET", "/importa/lavori/{job_id}"): "solo chi ha caricato il file (tests/web/test_import_page.py)",
    ("GET", "/importa/lavori/{job_id}/problemi.{fmt}"): "solo chi ha caricato il file "
                                                        "(tests/web/test_import_page.py)",
    ("GET", "/ambiti/{code}"): "l'impianto di un Ambito (comuni, distretti, enti gestori), nessun dato di caso; solo "
                               "l'amministratore dell'istanza: tests/web/test_regional.py",
    ("GET", "/siuss/flussi/{flow_id}/xml"): "flusso SIUSS (solo Ufficio di Piano, domain.access.siuss_refusal): "
                                             "tests/web/test_siuss_pages.py",
}


def _all_routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _all_routes(inner.routes) if inner is not None else (route,)


def route_table(app) -> set[tuple[str, str]]:
    found = set()
    for r in _all_routes(app.routes):
        if isinstance(r, Mount):
            found.add(("MOUNT", r.path))
        elif isinstance(r, (APIRoute, Route)):
            found |= {(m, r.path) for m in r.methods - {"HEAD"}}
    return found


def exercised() -> set[tuple[str, str]]:
    return ({("GET", p) for p in (*CASE_READS, *LIST_READS, *DOCUMENT_READS)}
            | {("POST", p) for p in (*FIRES, *OPENS, *DIARY_WRITES, *HANDOVER_WRITES, *DOCUMENT_WRITES, *ACT_WRITES)})


def test_every_entrance_is_in_the_matrix():
    app = create_app(engine=make_engine("sqlite://"), clock=lambda: NOW)
    table = route_table(app)
    unknown = table - exercised() - set(SKIPPED)
    assert not unknown, f"nuove rotte fuori dalla matrice di accesso (aggiungerle o motivarne l'esclusione): {unknown}"
    gone = (exercised() | set(SKIPPED)) - table
    assert not gone, f"rotte della matrice che non esistono più: {gone}"
    for method, path in table - set(SKIPPED):
        params = set(re.findall(r"{(\w+)", path))
        assert params <= CASE_PARAMS | DOCUMENT_PARAMS | {"nome", "name", "username", "token", "atto"}, \
            (method, path, params)
        assert (path in CASE_READS or path in FIRES or path in DIARY_WRITES or path in HANDOVER_WRITES
                or path in DOCUMENT_WRITES or path in DOCUMENT_READS or path in ACT_WRITES) \
            == bool(params & (CASE_PARAMS | DOCUMENT_PARAMS)), (method, path)


ROLES_WITHOUT_USERS = {
    Role.SYSTEM: "the engine itself (automatic steps, sweeps): no login, no entrance",
    Role.BENEFICIARY: "the beneficiaries' portal is not active: the rule refuses every case (checked below)",
}


def test_every_role_has_a_user_in_the_matrix_or_says_why_not():
    roles = {Role(role) for _, role, _, _ in ALL_USERS}
    assert set(Role) - roles == set(ROLES_WITHOUT_USERS), "un ruolo nuovo senza utente nella matrice di accesso"
    for ct in all_case_types():
        assert not can_read_case(Principal("x", Role.BENEFICIARY), CaseRef(ct.case_type)), ct.case_type


def test_the_world_has_a_case_of_every_registered_type_and_every_field_class(world):
    assert set(world.cases) == set(CASES)
    types = {c.ref.case_type for c in world.cases.values()}
    missing = {ct.case_type for ct in all_case_types()} - types
    assert not missing, f"tipi di caso registrati senza un caso nel mondo della matrice: {missing}"
    classes = {cls for c in world.cases.values()
               for data in [c.detail["dati"], *(h["dati"] for h in c.detail["storia"])]
               for _, _, cls, _ in data_leaves(c.ref.case_type, data)}
    if any(c.detail["persona"] for c in world.cases.values()):
        classes.add(FieldClass.IDENTITY)  # the person is kept apart from the data (services.queries.case_detail)
    assert classes == set(FieldClass)
    nested_health = [path for _, c in world.cases.items() if c.ref.case_type == "fna_bando"
                     for h in c.detail["storia"] for path, _, cls, _ in data_leaves("fna_bando", h["dati"])
                     if cls is H and "[]" in path]
    assert nested_health, "il mondo non ha la graduatoria pubblicata con i punteggi sanitari annidati"
    assert any(c.ref.minor for c in world.cases.values() if c.ref.case_type == "fna_domanda")


# ============================================================================ known leaks (the lead fixes them)


@dataclass(frozen=True)
class Finding:
    """A leak found by the matrix, not fixed yet: the (entrance, user, case) it concerns, derived from the rule
    (not listed by hand), and why. It is a strict xfail: the check must fail there, and the run fails as soon
    as it passes (the finding is then fixed and must be removed from here)."""

    applies: Any  # (world, entrance, username, case name) -> bool
    reason: str


KNOWN_LEAKS: tuple[Finding, ...] = ()  # none open: each one found so far is fixed, with its test here


class known_leak:
    """`with known_leak(world, entrance, user, case):` around the checks: a strict xfail where a Finding applies."""

    def __init__(self, world: World, path: str, username: str, name: str = "*"):
        self.reason = next((f.reason for f in KNOWN_LEAKS if name != "*" and f.applies(world, path, username, name)),
                           None)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self.reason is None:
            return False
        if kind is AssertionError:
            pytest.xfail(f"FUGA NOTA: {self.reason}")
        if kind is None:
            pytest.fail(f"[XPASS(strict)] la fuga nota non c'è più, toglierla da KNOWN_LEAKS: {self.reason}")
        return False


def _params(entrances):
    return [pytest.param(e, u, n, id=f"{e}|{u}|{n}") for e in entrances for u in USERS for n in CASES]


def _user_params(entrances):
    return [pytest.param(e, u, id=f"{e}|{u}") for e in entrances for u in USERS]


# ============================================================================ helpers


_FORBIDDEN: dict[tuple[int, str], dict[str, str]] = {}


def forbidden(world: World, username: str) -> dict[str, str]:
    key = (id(world), username)
    if key not in _FORBIDDEN:
        _FORBIDDEN[key] = forbidden_for(world, username)
    return _FORBIDDEN[key]


def log_counts(world: World, username: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for row in health_reads(world.engine, username=username):
        counts[row["caso"]] = counts.get(row["caso"], 0) + 1
    return counts


def new_logs(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
    return {cid: n - before.get(cid, 0) for cid, n in after.items() if n != before.get(cid, 0)}


def names(world: World, logged: dict[int, int]) -> dict[str, int]:
    return {world.by_id(cid)[0]: n for cid, n in logged.items()}


def links_to(text: str, case_id: int) -> bool:
    return re.search(rf"/casi/{case_id}(?!\d)", text) is not None


def version_of(world: World, case_id: int) -> int:
    with world.engine.connect() as conn:
        return conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one()


def count_cases(world: World) -> int:
    with world.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()


def ranking_entries(world: World, call: Case) -> set[str]:
    """The applications a call's ranking page shows: those in a published snapshot, and the proposal's."""
    in_snapshot = {int(p["domanda"]) for h in call.detail["storia"] for p in (h["dati"] or {}).get("posizioni", [])}
    return {n for n, c in world.cases.items() if c.ref.case_type == "fna_domanda"
            and c.detail["caso_collegato"] == call.id and (c.id in in_snapshot or c.ref.state in rk.RANKED_STATES)}


def expected_logs(world: World, spec: CaseRead, username: str, name: str) -> dict[str, int]:
    if spec.logs == "none":
        return {}
    e = expect(world, username, name)
    out = {name: 1} if e.health else {}
    if spec.logs == "ranking":
        p = world.principals[username]
        for app in ranking_entries(world, world.cases[name]):
            ref = world.cases[app].ref
            if can_read_case(p, ref) and H in visible_fields(p, ref):
                out[app] = 1
    return out


def pick_transition(p: Principal, case: Case) -> str:
    """A step the user's role may fire from the case's state if there is one (so that only the scope refuses)."""
    wf = get_workflow(case.ref.case_type)
    steps = [t for t in wf.transitions_from(case.ref.state) if not t.opening] or list(wf.transitions)
    mine = [t for t in steps if p.role in t.roles]
    return (mine or steps)[0].name


_CSRF: dict[tuple[int, str], str] = {}


def csrf(world: World, username: str) -> str:
    key = (id(world), username)
    if key not in _CSRF:
        _CSRF[key] = csrf_of(world.pages[username])
    return _CSRF[key]


# ============================================================================ reads of one case


@pytest.mark.parametrize("path,username,name", _params(CASE_READS))
def test_a_case_is_read_through_every_entrance_exactly_as_the_rule_says(world, path, username, name):
    spec, case, p = CASE_READS[path], world.cases[name], world.principals[username]
    e = expect(world, username, name)
    served = (e.readable and (spec.roles is None or p.role in spec.roles)
              and (spec.case_types is None or case.ref.case_type in spec.case_types))
    client = world.api[username] if path.startswith("/api/") else world.pages[username]
    before = log_counts(world, username)
    response = client.get(re.sub(r"{\w+}", str(case.id), path))
    logged = names(world, new_logs(before, log_counts(world, username)))
    with known_leak(world, path, username, name):
        _check_case_read(world, spec, e, case, path, username, name, served, response, logged)


def _check_case_read(world, spec, e, case, path, username, name, served, response, logged) -> None:
    text = response.text
    if spec.form == "pdf" and response.status_code == 200:  # the PDF's text, as its reader reads it
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert leaks_in(text, forbidden(world, username)) == []
    if not served:
        assert response.status_code in REFUSED, (response.status_code, text[:300])
        assert [s for s in identity_strings(world, case) if s in text] == []
        assert logged == {}, "nessun dato mostrato, ma una lettura di dati sanitari registrata"
        return
    assert response.status_code == 200, text[:300]
    if e.persona is None and case.detail["persona"]:
        assert case.detail["persona"]["codice_fiscale"] not in text
    if spec.form == "json_detail":
        body = response.json()
        assert body["dati"] == e.dati
        assert [h["dati"] for h in body["storia"]] == e.storia
        assert body["persona"] == e.persona
        if FieldClass.SOCIAL not in e.visible:
            assert body["motivo_esito"] is None and all(h["motivo"] is None for h in body["storia"])
    if spec.form == "html_detail":
        shown = [label for label in e.hidden_labels if f">{label}</dt>" in text]
        assert shown == [], f"etichette di dati riservati sulla pagina: {shown}"
    assert logged == expected_logs(world, spec, username, name)


# ============================================================================ lists, searches, feeds


def _list_url(world: World, path: str, username: str) -> str:
    if "{username}" in path:
        return calendar_path(world.app.state.services.settings.secret_key, username)
    return path


@pytest.mark.parametrize("path,username", _user_params(LIST_READS))
def test_lists_searches_and_feeds_show_nothing_out_of_scope_and_no_hidden_value(world, path, username):
    client = world.api[username] if path.startswith("/api/") else world.pages[username]
    p = world.principals[username]
    before = log_counts(world, username)
    response = client.get(_list_url(world, path, username), params=LIST_READS[path])
    assert response.status_code in (200, 403), (response.status_code, response.text[:300])
    text = response.text
    assert leaks_in(text, forbidden(world, username)) == []
    outside = [n for n, c in world.cases.items() if not can_read_case(p, c.ref)]
    assert [n for n in outside if links_to(text, world.cases[n].id)] == []
    json_answer = response.headers.get("content-type", "").startswith("application/json")
    if path.startswith("/api/") and json_answer and isinstance(body := response.json(), list):
        ids = {row["caso"] if "caso" in row else row.get("id") for row in body}
        assert ids.isdisjoint(world.cases[n].id for n in outside)
    assert new_logs(before, log_counts(world, username)) == {}


@pytest.mark.parametrize("username", USERS)
def test_searching_a_name_out_of_scope_finds_nothing_and_the_lists_hold_exactly_the_cases_in_scope(
        world, username):
    p = world.principals[username]
    readable = {c.id for c in world.cases.values() if can_read_case(p, c.ref)}
    listed = {row["id"] for row in world.api[username].get("/api/v1/casi", params={"limit": 500}).json()}
    assert listed == readable
    page = world.pages[username]
    for name, case in world.cases.items():
        person = case.detail["persona"]
        if person is None or case.id in readable:
            continue
        for q in (person["cognome"], person["codice_fiscale"]):
            echoed = page.get("/casi", params={"q": "Q" * len(q)}).text.count("Q" * len(q))  # the search box
            text = page.get("/casi", params={"q": q}).text
            assert not links_to(text, case.id), (name, q)
            assert text.count(person["codice_fiscale"]) == (echoed if q == person["codice_fiscale"] else 0), \
                (name, q)


# ============================================================================ acting: transitions and openings


def _fire(world: World, path: str, username: str, case: Case, transition: str):
    url = re.sub(r"{(caso_id|case_id|call_id)}", str(case.id), path).replace("{nome}", transition)
    url = url.replace("{name}", transition)
    if path.startswith("/api/"):
        return world.api[username].post(url, json={"dati": {}})
    form = {"csrf_token": csrf(world, username)}
    if path.endswith("/graduatoria"):
        form |= {"fase": "provvisoria", "atto": "Determinazione UdP n. 99/2026"}
    return world.pages[username].post(url, data=form, follow_redirects=False)


@pytest.mark.parametrize("path,username", _user_params(sorted(FIRES)))
def test_no_step_is_fired_on_a_case_out_of_scope(world, path, username):
    p = world.principals[username]
    wrong = []
    for name, case in world.cases.items():
        if can_read_case(p, case.ref):
            continue
        before = version_of(world, case.id)
        response = _fire(world, path, username, case, pick_transition(p, case))
        if response.status_code not in REFUSED or version_of(world, case.id) != before:
            wrong.append((name, response.status_code, response.text[:200]))
        assert leaks_in(response.text, forbidden(world, username)) == [], name
    assert wrong == []


def _openings(world: World, p: Principal):
    """(case type, opening transition, comune) the rule refuses to `p`, over the world's comuni and none."""
    areas = {c.ref.comune_istat: c.ref.sub_ambito for c in world.cases.values() if c.ref.comune_istat}
    for ct in all_case_types():
        for t in ct.workflow.opening_transitions():
            for comune in (*sorted(areas), None):
                if fire_refusal(p, CaseRef(ct.case_type, comune, areas.get(comune)), t) is not None:
                    yield ct.case_type, t.name, comune


@pytest.mark.parametrize("path,username", _user_params(sorted(OPENS)))
def test_no_case_is_opened_where_the_rule_refuses(world, path, username):
    p = world.principals[username]
    wrong = []
    for case_type, transition, comune in _openings(world, p):
        before = count_cases(world)
        if path.startswith("/api/"):
            response = world.api[username].post(path, json={"tipo": case_type, "transizione": transition,
                                                            "dati": {}} | ({"comune_istat": comune} if comune else {}))
            ok = response.status_code == 403
        else:
            response = world.pages[username].post(path, data={
                "csrf_token": csrf(world, username), "tipo": case_type, "tipo_modulo": case_type,
                "comune_istat": comune or ""}, follow_redirects=False)
            ok = response.status_code in (403, 422)
        if not ok or count_cases(world) != before:
            wrong.append((case_type, transition, comune, response.status_code, response.text[:200]))
    assert wrong == []


# ============================================================================ the diary: writes refused


def count_entries(world: World) -> int:
    from store.tables import diary_entry_t

    with world.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(diary_entry_t)).scalar_one()


DIARY_ENTRY = {"tipo": "colloquio", "avvenuto_il": "02/11/2026 10:00", "testo": "Voce di prova della matrice",
               "classe": "sociale"}


def _diary_refused(world: World, p: Principal) -> Iterator[tuple[str, Case]]:
    """The cases on which the rule refuses `p` a social diary entry (out of scope, or a role that writes none)."""
    for name, case in world.cases.items():
        if diary_refusal(p, case.ref, FieldClass.SOCIAL) is not None:
            yield name, case


@pytest.mark.parametrize("path,username", _user_params(sorted(DIARY_WRITES)))
def test_no_diary_entry_is_written_where_the_rule_refuses(world, path, username):
    wrong = []
    for name, case in _diary_refused(world, world.principals[username]):
        before = count_entries(world)
        url = re.sub(r"{(caso_id|case_id)}", str(case.id), path)
        if path.startswith("/api/"):
            response = world.api[username].post(url, json=DIARY_ENTRY)
        else:
            response = world.pages[username].post(url, data=DIARY_ENTRY | {"csrf_token": csrf(world, username)},
                                                  follow_redirects=False)
        if response.status_code not in REFUSED or count_entries(world) != before:
            wrong.append((name, response.status_code, response.text[:200]))
        assert leaks_in(response.text, forbidden(world, username)) == [], name
    assert wrong == []


# ============================================================================ hand-over: writes refused


@pytest.mark.parametrize("path,username", _user_params(sorted(HANDOVER_WRITES)))
def test_no_case_is_reassigned_or_transferred_where_the_rule_refuses(world, path, username):
    p = world.principals[username]
    transfer = path.endswith("trasferimento")
    refusal = transfer_refusal if transfer else handover_refusal
    wrong = []
    for name, case in world.cases.items():
        if refusal(p, case.ref) is None:
            continue
        other = PANDINO if case.ref.comune_istat == CREMA else CREMA
        body = {"nuovo_comune": other, "motivo": "prova"} if transfer else {"nuovo_assegnatario": "as.bruni",
                                                                            "motivo": "prova"}
        before = version_of(world, case.id)
        url = re.sub(r"{(caso_id|case_id)}", str(case.id), path)
        if path.startswith("/api/"):
            response = world.api[username].post(url, json=body)
        else:
            response = world.pages[username].post(url, data=body | {"csrf_token": csrf(world, username)},
                                                  follow_redirects=False)
        if response.status_code not in REFUSED or version_of(world, case.id) != before:
            wrong.append((name, response.status_code, response.text[:200]))
        assert leaks_in(response.text, forbidden(world, username)) == [], name
    assert wrong == []


# ============================================================================ the CLI


runner = CliRunner()
CLI_CASE_COMMANDS = {"show", "list", "summary", "advance", "open"}
CLI_DIARY_COMMANDS = {"list", "add"}
CLI_DOCUMENT_COMMANDS = {"list", "add", "get"}
CLI_ACT_COMMANDS = {"elenco", "genera"}
CLI_SKIPPED = {
    "persona mostra": "per persona, non per caso (la stessa regola di GET /api/v1/persone/{persona_id}, nella "
                      "matrice a mano): tests/integration/test_referral_identity.py",
    "persona unisci": "unione di codici (coordinatore, CSC): come POST /api/v1/persone/unione, test_person.py",
    "persona risolvi": "discrepanze anagrafiche: come POST /api/v1/casi/{caso_id}/discrepanza, test_person.py",
    "workflow list": "le dichiarazioni dei tipi: nessun dato di caso",
    "workflow show": "le dichiarazioni dei tipi: nessun dato di caso",
    "init": "amministrativo (migrazioni)", "demo-data": "amministrativo (dati sintetici)",
    "demo": "amministrativo (Ambito dimostrativo)", "policy load": "amministrativo (politiche)",
    "sweep": "il sistema: passi automatici e promemoria", "obligations list": "obblighi del distretto, senza casi",
    "obligations check": "il sistema: promemoria degli obblighi", "obligations mark-met": "obblighi, senza casi",
    "outbox list": "amministrativo (posta in uscita)", "outbox send": "il sistema: invio della posta",
    "serve-flows": "il sistema: attività pianificate", "assets": "installa i file del front-end",
    "serve": "avvia il server web (le sue rotte sono nella matrice qui sopra)",
    "tally": "aggregati (tests/integration/test_tallies.py)", "report": "aggregati (relazione annuale)",
    "calendar": "calendario lavorativo del distretto, senza casi",
    "user create-admin": "amministrativo (utenze)", "user create": "amministrativo (utenze)",
    "user set-password": "amministrativo (utenze)", "user unlock": "amministrativo (utenze)",
    "user disable": "amministrativo (utenze)", "user enable": "amministrativo (utenze)",
    "backup": "amministrativo (copia dell'intero database)", "restore": "amministrativo (ripristino del database)",
    "audit verify": "amministrativo (impronte della storia, nessun dato di caso stampato)",
    "audit checkpoint": "amministrativo (teste delle catene di impronte)",
    "keys new": "amministrativo (genera una chiave, nessun dato letto)",
    "keys rotate": "amministrativo (ricifra i dati sanitari senza mostrarli)",
    "case riassegna": "la stessa chiamata di POST /api/v1/casi/{caso_id}/riassegnazione (qui sopra)",
    "case trasferisci": "la stessa chiamata di POST /api/v1/casi/{caso_id}/trasferimento (qui sopra)",
    "case consegna": HANDOVER_NOTE, "sostituti list": HANDOVER_NOTE, "sostituti add": HANDOVER_NOTE,
    "sostituti end": HANDOVER_NOTE,
    "firma verifica": "verifica la firma di un file ricevuto fuori da Legami: nessun dato di caso",
    "import": "scrive casi nuovi (mai ne legge): ruoli e comuni in tests/integration/test_import.py",
    "siuss esporta": "flussi al Casellario INPS, solo Ufficio di Piano: tests/integration/test_siuss.py",
    "siuss esiti": "esiti INPS, solo Ufficio di Piano: tests/integration/test_siuss.py",
    "siuss flussi": "elenco dei flussi SIUSS (nessun dato di caso), solo Ufficio di Piano",
    "ambito list": "amministrativo (gli Ambiti dell'istanza, nessun dato di caso)",
    "ambito load": "amministrativo (carica i dati di un Ambito, nessun dato di caso)",
    "ambito show": "amministrativo (comuni, distretti ed enti gestori di un Ambito, nessun dato di caso)",
    "jobs partizioni": "amministrativo (le partizioni dei lavori notturni, nessun dato di caso)",
    "jobs notte": "sistema (la notte: scadenze, obblighi, conteggi, invio, come l'utente di sistema)",
    "jobs deploy": "amministrativo (work pool e deployment Prefect, nessun dato di caso)",
}


def _cli_commands() -> set[str]:
    import typer.main

    from cli.main import app

    def walk(cmd, prefix: str) -> Iterator[str]:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, f"{prefix} {name}".strip())
        else:
            yield prefix

    return set(walk(typer.main.get_command(app), ""))


def test_every_cli_command_is_in_the_matrix_or_says_why_not():
    commands = _cli_commands()
    cases = {f"case {c}" for c in CLI_CASE_COMMANDS} | {f"diario {c}" for c in CLI_DIARY_COMMANDS} \
        | {f"documenti {c}" for c in CLI_DOCUMENT_COMMANDS} | {f"atti {c}" for c in CLI_ACT_COMMANDS}
    assert not commands - cases - set(CLI_SKIPPED), "nuovi comandi fuori dalla matrice di accesso"
    assert not (cases | set(CLI_SKIPPED)) - commands, "comandi della matrice che non esistono più"


@pytest.fixture(scope="module")
def cli(world):
    from config.settings import get_settings
    from store.db import cached_engine

    from cli.main import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEGAMI_DATABASE_URL", world.url)
        get_settings.cache_clear()
        cached_engine.cache_clear()
        yield lambda *args: runner.invoke(app, list(args))
        cached_engine(world.url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


def refused_in_italian(result) -> bool:
    return (result.exit_code == 1 and result.stderr.startswith(DENIED_PREFIX)
            and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output)


@pytest.mark.parametrize("path,username,name", _params(["legami case show"]))
def test_the_cli_shows_a_case_exactly_as_the_rule_says(world, cli, path, username, name):
    case, e = world.cases[name], expect(world, username, name)
    before = log_counts(world, username)
    result = cli("case", "show", str(case.id), "--actor", username, "--json")
    logged = names(world, new_logs(before, log_counts(world, username)))
    assert leaks_in(result.output, forbidden(world, username)) == []
    if not e.readable:
        assert refused_in_italian(result), result.output
        assert logged == {}
        return
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["dati"] == e.dati
    assert [h["dati"] for h in body["storia"]] == e.storia
    assert body["persona"] == e.persona
    assert logged == ({name: 1} if e.health else {})
    text = cli("case", "show", str(case.id), "--actor", username)
    assert text.exit_code == 0 and leaks_in(text.output, forbidden(world, username)) == []


@pytest.mark.parametrize("path,username", _user_params(["legami case list", "legami case summary"]))
def test_the_cli_lists_and_counts_exactly_the_cases_in_scope(world, cli, path, username):
    p = world.principals[username]
    readable = [c for c in world.cases.values() if can_read_case(p, c.ref)]
    before = log_counts(world, username)
    command = path.split()[-1]
    result = cli("case", command, "--actor", username, "--json")
    assert result.exit_code == 0, result.output
    assert leaks_in(result.output, forbidden(world, username)) == []
    rows = json.loads(result.stdout)
    if command == "list":
        assert {r["id"] for r in rows} == {c.id for c in readable}
    else:
        expected: dict[tuple[str, str], int] = {}
        for c in readable:
            expected[(c.ref.case_type, c.ref.state)] = expected.get((c.ref.case_type, c.ref.state), 0) + 1
        assert {(r["tipo"], r["stato"]): r["casi"] for r in rows} == expected
    assert new_logs(before, log_counts(world, username)) == {}


@pytest.mark.parametrize("path,username", _user_params(["legami case advance"]))
def test_the_cli_fires_no_step_on_a_case_out_of_scope(world, cli, path, username):
    p = world.principals[username]
    wrong = []
    for name, case in world.cases.items():
        if can_read_case(p, case.ref):
            continue
        before = version_of(world, case.id)
        result = cli("case", "advance", str(case.id), pick_transition(p, case), "--actor", username,
                     "--motivo", "prova")
        if not refused_in_italian(result) or version_of(world, case.id) != before:
            wrong.append((name, result.exit_code, result.output[:200]))
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami case open"]))
def test_the_cli_opens_no_case_where_the_rule_refuses(world, cli, path, username):
    p = world.principals[username]
    wrong = []
    for case_type, transition, comune in _openings(world, p):
        before = count_cases(world)
        result = cli("case", "open", case_type, "--actor", username, "--data", "{}",
                     *(["--comune", comune] if comune else []))
        if not refused_in_italian(result) or count_cases(world) != before:
            wrong.append((case_type, transition, comune, result.exit_code, result.output[:200]))
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami diario list"]))
def test_the_cli_lists_a_diary_only_in_scope(world, cli, path, username):
    p = world.principals[username]
    wrong = []
    for name, case in world.cases.items():
        result = cli("diario", "list", str(case.id), "--actor", username, "--json")
        if can_read_case(p, case.ref):
            ok = result.exit_code == 0 and json.loads(result.stdout) == []
        else:
            ok = refused_in_italian(result)
        if not ok:
            wrong.append((name, result.exit_code, result.output[:200]))
        assert leaks_in(result.output, forbidden(world, username)) == [], name
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami diario add"]))
def test_the_cli_writes_no_diary_entry_where_the_rule_refuses(world, cli, path, username):
    wrong = []
    for name, case in _diary_refused(world, world.principals[username]):
        before = count_entries(world)
        result = cli("diario", "add", str(case.id), "--actor", username, "--tipo", "colloquio", "--il", "02/11/2026",
                     "--testo", "Voce di prova della matrice")
        if not refused_in_italian(result) or count_entries(world) != before:
            wrong.append((name, result.exit_code, result.output[:200]))
    assert wrong == []


# ============================================================================ documents: adds refused, downloads


def count_documents(world: World) -> int:
    from store.tables import case_document_t

    with world.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case_document_t)).scalar_one()


_WORLD_DOCUMENTS: dict[tuple[int, str], int] = {}


def world_document(world: World, name: str) -> int:
    """A social document on the world's case `name` (put once, through the store)."""
    from tests.web.document_helpers import put_document

    key = (id(world), name)
    if key not in _WORLD_DOCUMENTS:
        _WORLD_DOCUMENTS[key] = put_document(world.engine, world.cases[name].id)
    return _WORLD_DOCUMENTS[key]


def _document_refused(world: World, p: Principal) -> Iterator[tuple[str, Case]]:
    for name, case in world.cases.items():
        if document_refusal(p, case.ref, FieldClass.SOCIAL, write=True) is not None:
            yield name, case


MATRIX_FILE = {"file": ("matrice.pdf", b"%PDF-1.4\n% prova della matrice\n%%EOF\n", "application/pdf")}


@pytest.mark.parametrize("path,username", _user_params(sorted(DOCUMENT_WRITES)))
def test_no_document_is_added_where_the_rule_refuses(world, path, username):
    wrong = []
    for name, case in _document_refused(world, world.principals[username]):
        before = count_documents(world)
        url = re.sub(r"{(caso_id|case_id)}", str(case.id), path)
        if path.startswith("/api/"):
            response = world.api[username].post(url, data={"tipo": "altro"}, files=MATRIX_FILE)
        else:
            response = world.pages[username].post(url, data={"tipo": "altro", "csrf_token": csrf(world, username)},
                                                  files=MATRIX_FILE, follow_redirects=False)
        if response.status_code not in REFUSED or count_documents(world) != before:
            wrong.append((name, response.status_code, response.text[:200]))
        assert leaks_in(response.text, forbidden(world, username)) == [], name
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(sorted(DOCUMENT_READS)))
def test_a_document_is_downloaded_exactly_as_the_rule_says_and_only_as_an_attachment(world, path, username):
    p, wrong = world.principals[username], []
    client = world.api[username] if path.startswith("/api/") else world.pages[username]
    for name, case in world.cases.items():
        doc = world_document(world, name)
        url = re.sub(r"{(caso_id|case_id)}", str(case.id), re.sub(r"{(documento_id|doc_id)}", str(doc), path))
        response = client.get(url)
        if document_refusal(p, case.ref, FieldClass.SOCIAL, write=False) is None:
            ok = response.status_code == 200 and response.headers["content-disposition"].startswith("attachment;")
        else:
            ok = response.status_code in REFUSED
            assert leaks_in(response.text, forbidden(world, username)) == [], name
        if not ok:
            wrong.append((name, response.status_code, response.text[:200]))
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami documenti list", "legami documenti add",
                                                        "legami documenti get"]))
def test_the_cli_lists_adds_and_gets_documents_only_as_the_rule_says(world, cli, path, username, tmp_path):
    p, command, wrong = world.principals[username], path.split()[-1], []
    source = tmp_path / "matrice.pdf"
    source.write_bytes(MATRIX_FILE["file"][1])
    for name, case in world.cases.items():
        if command == "list":
            result = cli("documenti", "list", str(case.id), "--actor", username, "--json")
            ok = result.exit_code == 0 if can_read_case(p, case.ref) else refused_in_italian(result)
        elif command == "add":
            if document_refusal(p, case.ref, FieldClass.SOCIAL, write=True) is None:
                continue
            before = count_documents(world)
            result = cli("documenti", "add", str(case.id), str(source), "--tipo", "altro", "--actor", username)
            ok = refused_in_italian(result) and count_documents(world) == before
        else:
            target = tmp_path / f"{name}.pdf"
            result = cli("documenti", "get", str(world_document(world, name)), str(target), "--actor", username)
            ok = (result.exit_code == 0 and target.exists()) \
                if document_refusal(p, case.ref, FieldClass.SOCIAL, write=False) is None \
                else refused_in_italian(result) and not target.exists()
        if not ok:
            wrong.append((name, result.exit_code, result.output[:200]))
        assert leaks_in(result.output, forbidden(world, username)) == [], name
    assert wrong == []


# ============================================================================ generated acts: writes refused


def _acts_refused(world: World, p: Principal) -> Iterator[tuple[str, Case, str]]:
    """(case, act) pairs on which the rule refuses `p` the act (out of scope, a role that issues none, a class
    the act prints that they do not see)."""
    for name, case in world.cases.items():
        ct = get_case_type(case.ref.case_type)
        for act in ct.acts:
            if act_refusal(p, case.ref, act_classes(ct, act)) is not None:
                yield name, case, act.name


@pytest.mark.parametrize("path,username", _user_params(sorted(ACT_WRITES)))
def test_no_act_is_generated_where_the_rule_refuses(world, path, username):
    wrong = []
    for name, case, act in _acts_refused(world, world.principals[username]):
        before = count_documents(world)
        url = re.sub(r"{(caso_id|case_id)}", str(case.id), path).replace("{atto}", act)
        if path.startswith("/api/"):
            response = world.api[username].post(url)
        else:
            response = world.pages[username].post(url, data={"csrf_token": csrf(world, username)},
                                                  follow_redirects=False)
        if response.status_code not in REFUSED or count_documents(world) != before:
            wrong.append((name, act, response.status_code, response.text[:200]))
        assert leaks_in(response.text, forbidden(world, username)) == [], name
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami atti elenco"]))
def test_the_cli_lists_the_acts_of_a_case_only_in_scope(world, cli, path, username):
    p = world.principals[username]
    wrong = []
    for name, case in world.cases.items():
        result = cli("atti", "elenco", str(case.id), "--actor", username, "--json")
        if can_read_case(p, case.ref):
            ok = result.exit_code == 0 and json.loads(result.stdout)["generati"] == []
        else:
            ok = refused_in_italian(result)
        if not ok:
            wrong.append((name, result.exit_code, result.output[:200]))
        assert leaks_in(result.output, forbidden(world, username)) == [], name
    assert wrong == []


@pytest.mark.parametrize("path,username", _user_params(["legami atti genera"]))
def test_the_cli_generates_no_act_where_the_rule_refuses(world, cli, path, username):
    wrong = []
    for name, case, act in _acts_refused(world, world.principals[username]):
        before = count_documents(world)
        result = cli("atti", "genera", str(case.id), act, "--actor", username)
        if not refused_in_italian(result) or count_documents(world) != before:
            wrong.append((name, act, result.exit_code, result.output[:200]))
    assert wrong == []
