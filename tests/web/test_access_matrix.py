"""Every API endpoint × every role × a case in scope and one out of scope: the expected status, and nothing of
an out-of-scope case (id, surname, codice fiscale) in any answer.

The rows name, per user, the case they may work on and the one they may not (from tests/district_world.py),
what opening and firing they attempt and what they get. A new /api/v1 route without a probe here fails
`test_the_matrix_covers_every_api_route`. Reads are also compared with domain.access.can_read_case for
every case of the world.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from domain.access import can_read_case
from services.access import case_ref, principal_for
from services.queries import case_detail
from tests.district_world import CREMA, PANDINO
from tests.integration.patto_steps import MONITORAGGIO, segnalazione

from .conftest import NOW, PASSWORD
from .document_helpers import MATRIX_PDF, put_document

API = "/api/v1"
TODAY = NOW.date()

ISEE_2026 = {"isee": {"tipo": "ordinario", "valore": "7000", "protocollo": "INPS-ISEE-2026-ZZZZZ9999-01",
                      "data_dsu": "2026-10-01"}}
FIRST_VISIT = {"visita": {"data": "19/11/2026", "operatore": "Anna Riva", "minuti": 60,
                          "servizi": ["igiene_personale"]}}
ADMISSION = {"adl": 2, "iadl": 4, "misura_proposta": "caregiver", "importo_mensile_proposto": "300"}
REJECTION_NOTICE = {"motivi": ["ISEE oltre la soglia"], "comunicato_il": "19/11/2026"}
INTERRUPTION = {"causa": "trasferimento"}
FNA_CALL = {"titolo": "Bando FNA B2 2027", "anno_fna": 2026, "dgr": "DGR 9999/2026"}


@dataclass(frozen=True)
class Fire:
    transition: str
    data: dict[str, Any]
    inside: int  # expected status on the in-scope case
    reason: str | None = None


@dataclass(frozen=True)
class Row:
    inside: str | None  # a world case the user may read (None: no case at all)
    outside: str  # a world case the user may not read
    open_inside: tuple[str, str | None, dict, int]  # (type, comune, data, expected status)
    open_outside: tuple[str, str | None, dict, int]
    fire: Fire
    indicators: int
    fire_outside: int = 403
    report: int = 403  # the yearly report's download
    notes: list[str] = field(default_factory=list)
    document_inside: int = 200  # a social document of the case in scope (providers read only the care plan)
    regional: int = 403  # the indicators of every Ambito (the regional reader's)


PATTO_CREMA = ("patto", CREMA, segnalazione(surname="Nuovi", name="Dario"), 201)
PATTO_PANDINO = ("patto", PANDINO, segnalazione(surname="Nuovi", name="Dario"), 201)


def refused(spec: tuple[str, str | None, dict, int], status: int = 403) -> tuple[str, str | None, dict, int]:
    return (*spec[:3], status)


MONITORING = Fire("registra_monitoraggio", MONITORAGGIO, 200)

MATRIX: dict[str, Row] = {
    "as.rossi": Row("patto_crema", "patto_pandino", PATTO_CREMA, refused(PATTO_PANDINO), MONITORING, 403),
    # same comuni as as.rossi: she reads the patto but may not act on a colleague's case
    "as.bruni": Row("patto_crema", "patto_pandino", PATTO_CREMA, refused(PATTO_PANDINO),
                    Fire("registra_monitoraggio", MONITORAGGIO, 403), 403),
    # the social worker of another sub-ambito is refused the Crema case
    "as.verdi": Row("patto_pandino", "patto_crema", PATTO_PANDINO, refused(PATTO_CREMA), MONITORING, 403),
    "coord.crema": Row("patto_crema", "patto_pandino", refused(PATTO_CREMA), refused(PATTO_PANDINO),
                       Fire("interrompi", INTERRUPTION, 200, reason="trasferimento fuori ambito"), 200),
    "coord.pandino": Row("patto_pandino", "patto_crema", refused(PATTO_PANDINO), refused(PATTO_CREMA),
                         Fire("interrompi", INTERRUPTION, 200, reason="trasferimento fuori ambito"), 200),
    # CSC sees every adult's case, not a minor's (owner and coordinator only)
    "csc.bianchi": Row("patto_crema", "minore", PATTO_CREMA, ("sad_caso", CREMA, segnalazione(), 403),
                       Fire("aggiorna_isee", ISEE_2026, 200), 200),
    "udp.neri": Row("fna", "patto_crema", ("fna_bando", None, FNA_CALL, 201), refused(PATTO_CREMA),
                    Fire("preavviso_rigetto", REJECTION_NOTICE, 200), 200, report=200),
    "udp.admin": Row("fna", "patto_crema", ("fna_bando", None, FNA_CALL, 201), refused(PATTO_CREMA),
                     Fire("preavviso_rigetto", REJECTION_NOTICE, 200), 200, report=200),
    "ente.girasole": Row("sad_ente01", "sad_ente02", ("sad_caso", CREMA, segnalazione(), 403), refused(PATTO_CREMA),
                         Fire("prima_visita", FIRST_VISIT, 200), 403, document_inside=403),
    # ENTE02's case has no voucher yet: the first visit cannot be logged (state), the other provider's is refused
    "ente.ponte": Row("sad_ente02", "sad_ente01", ("sad_caso", CREMA, segnalazione(), 403), refused(PATTO_CREMA),
                      Fire("prima_visita", FIRST_VISIT, 422), 403, document_inside=403),
    "ovd.valutatore": Row(None, "patto_crema", refused(PATTO_CREMA), ("fna_bando", None, FNA_CALL, 403),
                          Fire("registra_monitoraggio", MONITORAGGIO, 0), 200, report=200),
    "asst.medici": Row("fna", "patto_crema", refused(PATTO_CREMA), ("fna_bando", None, FNA_CALL, 403),
                       Fire("ammetti", ADMISSION, 200), 403),
    # of no Ambito: every Ambito's aggregates (its own endpoint), no case, not even the Ambito's dashboard
    "reg.lettore": Row(None, "patto_crema", refused(PATTO_CREMA), ("fna_bando", None, FNA_CALL, 403),
                       Fire("registra_monitoraggio", MONITORAGGIO, 0), 403, regional=200),
}


def basic(username: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()}


class Probe:
    """One user's requests: every answer is kept for the leak check, every status compared with the row."""

    def __init__(self, client: TestClient, row: Row, world: dict[str, int]):
        self.client, self.row, self.world = client, row, world
        self.answers: list[tuple[str, Any, str]] = []
        self.mismatches: list[str] = []

    @property
    def inside(self) -> int | None:
        return self.world[self.row.inside] if self.row.inside else None

    @property
    def outside(self) -> int:
        return self.world[self.row.outside]

    def call(self, method: str, url: str, expected: int, **kwargs: Any):
        response = self.client.request(method, url, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        self.answers.append((f"{method} {url}", body, response.text))
        if response.status_code != expected:
            self.mismatches.append(f"{method} {url}: {response.status_code} invece di {expected} ({response.text[:200]})")
        return response


def probe_types(p: Probe) -> None:
    p.call("GET", f"{API}/tipi", 200)


def probe_list(p: Probe) -> None:
    listed = {c["id"] for c in p.call("GET", f"{API}/casi", 200, params={"limit": 500}).json()}
    if p.inside is not None and p.inside not in listed:
        p.mismatches.append(f"GET /casi: manca il caso {p.inside} nel suo ambito")
    if p.outside in listed:
        p.mismatches.append(f"GET /casi: compare il caso {p.outside} fuori ambito")


def probe_open(p: Probe) -> None:
    for tipo, comune, data, expected in (p.row.open_inside, p.row.open_outside):
        body = {"tipo": tipo, "dati": data} | ({"comune_istat": comune} if comune else {})
        response = p.call("POST", f"{API}/casi", expected, json=body)
        if expected == 201 and response.status_code == 201:
            assert response.headers["location"] == f"{API}/casi/{response.json()['id']}"


def _case_reads(p: Probe, suffix: str) -> None:
    if p.inside is not None:
        p.call("GET", f"{API}/casi/{p.inside}{suffix}", 200)
    p.call("GET", f"{API}/casi/{p.outside}{suffix}", 403)


def probe_detail(p: Probe) -> None:
    _case_reads(p, "")


def probe_allowed(p: Probe) -> None:
    _case_reads(p, "/transizioni")


def probe_case_deadlines(p: Probe) -> None:
    _case_reads(p, "/scadenze")


def probe_fire(p: Probe) -> None:
    fire = p.row.fire
    body = {"dati": fire.data} | ({"motivo": fire.reason} if fire.reason else {})
    if p.inside is not None:
        p.call("POST", f"{API}/casi/{p.inside}/transizioni/{fire.transition}", fire.inside, json=body)
    p.call("POST", f"{API}/casi/{p.outside}/transizioni/{fire.transition}", p.row.fire_outside, json=body)


def probe_my_deadlines(p: Probe) -> None:
    mine = p.call("GET", f"{API}/scadenze", 200, params={"entro_giorni": 366}).json()
    if p.outside in {d["caso"] for d in mine}:
        p.mismatches.append(f"GET /scadenze: compare il caso {p.outside} fuori ambito")


def probe_diary(p: Probe) -> None:
    _case_reads(p, "/diario")


def probe_diary_add(p: Probe) -> None:
    """Out of scope nobody writes in a case's diary (who may write in scope: tests/web/test_diary.py)."""
    entry = {"tipo": "telefonata", "avvenuto_il": "10/11/2026 10:00", "testo": "Sentita la famiglia."}
    p.call("POST", f"{API}/casi/{p.outside}/diario", 403, json=entry)


KEEPERS = ("coord.crema", "coord.pandino", "csc.bianchi")  # domain.access.IDENTITY_KEEPERS


def _person_id(p: Probe, case_id: int) -> int:
    from store import persons

    with p.engine.connect() as conn:
        return persons.person_of_case(conn, case_id).id


def probe_person_of_case(p: Probe) -> None:
    _case_reads(p, "/persona")


def probe_person(p: Probe) -> None:
    """A person's page: 200 through a case the user reads; 404 (nothing revealed) for a person known only in cases
    they may not read."""
    if p.inside is not None:
        p.call("GET", f"{API}/persone/{_person_id(p, p.inside)}", 200)
    p.call("GET", f"{API}/persone/{_person_id(p, p.outside)}", 404)


def probe_merge(p: Probe) -> None:
    """Only a coordinator or CSC merges codes (who may merge which person: tests/web/test_person.py)."""
    from datetime import date

    from domain.validation import make_codice_fiscale

    definitive = make_codice_fiscale("Nessuno", "Ugo", date(1970, 1, 1), "M", "D142")
    body = {"provvisorio": "91000370196", "definitivo": definitive, "motivo": "codice attribuito"}
    p.call("POST", f"{API}/persone/unione", 404 if p.row_user in KEEPERS else 403, json=body)


def probe_resolve(p: Probe) -> None:
    p.call("POST", f"{API}/casi/{p.outside}/discrepanza", 404 if p.row_user in KEEPERS else 403,
           json={"esito": "archivio"})
def probe_documents(p: Probe) -> None:
    _case_reads(p, "/documenti")


def probe_documents_add(p: Probe) -> None:
    """Out of scope nobody adds a document (who may in scope: tests/web/test_documents.py)."""
    p.call("POST", f"{API}/casi/{p.outside}/documenti", 403, data={"tipo": "altro"},
           files={"file": ("a.pdf", MATRIX_PDF, "application/pdf")})


def probe_document_download(p: Probe) -> None:
    """A (social) document of the case out of scope is refused; of the case in scope, served as an attachment."""
    engine = p.client.app.state.services.engine
    p.call("GET", f"{API}/documenti/{put_document(engine, p.outside)}", 403)
    if p.inside is not None:
        got = p.call("GET", f"{API}/documenti/{put_document(engine, p.inside)}", p.row.document_inside)
        if got.status_code == 200 and not got.headers["content-disposition"].startswith("attachment;"):
            p.mismatches.append("GET /documenti: non servito come allegato")


def probe_acts(p: Probe) -> None:
    _case_reads(p, "/atti")


def probe_act_generate(p: Probe) -> None:
    """Out of scope nobody generates an act (who may in scope: tests/web/test_acts.py)."""
    p.call("POST", f"{API}/casi/{p.outside}/atti/patto_da_firmare", 403)


def probe_indicators(p: Probe) -> None:
    p.call("GET", f"{API}/indicatori", p.row.indicators, params={"anno": 2026})


def probe_regional(p: Probe) -> None:
    p.call("GET", f"{API}/regione/indicatori", p.row.regional, params={"anno": 2026})


def probe_export_list(p: Probe) -> None:
    """The list as a file holds the cases of the list, nothing else (its content: tests/web/test_exports.py)."""
    expected = 403 if p.row.inside is None else 200
    text = p.call("GET", f"{API}/esportazioni/casi", expected, params={"formato": "csv"}).text
    if expected == 200 and f"\r\n{p.outside};" in text:
        p.mismatches.append(f"GET /esportazioni/casi: compare il caso {p.outside} fuori ambito")


def probe_case_summary(p: Probe) -> None:
    _case_reads(p, "/riepilogo.pdf")


def probe_report(p: Probe) -> None:
    """The yearly report: the Ufficio di Piano and the evaluator (domain.access.report_refusal), nobody else."""
    p.call("GET", f"{API}/relazione", p.row.report, params={"anno": 2026, "formato": "csv"})
# hand-over (DOMAIN.md §13): (reassign the case inside, transfer it, transfer the one outside, preview of as.rossi's
# hand-over, list deputies, name one, end one). Every body is incomplete on purpose (no reason, dates backwards, no
# such deputyship): whoever may act gets 422/404 and nothing changes; whoever may not is refused first (403).
# Who may and what it does: tests/web/test_handover.py and test_handover_entrances.py.
NOBODY = (403, 403, 403, 403, 403, 403, 403)
COORD = (422, 422, 403, 200, 200, 422, 404)
HANDOVER = {"coord.crema": COORD, "coord.pandino": (422, 422, 403, 403, 200, 422, 404),
            "udp.neri": (403, 422, 403, 403, 200, 403, 403), "udp.admin": (403, 422, 403, 403, 200, 403, 403)}


def probe_reassign(p: Probe) -> None:
    body = {"nuovo_assegnatario": "as.bruni", "motivo": ""}
    if p.inside is not None:
        p.call("POST", f"{API}/casi/{p.inside}/riassegnazione", _handover(p)[0], json=body)
    p.call("POST", f"{API}/casi/{p.outside}/riassegnazione", 403, json=body)


def probe_transfer(p: Probe) -> None:
    body = {"nuovo_comune": PANDINO, "motivo": ""}
    if p.inside is not None:
        p.call("POST", f"{API}/casi/{p.inside}/trasferimento", _handover(p)[1], json=body)
    p.call("POST", f"{API}/casi/{p.outside}/trasferimento", _handover(p)[2], json=body)


def _handover(p: Probe) -> tuple[int, ...]:
    username = p.client.headers["Authorization"]
    return next((v for u, v in HANDOVER.items() if basic(u)["Authorization"] == username), NOBODY)


def probe_handover_preview(p: Probe) -> None:
    p.call("POST", f"{API}/consegne/anteprima", _handover(p)[3], json={"assegnatario": "as.rossi"})


def probe_handover_confirm(p: Probe) -> None:
    expected = {200: 422}.get(_handover(p)[3], 403)  # the preview's verdict, then the missing reason
    p.call("POST", f"{API}/consegne", expected, json={"assegnatario": "as.rossi", "a_tutti": "as.bruni"})


def probe_deputies(p: Probe) -> None:
    p.call("GET", f"{API}/sostituti", _handover(p)[4])


def probe_deputy_add(p: Probe) -> None:
    p.call("POST", f"{API}/sostituti", _handover(p)[5], json={"assegnatario": "as.rossi", "sostituto": "as.bruni",
                                                              "dal": "30/11/2026", "al": "20/11/2026"})


def probe_deputy_end(p: Probe) -> None:
    p.call("POST", f"{API}/sostituti/999999/fine", _handover(p)[6])


ENDPOINTS: dict[tuple[str, str], Callable[[Probe], None]] = {
    ("GET", f"{API}/tipi"): probe_types,
    ("GET", f"{API}/casi"): probe_list,
    ("POST", f"{API}/casi"): probe_open,
    ("GET", f"{API}/casi/{{caso_id}}"): probe_detail,
    ("GET", f"{API}/casi/{{caso_id}}/transizioni"): probe_allowed,
    ("GET", f"{API}/casi/{{caso_id}}/scadenze"): probe_case_deadlines,
    ("GET", f"{API}/scadenze"): probe_my_deadlines,
    ("GET", f"{API}/indicatori"): probe_indicators,
    ("GET", f"{API}/regione/indicatori"): probe_regional,
    ("GET", f"{API}/casi/{{caso_id}}/diario"): probe_diary,
    ("POST", f"{API}/casi/{{caso_id}}/diario"): probe_diary_add,
    ("GET", f"{API}/casi/{{caso_id}}/documenti"): probe_documents,
    ("POST", f"{API}/casi/{{caso_id}}/documenti"): probe_documents_add,
    ("GET", f"{API}/documenti/{{documento_id}}"): probe_document_download,
    ("GET", f"{API}/esportazioni/casi"): probe_export_list,
    ("GET", f"{API}/casi/{{caso_id}}/riepilogo.pdf"): probe_case_summary,
    ("GET", f"{API}/relazione"): probe_report,
    ("GET", f"{API}/casi/{{caso_id}}/persona"): probe_person_of_case,
    ("GET", f"{API}/persone/{{persona_id}}"): probe_person,
    ("POST", f"{API}/persone/unione"): probe_merge,
    ("POST", f"{API}/casi/{{caso_id}}/discrepanza"): probe_resolve,
    ("POST", f"{API}/casi/{{caso_id}}/riassegnazione"): probe_reassign,
    ("POST", f"{API}/casi/{{caso_id}}/trasferimento"): probe_transfer,
    ("POST", f"{API}/consegne/anteprima"): probe_handover_preview,
    ("POST", f"{API}/consegne"): probe_handover_confirm,
    ("GET", f"{API}/sostituti"): probe_deputies,
    ("POST", f"{API}/sostituti"): probe_deputy_add,
    ("POST", f"{API}/sostituti/{{sostituzione_id}}/fine"): probe_deputy_end,
    ("GET", f"{API}/casi/{{caso_id}}/atti"): probe_acts,
    ("POST", f"{API}/casi/{{caso_id}}/atti/{{atto}}"): probe_act_generate,
    ("POST", f"{API}/casi/{{caso_id}}/transizioni/{{nome}}"): probe_fire,  # last: it changes the case
}


def _values(node: Any):
    """Every (key, value) pair in a JSON document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _values(v)


def _all_routes(routes):
    """app.routes, with the routes of included routers (FastAPI keeps those inside the router it includes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _all_routes(inner.routes) if inner is not None else (route,)


def test_the_matrix_covers_every_api_route(app):
    routes = {(method, r.path) for r in _all_routes(app.routes) if isinstance(r, APIRoute)
              and r.path.startswith(f"{API}/") for method in r.methods}
    assert routes == set(ENDPOINTS)
    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items()
                  if path.startswith(f"{API}/") for method in ops}
    assert documented == set(ENDPOINTS)


def test_every_role_in_the_matrix_is_a_user_of_the_fixtures():
    from .conftest import ALL_USERS

    roles = {role for _, role, _, _ in ALL_USERS}
    covered = {role for username, role, _, _ in ALL_USERS if username in MATRIX}
    assert covered == roles and set(MATRIX) == {u for u, *_ in ALL_USERS}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_each_role_gets_the_expected_answer_from_every_endpoint_and_nothing_out_of_scope(
        username, app, web_engine, world):
    row = MATRIX[username]
    outside = world[row.outside]
    person = case_detail(web_engine, outside)["persona"]
    probe = Probe(TestClient(app, headers=basic(username)), row, world)
    probe.engine, probe.row_user = web_engine, username
    for run in ENDPOINTS.values():
        run(probe)
    assert probe.mismatches == []

    for request, body, text in probe.answers:
        assert person["codice_fiscale"] not in text, f"{request} mostra il codice fiscale del caso {outside}"
        for key, value in _values(body):
            case_key = key in ("caso", "caso_collegato") or (key == "id" and "/scadenze" not in request)
            assert not (case_key and value == outside), \
                f"{request} mostra il caso {outside}"
            assert not (isinstance(value, str) and value in (person["cognome"], json.dumps(person))), \
                f"{request} mostra il cognome della persona del caso {outside}"


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_the_api_reads_exactly_the_cases_the_domain_rule_allows(username, app, web_engine, world):
    client = TestClient(app, headers=basic(username))
    principal = principal_for(web_engine, username)
    listed = {c["id"] for c in client.get(f"{API}/casi", params={"limit": 500}).json()}
    with web_engine.connect() as conn:
        refs = {name: case_ref(conn, case_id, TODAY) for name, case_id in world.items()}
    decisions = {}
    for name, case_id in world.items():
        allowed = can_read_case(principal, refs[name])
        status = client.get(f"{API}/casi/{case_id}").status_code
        decisions[name] = (allowed, status, case_id in listed)
    assert all(status == (200 if allowed else 403) for allowed, status, _ in decisions.values()), decisions
    assert all(in_list == allowed for allowed, _, in_list in decisions.values()), decisions
