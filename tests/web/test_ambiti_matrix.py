"""Two Ambiti in one instance, over every entrance (issue 15 item 2): zero crossings.

One world for the module, on SQLite and PostgreSQL: the Cremasco district world (tests/district_world.py) and the
Ambito di Lodi loaded beside it, with a Lodi user of every role and three Lodi cases (a patto in Lodi, the Lodi
planning office's FNA call, placed in no comune, and an application to it sent for assessment). The entrances
come from the app's route table and the CLI's command tree (as in test_access_matrix_generated.py), so a new
route is covered, or refused with a reason, automatically. For every user of either Ambito and every case:

- the rule itself (`domain.access.can_read_case`) never admits a case of the other Ambito;
- every GET with a case, person or document in its path refuses the other Ambito's cases (403/404) and names
  none of their people; the same Ambito's cases are still served where the single-Ambito matrix says so;
- every GET without one (lists, searches, exports, the relazione, tallies, the calendar feed, the import
  template, SIUSS, Oggi, the dashboard) names no person of the other Ambito and links none of its cases;
- the CLI's reading commands refuse the other Ambito's cases; the sweep's digests name none of them;
- steps fired on the other Ambito's cases are refused and change nothing.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from domain.access import FieldClass, Principal, can_read_case, document_refusal
from domain.workflow import Role
from services.access import case_ref, principal_for
from services.auth import create_user, use_password_hasher
from services.calendar_link import calendar_path
from services.cases import CaseService
from services.queries import case_detail
from services.setup import load_ambito
from store.auth_tables import login_throttle_t
from store.db import make_engine
from store.tables import case_t
from tests.conftest import FAST_HASHER
from tests.district_world import build_world, patto
from tests.integration.patto_steps import persona
from web.app import create_app

from .conftest import ALL_USERS, NOW, PASSWORD, login
from .test_access_matrix_generated import (
    CASE_PARAMS,
    CASE_READS,
    DOCUMENT_PARAMS,
    DOCUMENT_READS,
    LIST_READS,
    REFUSED,
    route_table,
)

TODAY = NOW.date()
LODI = "098031"  # Comune di Lodi
LODI_USERS = [("as.lodi", "social_worker", "Lodi", None), ("coord.lodi", "subarea_coordinator", "Lodi", None),
              ("csc.lodi", "csc_admin", None, None), ("udp.lodi", "planning_office", None, None),
              ("ente.lodi", "provider", None, "LODI01"), ("ovd.lodi", "evaluator", None, None),
              ("asst.lodi", "health_assessor", None, None)]
# the regional reader belongs to no Ambito (tests/web/test_regional.py weighs them): not a Cremasco user here
CREMASCO_ALL = tuple(sorted(u for u, r, *_ in ALL_USERS if r != "regional_reader"))
# one user of every role in each Ambito (the single-Ambito matrix weighs the others of the same role)
CREMASCO = ("as.rossi", "coord.crema", "csc.bianchi", "udp.neri", "ente.girasole", "ovd.valutatore", "asst.medici")
USERS = CREMASCO + tuple(u for u, *_ in LODI_USERS)
PERSON_PARAMS = {"person_id", "persona_id"}
# GETs with a case, person or document in the path, beyond the single-Ambito matrix's CASE_READS and DOCUMENT_READS
PERSON_READS = {"/persone/{person_id}", "/api/v1/persone/{persona_id}"}
OTHER_CASE_READS = {"/api/v1/casi/{caso_id}/riepilogo.pdf"}
# GETs without a case in the path, beyond LIST_READS
MORE_LIST_READS: dict[str, dict[str, Any]] = {"/importa/modello/{case_type}.xlsx": {}}
SKIPPED = {
    "/accesso": "pagina di accesso: nessun utente, nessun caso",
    "/ambiti/{code}": "l'impianto di un Ambito (comuni, distretti, enti gestori), nessun dato di caso: solo "
                      "l'amministratore dell'istanza (tests/web/test_regional.py)",
    "/api/docs": "documentazione statica", "/api/openapi.json": "schema OpenAPI: nessun dato",
    "/importa/lavori/{job_id}": "un lavoro d'importazione lo legge solo chi ha caricato il file "
                                "(tests/web/test_import_page.py): nessun altro utente, di nessun Ambito",
    "/importa/lavori/{job_id}/problemi.{fmt}": "come sopra: solo chi ha caricato il file",
    "/siuss/flussi/{flow_id}/xml": "i flussi SIUSS sono dell'Ambito predefinito: l'Ufficio di Piano di un altro "
                                   "Ambito non li legge (domain.access_records.siuss_refusal, verificato qui sotto)",
}


@dataclass
class World:
    engine: Any
    url: str
    app: Any
    cases: dict[str, int]
    ambito: dict[str, str]  # case name -> its Ambito (case_file.ambito_code)
    principals: dict[str, Principal]
    pages: dict[str, TestClient]
    api: dict[str, TestClient]
    documents: dict[str, int]
    persons: dict[str, int | None]
    names: dict[str, set[str]]  # case name -> strings that name its person (codice fiscale, surname)

    def user_ambito(self, username: str) -> str:
        return self.principals[username].ambito.code

    def others(self, username: str) -> list[str]:
        return [n for n in self.cases if self.ambito[n] != self.user_ambito(username)]

    def forbidden(self, username: str) -> set[str]:
        return set().union(*(self.names[n] for n in self.others(username)))


def _lodi_fna(service: CaseService) -> tuple[int, int]:
    udp, csc = service.actor("udp.lodi"), service.actor("csc.lodi")
    call = service.open_case(case_type="fna_bando", actor=udp, effective_at=date(2026, 5, 4),
                             data={"titolo": "Bando FNA Lodigiano Sperimentale", "anno_fna": 2025,
                                   "dgr": "DGR 5678/2026"})
    service.advance(case_id=call, transition="approva", actor=udp, effective_at=date(2026, 5, 20), data={
        "delibera": "Assemblea dei Sindaci di Lodi 20/05/2026", "budget": "100000",
        "misure": [{"misura": "caregiver", "importo_min": "100", "importo_max": "400"}],
        "apertura": "10/06/2026", "chiusura": "10/07/2026"})
    service.advance(case_id=call, transition="apri", actor=udp, effective_at=date(2026, 6, 10))
    application = service.open_case(
        case_type="fna_domanda", actor=csc, comune_istat=LODI, related_case_id=call, effective_at=date(2026, 6, 15),
        data={"persona": persona("Codognotto", "Rina", date(1940, 3, 8)), "protocollo": "CSC-LODI-0007",
              "isee": {"tipo": "sociosanitario", "valore": "12000", "protocollo": "INPS-ISEE-2026-ABCDE1234-00",
                       "data_dsu": "2026-02-10"},
              "invalidita_104_art3c3": True, "indennita_accompagnamento": True, "misura": "caregiver",
              "caregiver": "Walter Codognotto", "iban": "IT60X0542811101000000123456"})
    service.advance(case_id=application, transition="avvia_istruttoria", actor=csc, effective_at=date(2026, 6, 16))
    service.advance(case_id=application, transition="avvia_valutazione", actor=csc, effective_at=date(2026, 6, 20))
    return call, application


def _basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def world(matrix_url) -> Iterator[World]:
    from tests.web.document_helpers import put_document

    previous = use_password_hasher(FAST_HASHER)
    engine = make_engine(matrix_url)
    with engine.begin() as conn:
        conn.execute(login_throttle_t.delete())
    load_ambito(engine, "config/districts/lodi")
    for users, ambito in ((ALL_USERS, None), (LODI_USERS, "lodi")):
        for username, role, area, provider in users:
            create_user(engine, username, username.replace(".", " ").title(), f"{username}@example.org", role,
                        sub_ambito=area, provider_codice=provider, password=PASSWORD, ambito=ambito,
                        is_admin=username == "udp.admin", now=NOW)
    service = CaseService(engine, clock=lambda: NOW)
    ids = build_world(service)
    ids["patto_lodi"] = patto(service, "as.lodi", "coord.lodi", LODI, surname="Bassanini", name="Ugo")
    ids["bando_lodi"], ids["fna_lodi"] = _lodi_fna(service)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(case_t.c.id, case_t.c.ambito_code, case_t.c.person_id)).all()
    ambito_of = {r.id: r.ambito_code for r in rows}
    person_of = {r.id: r.person_id for r in rows}
    names: dict[str, set[str]] = {}
    usernames = " ".join(USERS).lower()
    for name, case_id in ids.items():
        detail = case_detail(engine, case_id, today=TODAY)
        found = {detail["dati"].get("titolo")} - {None}  # a call's title names it
        if detail["persona"]:
            person = detail["persona"]
            found |= {person["codice_fiscale"]} | ({person["cognome"]} if person["cognome"].lower() not in usernames
                                                   else set())
        names[name] = found
    app = create_app(engine=engine, clock=lambda: NOW)
    pages = {u: login(TestClient(app, base_url="http://testserver"), u) for u in USERS + ("udp.admin",)}
    api = {u: TestClient(app, headers=_basic(u)) for u in USERS + ("udp.admin",)}
    w = World(engine, matrix_url, app, ids, {n: ambito_of[i] for n, i in ids.items()},
              {u: principal_for(engine, u) for u in set(USERS) | set(CREMASCO_ALL)}, pages, api,
              {n: put_document(engine, i) for n, i in ids.items()}, {n: person_of[i] for n, i in ids.items()}, names)
    yield w
    for client in (*pages.values(), *api.values()):
        client.close()
    use_password_hasher(previous)
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_url(request, tmp_path_factory, sqlite_template):
    from tests.conftest import fresh_database_url

    return fresh_database_url(request, tmp_path_factory.mktemp("ambiti"), sqlite_template)


def _app_gets() -> set[str]:
    from web.app import create_app as make

    return {p for m, p in route_table(make(engine=make_engine("sqlite://"), clock=lambda: NOW)) if m == "GET"}


def _with_ids(path: str) -> bool:
    return bool(set(re.findall(r"{(\w+)", path)) & (CASE_PARAMS | DOCUMENT_PARAMS | PERSON_PARAMS))


ID_READS = sorted(set(CASE_READS) | DOCUMENT_READS | PERSON_READS | OTHER_CASE_READS)
LISTS = sorted(set(LIST_READS) | set(MORE_LIST_READS))


def test_every_get_of_the_app_is_in_the_two_ambiti_matrix_or_says_why_not():
    gets = _app_gets()
    covered = set(ID_READS) | set(LISTS) | set(SKIPPED)
    assert gets - covered == set(), "rotte GET fuori dalla matrice dei due Ambiti"
    assert covered - gets == set(), "rotte della matrice dei due Ambiti che non esistono più"
    assert {p for p in gets if _with_ids(p)} <= set(ID_READS) | set(SKIPPED)


def test_the_world_holds_cases_of_both_ambiti_and_a_lodi_record_placed_in_no_comune(world):
    assert set(world.ambito.values()) == {"cremasco", "lodi"}
    assert world.ambito["bando_lodi"] == "lodi" and world.ambito["bando"] == "cremasco"
    assert {world.user_ambito(u) for u, *_ in LODI_USERS} == {"lodi"}
    assert {world.user_ambito(u) for u in CREMASCO_ALL} == {"cremasco"}
    roles = {world.principals[u].role for u in CREMASCO}
    assert roles == {world.principals[u].role for u, *_ in LODI_USERS} == {Role(r) for _, r, *_ in ALL_USERS} - {
        Role.REGIONAL_READER}


@pytest.mark.parametrize("username", USERS)
def test_the_rule_admits_no_case_of_the_other_ambito(world, username):
    p = world.principals[username]
    with world.engine.connect() as conn:
        crossed = [n for n in world.others(username) if can_read_case(p, case_ref(conn, world.cases[n], TODAY))]
    assert crossed == []


def _url(world: World, path: str, name: str) -> str:
    case_id = world.cases[name]
    url = re.sub(r"{(documento_id|doc_id)}", str(world.documents[name]), path)
    url = re.sub(r"{(person_id|persona_id)}", str(world.persons[name] or 0), url)
    return re.sub(r"{(caso_id|case_id|call_id)}", str(case_id), url)


def _served(world: World, path: str, username: str, name: str, ref) -> bool | None:
    """Whether the single-Ambito rule serves this case on this route (None: not asserted here, only refusals)."""
    p = world.principals[username]
    if path in CASE_READS:
        spec = CASE_READS[path]
        return (can_read_case(p, ref) and (spec.roles is None or p.role in spec.roles)
                and (spec.case_types is None or ref.case_type in spec.case_types))
    if path in DOCUMENT_READS:
        return document_refusal(p, ref, FieldClass.SOCIAL, write=False) is None
    return None


@pytest.mark.parametrize("path", ID_READS)
def test_no_entrance_with_an_id_opens_a_case_of_the_other_ambito_and_its_own_stay_open(world, path):
    crossings, unreachable = [], []
    for username in USERS:
        client = world.api[username] if path.startswith("/api/") else world.pages[username]
        others = world.others(username)
        for name in world.cases:
            if ("{person" in path or "{persona" in path) and world.persons[name] is None:
                continue
            if path.endswith(".pdf") and name not in others:
                continue  # its own Ambito's PDFs: the single-Ambito matrix (a PDF each is the slow part)
            response = client.get(_url(world, path, name))
            text = response.text if not response.headers.get("content-type", "").startswith(
                ("application/pdf", "application/vnd")) else ""
            if name in others:
                named = [s for s in world.names[name] if s in text]
                if response.status_code not in REFUSED or named:
                    crossings.append((username, name, response.status_code, named))
                continue
            with world.engine.connect() as conn:
                ref = case_ref(conn, world.cases[name], TODAY)
            if _served(world, path, username, name, ref) and response.status_code != 200:
                unreachable.append((username, name, response.status_code, response.text[:120]))
    assert crossings == []
    assert unreachable == []


def _list_url(world: World, path: str, username: str) -> str:
    if "{username}" in path:
        return calendar_path(world.app.state.services.settings.secret_key, username)
    return path.replace("{case_type}", "patto")


def _links(text: str, case_id: int) -> bool:
    return re.search(rf"/casi/{case_id}(?!\d)", text) is not None


@pytest.mark.parametrize("path", LISTS)
def test_no_list_export_tally_or_feed_names_a_case_of_the_other_ambito(world, path):
    params = LIST_READS.get(path, MORE_LIST_READS.get(path, {}))
    crossings = []
    for username in USERS:
        client = world.api[username] if path.startswith("/api/") else world.pages[username]
        response = client.get(_list_url(world, path, username), params=params)
        text = response.text if "spreadsheet" not in response.headers.get("content-type", "") else ""
        others = world.others(username)
        named = sorted(s for s in world.forbidden(username) if s in text)
        linked = [n for n in others if _links(text, world.cases[n])]
        listed: set[int] = set()
        if response.headers.get("content-type", "").startswith("application/json") and isinstance(
                body := response.json(), list):
            listed = {row.get("caso", row.get("id")) for row in body if isinstance(row, dict)}
        ids = sorted(n for n in others if world.cases[n] in listed)
        if named or linked or ids:
            crossings.append((username, named, linked, ids))
    assert crossings == []


@pytest.mark.parametrize("username", USERS)
def test_searching_a_name_of_the_other_ambito_finds_nothing(world, username):
    page = world.pages[username]
    found = []
    for name in world.others(username):
        for q in world.names[name]:
            echoed = page.get("/casi", params={"q": "Q" * len(q)}).text.count("Q" * len(q))  # the search box
            text = page.get("/casi", params={"q": q}).text
            if _links(text, world.cases[name]) or text.count(q) > echoed:
                found.append((name, q))
    assert found == []


@pytest.mark.parametrize("username", USERS)
def test_the_lists_of_each_user_hold_exactly_the_cases_of_their_ambito_the_rule_admits(world, username):
    p = world.principals[username]
    with world.engine.connect() as conn:
        readable = {i for i in world.cases.values() if can_read_case(p, case_ref(conn, i, TODAY))}
    listed = {row["id"] for row in world.api[username].get("/api/v1/casi", params={"limit": 500}).json()}
    assert listed == readable
    assert {world.ambito[n] for n, i in world.cases.items() if i in listed} <= {world.user_ambito(username)}


@pytest.mark.parametrize("username", ["udp.neri", "udp.lodi", "csc.bianchi", "csc.lodi"])
def test_the_comuni_a_user_may_pick_in_the_case_list_are_those_of_their_ambito(world, username):
    page = world.pages[username].get("/casi").text
    offered = set(re.findall(r'<option value="(\d{6})"', page))
    ambito = world.principals[username].ambito
    assert offered and (LODI in offered) == (ambito.code == "lodi")
    assert offered <= ambito.comuni


# ============================================================================ the CLI


def _cli_reads() -> dict[str, list[str]]:
    return {"case show": ["case", "show", "{id}", "--json"], "diario list": ["diario", "list", "{id}", "--json"],
            "documenti list": ["documenti", "list", "{id}", "--json"],
            "atti elenco": ["atti", "elenco", "{id}", "--json"]}


CLI_ELSEWHERE = {
    "case list": "qui sotto (elenco e conteggi)", "case summary": "qui sotto (elenco e conteggi)",
    "case advance": "passi: la stessa decisione di POST /api/v1/casi/{caso_id}/transizioni (qui sotto)",
    "case open": "apertura: il comune del caso deve essere dell'Ambito (domain.access, matrice di un Ambito)",
    "case riassegna": "come POST /api/v1/casi/{caso_id}/riassegnazione", "case trasferisci": "come il trasferimento",
    "case consegna": "consegne tra operatori dello stesso sub-ambito",
    "diario add": "scrittura: diary_refusal, che include la lettura (matrice di un Ambito)",
    "documenti add": "scrittura: document_refusal, che include la lettura (matrice di un Ambito)",
    "documenti get": "per documento: la stessa regola di GET /api/v1/documenti/{documento_id} (qui sopra)",
    "atti genera": "scrittura: act_refusal, che include la lettura (matrice di un Ambito)",
}


def test_every_cli_command_about_a_case_is_in_the_two_ambiti_matrix_or_says_why_not():
    from .test_access_matrix_generated import _cli_commands

    about_cases = {c for c in _cli_commands() if c.split()[0] in ("case", "diario", "documenti", "atti")}
    assert about_cases == set(_cli_reads()) | set(CLI_ELSEWHERE)


@pytest.fixture(scope="module")
def cli(world):
    from typer.testing import CliRunner

    from cli.main import app
    from config.settings import get_settings
    from store.db import cached_engine

    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEGAMI_DATABASE_URL", world.url)
        get_settings.cache_clear()
        cached_engine.cache_clear()
        yield lambda *args: runner.invoke(app, list(args))
        cached_engine(world.url).dispose()
    get_settings.cache_clear()
    cached_engine.cache_clear()


@pytest.mark.parametrize("command", sorted(_cli_reads()))
def test_the_cli_reads_no_case_of_the_other_ambito(world, cli, command):
    crossings = []
    for username in USERS:
        for name in world.others(username):
            args = [a.replace("{id}", str(world.cases[name])) for a in _cli_reads()[command]]
            result = cli(*args, "--actor", username)
            named = [s for s in world.names[name] if s in result.output]
            if result.exit_code == 0 or named:
                crossings.append((username, name, result.exit_code, named))
    assert crossings == []


@pytest.mark.parametrize("command", ["list", "summary"])
def test_the_cli_lists_and_counts_only_the_users_ambito(world, cli, command):
    crossings = []
    for username in USERS:
        result = cli("case", command, "--actor", username, "--json")
        assert result.exit_code == 0, result.output
        named = sorted(s for s in world.forbidden(username) if s in result.output)
        ids = {r["id"] for r in json.loads(result.stdout)} if command == "list" else set()
        listed = [n for n in world.others(username) if world.cases[n] in ids]
        if named or listed:
            crossings.append((username, named, listed))
    assert crossings == []


# ============================================================================ digests, SIUSS, steps


def test_the_sweeps_digests_name_no_case_of_the_other_ambito(world):
    from services.sweep import run_deadline_sweep
    from store.tables import OutboxMessage

    run_deadline_sweep(world.engine, as_of=TODAY)
    outbox = OutboxMessage.__table__
    with world.engine.connect() as conn:
        messages = conn.execute(sa.select(outbox.c.recipient, outbox.c.payload, outbox.c.case_id)).all()
    by_email = {f"{u}@example.org": u for u in world.principals}
    crossings, read = [], 0
    for m in messages:
        username = by_email.get(m.recipient)
        if username is None:
            continue
        read += 1
        text = json.dumps(m.payload, ensure_ascii=False)
        others = world.others(username)
        named = sorted(s for s in world.forbidden(username) if s in text)
        about = [n for n in others if world.cases[n] == m.case_id or _links(text, world.cases[n])]
        if named or about:
            crossings.append((username, named, about))
    assert read > 0, "la scansione non ha accodato messaggi agli utenti del mondo"
    assert crossings == []


def test_siuss_is_refused_to_the_planning_office_of_another_ambito_than_the_default(world):
    lodi, crema = world.pages["udp.lodi"], world.pages["udp.neri"]
    assert lodi.get("/siuss").status_code in REFUSED
    assert crema.get("/siuss").status_code == 200


@pytest.mark.parametrize("username", USERS)
def test_no_step_is_fired_on_a_case_of_the_other_ambito(world, username):
    from domain.registry import get_workflow

    wrong = []
    for name in world.others(username):
        case_id = world.cases[name]
        with world.engine.connect() as conn:
            ref = case_ref(conn, case_id, TODAY)
            version = conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one()
        steps = [t for t in get_workflow(ref.case_type).transitions_from(ref.state) if not t.opening]
        mine = [t for t in steps if world.principals[username].role in t.roles] or steps
        if not mine:
            continue
        response = world.api[username].post(f"/api/v1/casi/{case_id}/transizioni/{mine[0].name}", json={"dati": {}})
        with world.engine.connect() as conn:
            after = conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one()
        if response.status_code not in REFUSED or after != version:
            wrong.append((name, response.status_code, response.text[:120]))
    assert wrong == []
