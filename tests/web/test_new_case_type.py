"""A case type declared here, in the test (a health-class field, an indicator, an e-mail template), is found
with no other edit on the pages, in the API, in the CLI, in the tallies and in the digest: the registry is the
only place the rest of Legami learns about case types from."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from pydantic import Field
from typer.testing import CliRunner

from cli.main import app as cli_app
from config.settings import get_settings
from domain.casetype import CaseType, IndicatorGroup
from domain.common import Form, Persona
from domain.events import Notify, Recipient
from domain.fields import FieldClass
from domain.indicators import Measure
from domain.registry import register, unregister
from domain.validation import Euro, ItalianDate
from domain.workflow import Basis, DeadlineRule, Role, Source, State, Transition, Workflow
from services.access import health_reads
from services.cases import CaseService
from services.sweep import run_deadline_sweep
from services.tallies import compute_tallies
from store.db import cached_engine
from store.tables import outbox_t
from tests.district_world import CREMA
from tests.integration.patto_steps import persona

from .conftest import NOW

SURNAMES = ["Abate", "Bellini", "Corti", "Donati", "Eletti"]


class Richiesta(Form):
    persona: Persona = Field(title="Beneficiario")
    diagnosi: str = Field(title="Diagnosi", min_length=3, max_length=200)
    importo: Euro = Field(title="Importo del buono (€)", gt=0)


class Erogazione(Form):
    pagato_il: ItalianDate = Field(title="Data del pagamento")


def _buono(templates) -> CaseType:
    wf = Workflow(
        case_type="buono_prova",
        label="Buono di prova",
        states=(State("SEGNALATO", "Segnalato"), State("EROGATO", "Erogato", terminal=True)),
        transitions=(
            Transition("segnala", "Segnalazione del buono", (), "SEGNALATO", frozenset({Role.SOCIAL_WORKER}),
                       data=Richiesta, owner_is_actor=True,
                       starts=(DeadlineRule("erogazione", "Erogazione del buono", 10, Basis.CALENDAR,
                                            Source.CONFIGURED, met_by=("eroga",)),)),
            Transition("eroga", "Erogazione", ("SEGNALATO",), "EROGATO", frozenset({Role.SOCIAL_WORKER}),
                       data=Erogazione),
        ),
    )
    return CaseType(
        workflow=wf,
        group=IndicatorGroup("buono", "Buoni di prova"),
        fields={"diagnosi": FieldClass.HEALTH, "pagato_il": FieldClass.ADMINISTRATIVE},
        measures=(Measure("buono_segnalati", "Buoni di prova segnalati", "buono", "buono_prova", ("segnala",)),),
        notifications=(Notify("segnala", "buono_prova_aperto", Recipient.NEW_OWNER),),
        templates=templates,
    )


@pytest.fixture
def buono(tmp_path):
    folder = tmp_path / "modelli"
    folder.mkdir()
    (folder / "buono_prova_aperto.subject.txt").write_text("Nuovo buono di prova n. {{ case_id }}\n")
    (folder / "buono_prova_aperto.txt").write_text(
        "{% extends '_layout.txt' %}{% block contenuto %}Buono di prova n. {{ case_id }} aperto il "
        "{{ efficace_il | data_it }}.{% endblock %}\n")
    (folder / "buono_prova_aperto.html").write_text(
        "{% extends '_layout.html' %}{% block contenuto %}<p>Buono di prova n. {{ case_id }} aperto il "
        "{{ efficace_il | data_it }}.</p>{% endblock %}\n")
    ct = register(_buono(folder))
    yield ct
    unregister("buono_prova")


@pytest.fixture
def buoni(buono, world, web_engine):
    service = CaseService(web_engine, clock=lambda: NOW)
    ids = [service.open_case(case_type="buono_prova", actor=service.actor("as.rossi"), comune_istat=CREMA,
                             effective_at=date(2026, 3, 2 + n),
                             data={"persona": persona(s, "Anna", date(1970 + n, 1, 5)), "diagnosi": "diabete di tipo 2",
                                   "importo": "250"})
           for n, s in enumerate(SURNAMES)]
    return ids


def test_the_new_type_is_offered_on_the_new_referral_page_and_its_case_page_renders(buoni, client_for):
    worker = client_for("as.rossi")
    assert "Buono di prova" in worker.get("/casi/nuovo").text
    page = worker.get(f"/casi/{buoni[0]}")
    assert page.status_code == 200 and "Buono di prova" in page.text and "Segnalato" in page.text
    assert "Erogazione del buono" in page.text  # its deadline
    assert "Buono di prova" in worker.get("/casi?tipo=buono_prova").text


def test_the_api_lists_the_type_and_redacts_its_health_field_by_class(buoni, client_for, web_engine):
    owner, colleague = client_for("as.rossi"), client_for("as.bruni")
    assert "buono_prova" in [t["tipo"] for t in owner.get("/api/v1/tipi").json()]
    before = len(health_reads(web_engine, case_id=buoni[0]))
    assert owner.get(f"/api/v1/casi/{buoni[0]}").json()["dati"]["diagnosi"] == "diabete di tipo 2"
    assert len(health_reads(web_engine, case_id=buoni[0])) == before + 1
    seen = colleague.get(f"/api/v1/casi/{buoni[0]}").json()
    assert "diagnosi" not in seen["dati"] and "dati sanitari" in seen["dati_riservati"]


def test_the_cli_shows_the_type_and_the_case_as_the_named_user(buoni, db_url, monkeypatch):
    monkeypatch.setenv("LEGAMI_DATABASE_URL", db_url)
    get_settings.cache_clear()
    cached_engine.cache_clear()
    try:
        runner = CliRunner()
        assert "buono_prova" in runner.invoke(cli_app, ["workflow", "list"]).output
        shown = runner.invoke(cli_app, ["case", "show", str(buoni[0]), "--actor", "as.rossi"])
        assert shown.exit_code == 0 and "Buono di prova" in shown.output
    finally:
        cached_engine(db_url).dispose()
        get_settings.cache_clear()
        cached_engine.cache_clear()


def test_the_tallies_count_the_new_types_indicator_in_its_own_group(buoni, web_engine):
    result = compute_tallies(web_engine, year=2026, as_of=NOW.date())
    found = next(i for i in result["indicatori"] if i["codice"] == "buono_segnalati")
    assert found["gruppo"] == "buono" and found["totale"]["valore"] == len(SURNAMES)


def test_the_new_types_step_queues_its_own_mail_and_its_deadline_reaches_the_owners_digest(buoni, web_engine):
    with web_engine.connect() as conn:
        mails = conn.execute(sa.select(outbox_t.c.template, outbox_t.c.recipient)
                             .where(outbox_t.c.case_id.in_(buoni))).all()
    assert {(m.template, m.recipient) for m in mails} == {("buono_prova_aperto", "as.rossi@example.org")}
    run_deadline_sweep(web_engine, as_of=date(2026, 3, 10))
    with web_engine.connect() as conn:
        digests = conn.execute(sa.select(outbox_t.c.payload).where(outbox_t.c.template == "digest",
                                                                   outbox_t.c.recipient == "as.rossi@example.org")).all()
    items = [v for d in digests for v in d.payload["voci"]]
    assert any(v.get("tipo_caso") == "buono_prova" or "Buono di prova" in str(v) for v in items)
