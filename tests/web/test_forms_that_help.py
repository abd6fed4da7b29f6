"""Forms that help (issue 12 item 4): changing the case type keeps what was typed, an empty submit names every
missing field, the error summary links to the inputs, blank extra rows are not required and rows are named
«Obiettivo 1», format hints come from the declarations, and nothing is chosen for the worker. Each test runs on
SQLite and on PostgreSQL."""
from __future__ import annotations

import html
import re
from datetime import date

from domain.casetypes.patto.workflow import MisuraEconomica, Obiettivo, PattoFirmato
from domain.common import Persona
from domain.validation import Isee
from domain.casetypes.fna.domanda import Domanda
from services.cases import CaseService
from tests.integration.conftest import NOW
from tests.integration.patto_steps import ASSEGNA, VALUTAZIONE, open_patto, persona
from tests.web.conftest import csrf_of
from tests.web.test_case_pages import CREMA, case_count, fire, snapshot, version_of

TYPED = {"comune_istat": CREMA, "persona.cognome": "Moretti", "persona.nome": "Anna",
         "persona.codice_fiscale": persona("Moretti", "Anna", date(1975, 2, 3))["codice_fiscale"],
         "persona.data_nascita": "03/02/1975", "fonte": "caritas", "bisogno": "abitativo",
         "motivo": "segnalata dalla parrocchia"}


def text_of(response) -> str:
    return html.unescape(response.text)


def new_form(page: str) -> str:
    return re.search(r'<form[^>]*data-testid="nuova-segnalazione".*?</form>', page, re.DOTALL).group(0)


def shown(form: str, name: str) -> str | None:
    """The value a visible input, textarea or select of the form shows for `name` (None: no such input)."""
    for tag in re.findall(r'<(?:input|textarea|select)[^>]*name="' + re.escape(name) + r'"[^>]*>', form):
        if 'type="hidden"' in tag:
            continue
        if tag.startswith("<select"):
            select = re.search(re.escape(tag) + r".*?</select>", form, re.DOTALL).group(0)
            chosen = re.search(r'<option value="([^"]*)" selected', select)
            return chosen.group(1) if chosen else ""
        if tag.startswith("<textarea"):
            return html.unescape(re.search(re.escape(tag) + r"(.*?)</textarea>", form, re.DOTALL).group(1))
        value = re.search(r'value="([^"]*)"', tag)
        return html.unescape(value.group(1)) if value else ""
    return None


def hidden(form: str) -> dict[str, str]:
    return {n: html.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)}


def summary_links(page: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="alert alert-danger"[^>]*data-testid="errori".*?</div>', page, re.DOTALL).group(0)
    return [(href, html.unescape(text)) for href, text in re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', box)]


def change_type(client, tipo: str, typed: dict[str, str], previous: str, **headers):
    return client.post("/casi/nuovo", headers=headers, follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/casi/nuovo"), "tipo": tipo, "tipo_modulo": previous,
        "azione": "cambia_tipo", **typed})


# ----------------------------------------------------------------------------- changing «Tipo di caso»


def test_changing_the_type_keeps_what_fits_and_carries_the_rest_back(world, client_for, web_engine):
    client = client_for("as.rossi")
    cases = case_count(web_engine)
    page = change_type(client, "sad_caso", TYPED, "patto")
    assert page.status_code == 200
    form = new_form(text_of(page))
    assert shown(form, "tipo") == "sad_caso" and 'name="tipo_modulo" value="sad_caso"' in form
    for name in ("comune_istat", "persona.cognome", "persona.nome", "persona.codice_fiscale",
                 "persona.data_nascita", "motivo"):
        assert shown(form, name) == TYPED[name], name
    # the patto's own answers are not on the SAD form: kept as hidden inputs and listed by label, never dropped
    # the patto's own answers have no place on the SAD form (no «Area di bisogno», no «Caritas» among the SAD
    # sources): kept as hidden inputs that are never read as data, listed by label, never dropped
    assert shown(form, "bisogno") is None and shown(form, "fonte") == ""
    assert hidden(form)["conservato.bisogno"] == "abitativo" and hidden(form)["conservato.fonte"] == "caritas"
    notice = re.search(r'data-testid="dati-conservati".*?</div>', form, re.DOTALL).group(0)
    assert "Area di bisogno" in notice and "Fonte della segnalazione" in notice
    assert "Nulla è stato registrato" in notice
    # on the SAD form the worker picks a SAD source; back to the patto, its own answers are all there again
    sad = {**{n: TYPED[n] for n in TYPED if n not in ("bisogno", "fonte")}, **hidden(form),
           "fonte": "dimissione_protetta"}
    back = new_form(text_of(change_type(client, "patto", sad, "sad_caso")))
    assert shown(back, "bisogno") == "abitativo" and shown(back, "fonte") == "caritas"
    assert shown(back, "persona.cognome") == "Moretti"
    assert hidden(back)["conservato.fonte"] == "dimissione_protetta"  # and the SAD one waits for the SAD form
    assert case_count(web_engine) == cases


def test_choosing_another_type_and_pressing_register_without_javascript_records_nothing_and_keeps_the_data(
        world, client_for, web_engine):
    client = client_for("as.rossi")
    cases = case_count(web_engine)
    page = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/casi/nuovo"), "tipo": "bonus_famiglia", "tipo_modulo": "patto", **TYPED})
    assert page.status_code == 200 and case_count(web_engine) == cases
    form = new_form(text_of(page))
    assert shown(form, "tipo") == "bonus_famiglia" and shown(form, "persona.cognome") == "Moretti"
    assert hidden(form)["conservato.fonte"] == "caritas"
    # a refusal of the new type's form keeps carrying them
    refused = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/casi/nuovo"), "tipo": "bonus_famiglia", "tipo_modulo": "bonus_famiglia",
        "persona.cognome": "Moretti", **hidden(form)})
    assert refused.status_code == 422 and case_count(web_engine) == cases
    assert hidden(new_form(text_of(refused)))["conservato.bisogno"] == "abitativo"


def test_with_htmx_the_type_change_posts_the_form_and_the_address_follows_the_type(world, client_for):
    client = client_for("as.rossi")
    page = client.get("/casi/nuovo").text
    select = re.search(r'<select[^>]*id="tipo"[^>]*>', page).group(0)
    assert 'hx-post="/casi/nuovo"' in select and "cambia_tipo" in html.unescape(select)
    swapped = change_type(client, "sad_caso", TYPED, "patto", **{"HX-Request": "true"})
    assert swapped.headers["HX-Push-Url"] == "/casi/nuovo?tipo=sad_caso"
    assert shown(new_form(text_of(swapped)), "persona.nome") == "Anna"


# ----------------------------------------------------------------------------- every error at once, linked


def test_an_empty_referral_names_every_missing_field_and_each_links_to_its_input(world, client_for, web_engine):
    client = client_for("as.rossi")
    cases = case_count(web_engine)
    blank_page = client.get("/casi/nuovo", params={"tipo": "patto"}).text
    names = set(re.findall(r'name="([a-z_.]+)"', new_form(blank_page))) - {"csrf_token", "tipo", "tipo_modulo",
                                                                          "azione"}
    response = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/casi/nuovo"), "tipo": "patto", "tipo_modulo": "patto",
        **{n: "" for n in names}})
    assert response.status_code == 422 and case_count(web_engine) == cases
    page = text_of(response)
    assert "non appartiene ai comuni" not in page
    links = summary_links(page)
    expected = ["Comune di residenza", "Persona segnalata › Codice fiscale", "Persona segnalata › Cognome",
                "Persona segnalata › Nome", "Persona segnalata › Data di nascita", "Fonte della segnalazione",
                "Area di bisogno"]
    assert [text for _, text in links] == [f"«{label}»: campo obbligatorio" for label in expected]
    for anchor, _ in links:  # each link leads to an input of the page, marked invalid next to its message
        assert re.search(rf'<(input|select|textarea)[^>]*id="{anchor}"[^>]*aria-invalid="true"', page), anchor
    assert links[0][0] == "comune_istat" and links[1][0] == "persona__codice_fiscale"


def test_a_transition_form_links_its_errors_to_the_inputs_and_reports_them_with_a_bad_date(
        world, client_for, web_engine):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    response = fire(client_for("as.rossi"), case, "registra_monitoraggio",
                    {"incontro_il": "", "ore_reciprocita": "", "avanzamento": "", "efficace_il": "31/02/2026"},
                    version=version_of(web_engine, case))
    assert response.status_code == 422 and snapshot(web_engine, case) == before
    page = text_of(response)
    links = {anchor.rsplit("--", 1)[-1]: (anchor, text) for anchor, text in summary_links(page)}
    assert set(links) == {"incontro_il", "ore_reciprocita", "avanzamento", "efficace_il"}  # the bad date too
    assert links["incontro_il"][1] == "«Data dell'incontro di monitoraggio»: campo obbligatorio"
    for anchor, _ in links.values():  # ids made unique across the page's forms are the ones linked
        assert re.search(rf'<(input|textarea)[^>]*id="{anchor}"[^>]*aria-invalid="true"', page), anchor


# ----------------------------------------------------------------------------- the pact's signature form


def drafting_pact(web_engine) -> int:
    service = CaseService(web_engine, clock=lambda: NOW)
    case = open_patto(service, service.actor("as.rossi"), surname="Conti", name="Lia", birth=date(1980, 5, 6))
    service.advance(case_id=case, transition="assegna", actor=service.actor("coord.crema"),
                    data={**ASSEGNA, "assegnatario": "as.rossi"}, effective_at=date(2026, 1, 14))
    service.advance(case_id=case, transition="avvia_redazione", actor=service.actor("as.rossi"), data=VALUTAZIONE,
                    effective_at=date(2026, 1, 20))
    return case


def signature_form(page: str) -> str:
    return re.search(r'<form data-testid="transizione-attiva".*?</form>', page, re.DOTALL).group(0)


def test_the_signature_form_chooses_nothing_for_the_worker_and_explains_peso_and_canale(world, client_for,
                                                                                      web_engine):
    form = signature_form(client_for("as.rossi").get(f"/casi/{drafting_pact(web_engine)}").text)
    assert 'name="misura_economica.voci"' in form and " checked" not in form
    assert shown(form, "canale") == ""
    assert "Obiettivo 1" in form and "Impegno di reciprocità 1" in form and " n. 1" not in form
    for info in (Obiettivo.model_fields["peso"], PattoFirmato.model_fields["canale"]):
        assert info.description in html.unescape(form)
    assert MisuraEconomica.model_fields["voci"].is_required() and PattoFirmato.model_fields["canale"].is_required()


def test_only_the_rows_the_declaration_requires_are_marked_required_and_a_blank_extra_row_is_ignored(
        world, client_for, web_engine):
    case = drafting_pact(web_engine)
    worker = client_for("as.rossi")
    form = signature_form(worker.get(f"/casi/{case}").text)
    required = set(re.findall(r'name="(obiettivi\.\d+\.[a-z]+)"[^>]*aria-required="true"', form))
    assert required == {"obiettivi.0.descrizione", "obiettivi.0.indicatore", "obiettivi.0.target"}
    assert 'aria-required="true"' not in re.search(r'<template id="obiettivi-modello">.*?</template>', form,
                                                   re.DOTALL).group(0)
    # the blank optional rows are there for a page without JavaScript; casi.js drops them where it adds rows
    rows = re.search(r'<div data-righe="obiettivi".*?</template>', form, re.DOTALL).group(0)
    assert len(re.findall(r"<fieldset[^>]*>", rows.split("<template")[0])) == 3
    assert len(re.findall(r"<fieldset[^>]*data-riga-vuota", rows)) == 2
    missing_choice = fire(worker, case, "attiva", SIGNED_WITHOUT_CHANNEL, version=version_of(web_engine, case))
    assert missing_choice.status_code == 422
    assert summary_links(text_of(missing_choice)) == [
        ("canale", "«Canale (progetto Wel(l)FARE Legami o patto ulteriore)»: campo obbligatorio")]
    step = fire(worker, case, "attiva", {**SIGNED_WITHOUT_CHANNEL, "canale": "ulteriore"},
                version=version_of(web_engine, case))
    assert step.status_code == 303, text_of(step)
    assert snapshot(web_engine, case)[1] == "ACTIVE"


SIGNED_WITHOUT_CHANNEL = {
    "obiettivi.0.descrizione": "rientro dal debito", "obiettivi.0.indicatore": "bollette pagate",
    "obiettivi.0.target": "6", "obiettivi.0.peso": "1",
    "obiettivi.1.descrizione": "", "obiettivi.1.indicatore": "", "obiettivi.1.target": "", "obiettivi.1.peso": "1",
    "obiettivi.2.descrizione": " ", "obiettivi.2.indicatore": "", "obiettivi.2.target": "", "obiettivi.2.peso": "",
    "impegni_reciprocita.0.attivita": "doposcuola", "impegni_reciprocita.0.ente_ospitante": "Parrocchia",
    "impegni_reciprocita.0.ore_settimanali": "4", "impegni_reciprocita.1.attivita": "",
    "misura_economica.tipo": "mensile", "misura_economica.importo": "400", "misura_economica.mensilita": "6",
    "misura_economica.voci": "utenze",
    "data_inizio": "01/02/2026", "data_fine": "31/07/2026", "firmato_il": "02/02/2026",
    "firmatari": "Lia Conti", "firma_assistente_sociale": "on", "informativa_privacy": "on",
    "efficace_il": "02/02/2026",
}


# ----------------------------------------------------------------------------- format hints from the declarations


def hint_of(page: str, input_id: str) -> str:
    match = re.search(rf'<small[^>]*id="{re.escape(input_id)}-aiuto">(.*?)</small>', page, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def test_codice_fiscale_iban_and_dsu_protocol_show_the_format_their_declaration_gives(world, client_for, web_engine):
    referral = client_for("as.rossi").get("/casi/nuovo", params={"tipo": "patto"}).text
    assert hint_of(referral, "persona__codice_fiscale") == Persona.model_fields["codice_fiscale"].description
    assert 'aria-describedby="persona__codice_fiscale-aiuto"' in referral
    application = client_for("csc.bianchi").get("/casi/nuovo", params={"tipo": "fna_domanda"}).text
    assert hint_of(application, "iban") == Domanda.model_fields["iban"].description
    assert "IT" in hint_of(application, "iban") and "27" in hint_of(application, "iban")
    assert hint_of(application, "isee__protocollo") == Isee.model_fields["protocollo"].description
    assert "INPS-ISEE-" in hint_of(application, "isee__protocollo")
