"""What the issue asks of the browser: a social worker records a segnalazione and takes a patto to attivo
and to verifica; missing data shows the Italian reason and changes nothing; a coordinator sees the whole
sub-ambito; a worker of another sub-ambito is refused the case page and the API resource; a provider sees
only its SAD cases."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Locator, Page

from domain.validation import make_codice_fiscale
from store.tables import case_t, transition_t

from .conftest import log_in, screenshot

CREMA = "019035"


def fill(form: Locator, values: dict[str, str | bool]) -> None:
    """Fill the inputs of a generated form by their dotted names."""
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]').first
        tag = field.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            field.select_option(str(value))
        elif tag.endswith(":checkbox"):
            if field.is_checked() != bool(value):  # Bootstrap Italia draws the box on the label: click it
                form.locator(f'label[for="{field.get_attribute("id")}"]').click()
            assert field.is_checked() == bool(value), name
        else:
            field.fill(str(value))


def submit(page: Page, form: Locator, *, succeeds: bool = True) -> None:
    """Press the form's button; a successful step navigates (htmx HX-Redirect or a 303), a refused one
    swaps the form in place with its errors."""
    button = form.locator("button[type=submit]").last
    if succeeds:
        with page.expect_navigation():
            button.click()
    else:
        button.click()
        page.get_by_test_id("errori").wait_for()
    page.wait_for_load_state("networkidle")


def transition_form(page: Page, name: str) -> Locator:
    """The action's form, opened the way a user opens it (its summary) when it is folded."""
    action = page.get_by_test_id(f"azione-{name}")
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    return page.get_by_test_id(f"transizione-{name}")


def state_of(page: Page) -> str:
    return page.get_by_test_id("stato").inner_text().strip()


def history(engine, case_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(transition_t.c.transition).where(transition_t.c.case_id == case_id)
                                 .order_by(transition_t.c.seq)).scalars())


def test_a_social_worker_takes_a_patto_from_segnalazione_to_verifica(new_page, live_server):
    engine = live_server["engine"]
    worker = log_in(new_page(), "as.rossi")
    worker.goto("/casi/nuovo")
    form = worker.get_by_test_id("nuova-segnalazione")
    form.locator('select[name="tipo"]').select_option("patto")
    worker.wait_for_load_state("networkidle")
    form = worker.get_by_test_id("nuova-segnalazione")
    cf = make_codice_fiscale("Ferraro", "Paolo", __import__("datetime").date(1975, 6, 3), "M", "D142")
    fill(form, {"comune_istat": CREMA, "persona.codice_fiscale": cf, "persona.cognome": "Ferraro",
                "persona.nome": "Paolo", "persona.data_nascita": "03/06/1975", "fonte": "caritas",
                "bisogno": "utenze", "efficace_il": "12/01/2026"})
    screenshot(worker, "nuova-segnalazione-compilata")
    submit(worker, form)
    assert "Caso n." in worker.locator("h1").inner_text()
    case_id = int(worker.url.rstrip("/").split("/")[-1].split("?")[0])
    assert state_of(worker) == "Segnalato"

    coordinator = log_in(new_page(), "coord.crema")
    coordinator.goto(f"/casi/{case_id}")
    form = transition_form(coordinator, "assegna")
    fill(form, {"assegnatario": "as.rossi", "primo_colloquio_il": "14/01/2026", "efficace_il": "14/01/2026"})
    submit(coordinator, form)
    assert state_of(coordinator) == "Presa in carico"

    worker.goto(f"/casi/{case_id}")
    form = transition_form(worker, "avvia_redazione")
    fill(form, {"tipologia": "inclusione", "bisogni": "debiti sulle utenze", "risorse": "rete parrocchiale",
                "componenti_nucleo": "3", "isee.tipo": "ordinario", "isee.valore": "6500",
                "isee.protocollo": "INPS-ISEE-2026-ABCDE1234-00", "isee.data_dsu": "10/01/2026",
                "efficace_il": "20/01/2026"})
    submit(worker, form)
    assert state_of(worker) == "Patto in redazione"

    form = transition_form(worker, "attiva")
    objectives = form.locator('[data-righe="obiettivi"] > fieldset')
    assert objectives.count() == 1  # with JavaScript only the required row; more on demand, numbered in turn
    form.locator('[data-aggiungi-riga="obiettivi"]').click()
    assert objectives.count() == 2 and objectives.nth(1).locator("legend").inner_text() == "Obiettivo 2"
    assert objectives.nth(1).locator('[name="obiettivi.1.descrizione"]').count() == 1
    fill(form, {"obiettivi.0.descrizione": "rientro dal debito", "obiettivi.0.indicatore": "bollette pagate",
                "obiettivi.0.target": "6", "impegni_reciprocita.0.attivita": "doposcuola",
                "impegni_reciprocita.0.ente_ospitante": "Parrocchia", "impegni_reciprocita.0.ore_settimanali": "4",
                "misura_economica.tipo": "mensile", "misura_economica.importo": "400",
                "misura_economica.mensilita": "6", "misura_economica.voci": True,  # the first: sostegno al reddito
                "canale": "progetto", "data_inizio": "01/02/2026", "data_fine": "31/07/2026",
                "firmato_il": "02/02/2026", "firmatari": "Paolo Ferraro", "firma_assistente_sociale": True,
                "informativa_privacy": True, "efficace_il": "02/02/2026"})
    submit(worker, form)
    assert state_of(worker) == "Attivo"
    screenshot(worker, "caso-patto-attivo")

    form = transition_form(worker, "avvia_verifica")
    submit(worker, form)
    assert state_of(worker) == "In verifica"
    assert len(worker.get_by_test_id("storia").locator("> li").all()) == 5
    screenshot(worker, "caso-patto-in-verifica")
    assert history(engine, case_id) == ["segnala", "assegna", "avvia_redazione", "attiva", "avvia_verifica"]


def test_changing_the_case_type_with_one_arrow_key_keeps_the_typed_name(new_page, live_server):
    worker = log_in(new_page(), "as.rossi")
    worker.goto("/casi/nuovo?tipo=patto")
    form = worker.get_by_test_id("nuova-segnalazione")
    fill(form, {"persona.cognome": "Ferraro", "persona.nome": "Paolo", "bisogno": "utenze"})
    kinds = form.locator('select[name="tipo"] option').evaluate_all("os => os.map(o => o.value)")
    form.locator('select[name="tipo"]').focus()
    worker.keyboard.press("ArrowDown")  # one key on the closed select is a change: the form is swapped
    worker.wait_for_load_state("networkidle")
    form = worker.get_by_test_id("nuova-segnalazione")
    chosen = kinds[kinds.index("patto") + 1]
    assert form.locator('select[name="tipo"]').input_value() == chosen
    assert worker.url.endswith(f"/casi/nuovo?tipo={chosen}")
    assert form.locator('[name="persona.cognome"]').input_value() == "Ferraro"
    assert form.locator('[name="persona.nome"]').input_value() == "Paolo"
    assert worker.evaluate("document.activeElement.id") == "tipo"  # the keyboard stays on the select
    if form.locator('select[name="bisogno"]').count() == 0:  # not on this form: listed and kept
        assert "Area di bisogno" in worker.get_by_test_id("dati-conservati").inner_text()
    form.locator('select[name="tipo"]').select_option("patto")
    worker.wait_for_load_state("networkidle")
    form = worker.get_by_test_id("nuova-segnalazione")
    assert form.locator('select[name="bisogno"]').input_value() == "utenze"
    assert form.locator('[name="persona.cognome"]').input_value() == "Ferraro"


def test_a_transition_with_missing_data_shows_the_italian_reason_and_changes_nothing(new_page, live_server):
    engine, case_id = live_server["engine"], live_server["world"]["patto_crema"]
    before = history(engine, case_id)
    with engine.connect() as conn:
        version = conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one()
    page = log_in(new_page(), "as.rossi")
    page.goto(f"/casi/{case_id}")
    form = transition_form(page, "registra_monitoraggio")
    submit(page, form, succeeds=False)
    errors = page.get_by_test_id("errori")
    assert errors.is_visible()
    assert "Data dell'incontro" in errors.inner_text() or "incontro" in errors.inner_text().lower()
    assert page.locator(".invalid-feedback.d-block").count() >= 1
    screenshot(page, "errori-in-italiano")
    assert state_of(page) == "Attivo"
    assert history(engine, case_id) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(case_t.c.version).where(case_t.c.id == case_id)).scalar_one() == version


def test_a_coordinator_sees_the_whole_sub_ambito(new_page, live_server):
    world = live_server["world"]
    page = log_in(new_page(), "coord.crema")
    page.goto("/casi?limit=500")
    table = page.get_by_test_id("elenco-casi")
    links = {a.get_attribute("href") for a in table.locator("a[href^='/casi/']").all()}
    for key in ("patto_crema", "sad_ente01", "sad_ente02", "minore"):
        assert f"/casi/{world[key]}" in links, key
    assert f"/casi/{world['patto_pandino']}" not in links
    screenshot(page, "casi-coordinatore")


def test_a_social_worker_of_another_sub_ambito_is_refused_the_case_page_and_the_api_resource(new_page, live_server):
    case_id = live_server["world"]["patto_crema"]
    page = log_in(new_page(), "as.verdi")
    response = page.goto(f"/casi/{case_id}")
    assert response.status == 403
    assert "Accesso negato" in page.content()
    assert "Bianchi" not in page.content()  # the person's surname never reaches the page
    api = page.request.get(f"/api/v1/casi/{case_id}")
    assert api.status == 403
    assert "Bianchi" not in api.text()
    screenshot(page, "accesso-negato")


def test_a_provider_sees_only_its_sad_cases(new_page, live_server):
    world = live_server["world"]
    page = log_in(new_page(), "ente.girasole")
    page.goto("/casi")
    links = {a.get_attribute("href") for a in page.get_by_test_id("elenco-casi").locator("a[href^='/casi/']").all()}
    assert f"/casi/{world['sad_ente01']}" in links
    assert not links & {f"/casi/{world[k]}" for k in ("sad_ente02", "patto_crema", "patto_pandino", "fna", "minore")}
    page.goto("/ente")
    portal = page.get_by_test_id("casi-ente").inner_html()
    assert str(world["sad_ente01"]) in portal and f"/{world['sad_ente02']}" not in portal
    assert page.goto(f"/casi/{world['sad_ente02']}").status == 403
    screenshot(page, "portale-ente-casi")
