"""Case pages: the scoped list and search, the case page with only the transitions a user may fire, forms
generated from the declarations (Italian errors, nothing written when refused), the new referral and a
whole patto driven through the web forms. Each test runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from domain.registry import all_workflows
from domain.casetypes.patto.workflow import PattoFirmato, Segnalazione
from services.queries import case_detail
from store.tables import case_t
from tests.integration.patto_steps import persona
from tests.web.conftest import csrf_of
from web.forms import FormInput, apply_errors, build_fields, parse_form, walk

CREMA, PANDINO = "019035", "019067"


# ----------------------------------------------------------------------------- helpers


def listed(page: str) -> set[int]:
    """The case ids linked from the list table."""
    match = re.search(r'<table[^>]*data-testid="elenco-casi".*?</table>', page, re.DOTALL)
    return {int(i) for i in re.findall(r'href="/casi/(\d+)"', match.group(0))} if match else set()


def forms_on(page: str) -> set[str]:
    return set(re.findall(r'data-testid="transizione-([a-z_]+)"', page))


def text_of(response) -> str:
    return html.unescape(response.text)


def state_label(page: str) -> str:
    return re.search(r'data-testid="stato">([^<]+)<', page).group(1)


def snapshot(engine, case_id: int) -> tuple[int, str, int]:
    d = case_detail(engine, case_id, today=date(2026, 11, 20))
    return d["versione"], d["stato"], len(d["storia"])


def version_of(engine, case_id: int) -> int:
    return snapshot(engine, case_id)[0]


def fire(client, case_id: int, name: str, data: dict, *, version: int | None = None, **kwargs):
    token = csrf_of(client, f"/casi/{case_id}")
    form = {"csrf_token": token, **data}
    if version is not None:
        form["expected_version"] = str(version)
    return client.post(f"/casi/{case_id}/transizioni/{name}", data=form, follow_redirects=False, **kwargs)


def case_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar()


# ----------------------------------------------------------------------------- the list


def test_the_list_shows_each_user_only_the_cases_in_their_scope(world, client_for):
    rossi = listed(client_for("as.rossi").get("/casi").text)
    assert world["patto_crema"] in rossi and world["patto_pandino"] not in rossi

    coordinator = listed(client_for("coord.crema").get("/casi").text)
    crema_cases = {world[k] for k in ("patto_crema", "sad_ente01", "sad_ente02", "fna", "minore")}
    assert crema_cases <= coordinator
    assert world["patto_pandino"] not in coordinator

    provider = listed(client_for("ente.girasole").get("/casi").text)
    personal = provider - {world["adesione01"]}  # its own adhesion is a district record it may read
    assert personal == {world["sad_ente01"]}


def test_the_list_filters_by_type_state_and_overdue(world, client_for):
    client = client_for("coord.crema")
    assert listed(client.get("/casi", params={"tipo": "sad_caso"}).text) == {world["sad_ente01"], world["sad_ente02"]}
    assert listed(client.get("/casi", params={"tipo": "sad_caso", "stato": "VOUCHER_ISSUED"}).text) == {
        world["sad_ente01"]}
    overdue = listed(client.get("/casi", params={"in_ritardo": "1"}).text)
    assert world["patto_crema"] in overdue  # its monitoring was due on 04/03/2026
    assert world["sad_ente02"] not in overdue
    page = client.get("/casi", params={"tipo": "patto"}).text
    assert "badge-scadenza-ritardo" in page


def test_search_finds_by_codice_fiscale_and_surname_only_within_scope(world, client_for):
    rossi = client_for("as.rossi")
    cf_bianchi = persona()["codice_fiscale"]
    cf_riva = persona("Riva", "Marco")["codice_fiscale"]
    assert listed(rossi.get("/casi", params={"q": cf_bianchi}).text) == {world["patto_crema"]}
    assert listed(rossi.get("/casi", params={"q": "bianchi"}).text) == {world["patto_crema"]}
    # Riva's pact is in Pandino: as.rossi cannot find it by surname or code, as.verdi can
    assert listed(rossi.get("/casi", params={"q": "Riva"}).text) == set()
    assert listed(rossi.get("/casi", params={"q": cf_riva}).text) == set()
    assert listed(client_for("as.verdi").get("/casi", params={"q": "riva marco"}).text) == {world["patto_pandino"]}


def test_the_coordinator_sees_the_cases_waiting_for_assignment(world, client_for, web_engine):
    from services.cases import CaseService
    from tests.integration.conftest import NOW

    service = CaseService(web_engine, clock=lambda: NOW)
    new = service.open_case(case_type="patto", actor=service.actor("as.rossi"), comune_istat=CREMA,
                            data={"persona": persona("Moretti", "Anna", date(1975, 2, 3)), "fonte": "comune",
                                  "bisogno": "abitativo"})
    page = client_for("coord.crema").get("/casi").text
    queue = re.search(r'data-testid="da-assegnare".*?</table>', page, re.DOTALL).group(0)
    assert f'href="/casi/{new}"' in queue and f'href="/casi/{world["patto_crema"]}"' not in queue
    assert 'data-testid="da-assegnare"' not in client_for("as.rossi").get("/casi").text


# ----------------------------------------------------------------------------- the case page


def test_the_case_page_offers_only_the_transitions_allowed_to_the_user_now(world, client_for):
    case = world["patto_crema"]
    owner = client_for("as.rossi").get(f"/casi/{case}")
    assert owner.status_code == 200
    assert f"Caso n. {case}" in re.search(r"<h1[^>]*>(.*?)</h1>", owner.text, re.DOTALL).group(1)
    assert state_label(owner.text) == "Attivo"
    assert forms_on(owner.text) == {"registra_monitoraggio", "aggiorna_isee", "sospendi", "rinuncia",
                                    "avvia_verifica"}
    assert "BNCLCU80E04D142Z" in owner.text  # the owner sees who the person is
    assert len(re.findall(r"<li>", re.search(r'<ol data-testid="storia".*?</ol>', owner.text, re.DOTALL).group(0))) == 4

    assert forms_on(client_for("coord.crema").get(f"/casi/{case}").text) == {"interrompi"}
    colleague = client_for("as.bruni").get(f"/casi/{case}")  # may read (same comuni), may not act
    assert colleague.status_code == 200 and forms_on(colleague.text) == set()


def test_each_form_is_generated_from_the_declared_data_with_labels_and_dotted_names(world, client_for):
    page = client_for("as.rossi").get(f"/casi/{world['patto_crema']}").text
    form = re.search(r'<form data-testid="transizione-aggiorna_isee".*?</form>', page, re.DOTALL).group(0)
    assert 'id="isee__valore" name="isee.valore"' in form
    assert '<label class="form-label fw-semibold" for="isee__valore">Valore ISEE (€)' in form
    assert 'name="isee.tipo"' in form and '<option value="sociosanitario">Sociosanitario</option>' in form
    assert f'name="expected_version" value="{4}"' in form
    assert re.search(r'<button type="submit" class="btn btn-primary">Rinnovo dell&#39;ISEE</button>', form)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every id on the page is unique"


def test_a_social_worker_of_another_sub_ambito_is_refused_with_the_reason(world, client_for, web_engine):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    verdi = client_for("as.verdi")
    page = verdi.get(f"/casi/{case}")
    assert page.status_code == 403
    assert "il caso non appartiene ai comuni del suo sub-ambito" in text_of(page)
    token = csrf_of(verdi, f"/casi/{world['patto_pandino']}")  # a token from a page it may see
    response = verdi.post(f"/casi/{case}/transizioni/registra_monitoraggio", follow_redirects=False, data={
        "csrf_token": token, "incontro_il": "02/03/2026", "ore_reciprocita": "4", "avanzamento": "regolare"})
    assert response.status_code == 403
    assert snapshot(web_engine, case) == before


def test_a_form_with_missing_data_shows_italian_errors_by_field_and_writes_nothing(world, client_for, web_engine):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    client = client_for("as.rossi")
    response = fire(client, case, "registra_monitoraggio", {"avanzamento": "ok regolare"}, version=before[0])
    assert response.status_code == 422
    page = text_of(response)
    summary = re.search(r'<div class="alert alert-danger" role="alert" data-testid="errori".*?</div>', page, re.DOTALL)
    assert summary is not None
    assert "«Data dell'incontro di monitoraggio»: campo obbligatorio" in summary.group(0)
    assert "«Ore di reciprocità svolte nel periodo»: campo obbligatorio" in summary.group(0)
    assert re.search(r'id="incontro_il"[^>]*aria-invalid="true"', page)
    assert '<div class="invalid-feedback d-block" id="incontro_il-errore">campo obbligatorio</div>' in page
    assert 'value="ok regolare"' in page or ">ok regolare</textarea>" in page  # what was typed is kept
    assert re.search(r'<details[^>]*data-testid="azione-registra_monitoraggio" open>', page)  # unfolded
    assert not re.search(r'<details[^>]*data-testid="azione-sospendi" open>', page)  # the others stay folded
    assert snapshot(web_engine, case) == before


def test_with_htmx_the_refused_form_comes_back_alone_with_its_errors(world, client_for, web_engine):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    client = client_for("as.rossi")
    response = fire(client, case, "registra_monitoraggio",
                    {"incontro_il": "01/12/2026", "ore_reciprocita": "4,5", "avanzamento": "regolare"},
                    version=before[0], headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form data-testid="transizione-registra_monitoraggio"')
    assert "<html" not in response.text
    # the meeting lies after the step's date (today): a guard refuses, named in the summary
    assert "è successiva alla data del passo" in text_of(response)
    assert snapshot(web_engine, case) == before


def test_a_wrong_effective_date_is_shown_next_to_its_input(world, client_for, web_engine):
    case = world["patto_crema"]
    before = snapshot(web_engine, case)
    response = fire(client_for("as.rossi"), case, "sospendi", {"motivo": "ricovero", "efficace_il": "31/02/2026"},
                    version=before[0])
    assert response.status_code == 422
    assert re.search(r'<div class="invalid-feedback d-block" id="[a-z_-]*efficace_il-errore">data non valida',
                     response.text)
    assert snapshot(web_engine, case) == before


def test_a_step_recorded_meanwhile_by_someone_else_is_a_conflict(world, client_for, web_engine):
    case = world["patto_crema"]
    client = client_for("as.rossi")
    stale = version_of(web_engine, case)
    ok = fire(client, case, "registra_monitoraggio",
              {"incontro_il": "02/03/2026", "ore_reciprocita": "4", "avanzamento": "regolare"}, version=stale)
    assert ok.status_code == 303
    after = snapshot(web_engine, case)
    again = fire(client, case, "registra_monitoraggio",
                 {"incontro_il": "02/03/2026", "ore_reciprocita": "4", "avanzamento": "regolare"}, version=stale)
    assert again.status_code == 409
    assert "modificato da un altro utente" in text_of(again)
    assert snapshot(web_engine, case) == after


def test_a_forged_post_without_the_csrf_token_is_refused(world, client_for, web_engine):
    case = world["patto_crema"]
    before, cases = snapshot(web_engine, case), case_count(web_engine)
    client = client_for("as.rossi")
    forged = client.post(f"/casi/{case}/transizioni/sospendi", data={"motivo": "ricovero"}, follow_redirects=False)
    assert forged.status_code == 403
    assert "token CSRF" in text_of(forged)
    opened = client.post("/casi/nuovo", data={"tipo": "patto", "tipo_modulo": "patto", "comune_istat": CREMA},
                         follow_redirects=False)
    assert opened.status_code == 403
    assert snapshot(web_engine, case) == before and case_count(web_engine) == cases


def test_a_minors_case_is_hidden_from_a_colleague(world, client_for):
    minor = world["minore"]
    colleague = client_for("as.bruni")
    assert minor not in listed(colleague.get("/casi").text)
    assert listed(colleague.get("/casi", params={"q": "Galli"}).text) == set()
    page = colleague.get(f"/casi/{minor}")
    assert page.status_code == 403 and "caso di un minore" in text_of(page)
    assert minor in listed(client_for("coord.crema").get("/casi", params={"q": "Galli"}).text)
    assert client_for("as.rossi").get(f"/casi/{minor}").status_code == 200


def test_the_provider_sees_its_sad_case_and_its_own_step(world, client_for):
    client = client_for("ente.girasole")
    page = client.get(f"/casi/{world['sad_ente01']}")
    assert page.status_code == 200 and forms_on(page.text) == {"prima_visita"}
    assert 'name="visita.servizi" value="igiene_personale"' in page.text
    assert client.get(f"/casi/{world['sad_ente02']}").status_code == 403


# ----------------------------------------------------------------------------- new referral and a whole patto


def test_the_new_referral_form_offers_the_users_types_and_comuni(world, client_for):
    page = client_for("as.rossi").get("/casi/nuovo").text
    form = re.search(r'<form[^>]*data-testid="nuova-segnalazione".*?</form>', page, re.DOTALL).group(0)
    tipi = re.search(r'<select[^>]*name="tipo".*?</select>', form, re.DOTALL).group(0)
    assert set(re.findall(r'<option value="([a-z_]+)"', tipi)) == {"patto", "sad_caso", "bonus_famiglia",
                                                                  "misura_esterna"}
    comuni = re.search(r'<select[^>]*name="comune_istat".*?</select>', form, re.DOTALL).group(0)
    assert CREMA in comuni and PANDINO not in comuni
    assert 'name="persona.codice_fiscale"' in form
    sad = client_for("as.rossi").get("/casi/nuovo", params={"tipo": "sad_caso"}).text
    assert 'name="urgente"' in sad and 'name="bisogno"' not in sad


def test_who_opens_what_follows_the_declarations(world, client_for):
    csc = client_for("csc.bianchi").get("/casi/nuovo", params={"tipo": "fna_domanda"}).text
    tipi = re.search(r'<select[^>]*name="tipo".*?</select>', csc, re.DOTALL).group(0)
    assert set(re.findall(r'<option value="([a-z_]+)"', tipi)) == {"patto", "fna_domanda", "bonus_famiglia",
                                                                  "misura_esterna"}
    calls = re.search(r'<select[^>]*name="caso_collegato".*?</select>', csc, re.DOTALL).group(0)
    assert f'<option value="{world["bando"]}">' in calls  # the open FNA call
    assert PANDINO in csc  # the CSC works for the whole district
    coordinator = client_for("coord.crema").get("/casi/nuovo")  # no dead end: refused, saying who opens them
    assert coordinator.status_code == 403 and 'data-testid="nuova-segnalazione"' not in coordinator.text
    assert "non apre nuove segnalazioni (le apre: amministrativo CSC, assistente sociale)" in text_of(coordinator)


def test_a_referral_outside_the_users_comuni_is_refused_and_nothing_is_opened(world, client_for, web_engine):
    client = client_for("as.rossi")
    cases = case_count(web_engine)
    token = csrf_of(client, "/casi/nuovo")
    p = persona("Moretti", "Anna", date(1975, 2, 3))
    response = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": token, "tipo": "patto", "tipo_modulo": "patto", "comune_istat": PANDINO,
        **{f"persona.{k}": v for k, v in p.items()}, "fonte": "comune", "bisogno": "abitativo"})
    assert response.status_code == 403
    assert "il caso non appartiene ai comuni del suo sub-ambito" in text_of(response)
    missing = client.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": token, "tipo": "patto", "tipo_modulo": "patto", "comune_istat": CREMA, "fonte": "comune"})
    assert missing.status_code == 422
    assert "«Persona segnalata»: campo obbligatorio" in text_of(missing)
    assert "«Area di bisogno»: campo obbligatorio" in text_of(missing)
    assert case_count(web_engine) == cases


def test_a_whole_patto_through_the_web_forms(world, client_for, web_engine):
    worker, coordinator = client_for("as.rossi"), client_for("coord.crema")
    p = persona("Moretti", "Anna", date(1975, 2, 3))
    token = csrf_of(worker, "/casi/nuovo")
    opened = worker.post("/casi/nuovo", follow_redirects=False, data={
        "csrf_token": token, "tipo": "patto", "tipo_modulo": "patto", "comune_istat": CREMA,
        **{f"persona.{k}": v for k, v in p.items()}, "persona.data_nascita": "03/02/1975",
        "fonte": "centro_impiego", "bisogno": "lavorativo", "note": "", "efficace_il": "12/01/2026"})
    assert opened.status_code == 303, text_of(opened)
    case = int(re.fullmatch(r"/casi/(\d+)\?eseguita=segnala", opened.headers["location"]).group(1))
    page = worker.get(f"/casi/{case}").text
    assert state_label(page) == "Segnalato" and forms_on(page) == {"archivia"}

    # the coordinator assigns, choosing among the sub-ambito's social workers
    page = coordinator.get(f"/casi/{case}").text
    select = re.search(r'<select[^>]*name="assegnatario".*?</select>', page, re.DOTALL).group(0)
    assert set(re.findall(r'<option value="([a-z.]+)"', select)) == {"as.rossi", "as.bruni"}
    step = fire(coordinator, case, "assegna", {"assegnatario": "as.rossi", "primo_colloquio_il": "14/01/2026",
                                               "efficace_il": "14/01/2026"}, version=version_of(web_engine, case))
    assert step.status_code == 303 and step.headers["location"] == f"/casi/{case}?eseguita=assegna"

    step = fire(worker, case, "avvia_redazione", {
        "tipologia": "inclusione", "bisogni": "ricerca di lavoro", "risorse": "rete familiare",
        "componenti_nucleo": "2", "isee.tipo": "ordinario", "isee.valore": "6.500,00",
        "isee.data_dsu": "10/01/2026", "isee.protocollo": "INPS-ISEE-2026-ABCDE1234-00",
        "efficace_il": "20/01/2026"}, version=version_of(web_engine, case))
    assert step.status_code == 303, text_of(step)

    signed = {
        "canale": "progetto",
        "obiettivi.0.descrizione": "rientro dal debito", "obiettivi.0.indicatore": "bollette pagate",
        "obiettivi.0.target": "6", "obiettivi.0.peso": "2",
        "obiettivi.1.descrizione": "ricerca di lavoro", "obiettivi.1.indicatore": "colloqui svolti",
        "obiettivi.1.target": "4", "obiettivi.1.peso": "1",
        "obiettivi.2.descrizione": "", "obiettivi.2.indicatore": "", "obiettivi.2.target": "", "obiettivi.2.peso": "1",
        "impegni_reciprocita.0.attivita": "doposcuola", "impegni_reciprocita.0.ente_ospitante": "Parrocchia",
        "impegni_reciprocita.0.ore_settimanali": "4",
        "misura_economica.tipo": "mensile", "misura_economica.importo": "400",
        "misura_economica.mensilita": "6", "misura_economica.voci": "sostegno_reddito",
        "data_inizio": "01/02/2026", "data_fine": "31/07/2026", "firmato_il": "02/02/2026",
        "firmatari": "Anna Moretti\n", "firma_assistente_sociale": "on",
        "efficace_il": "02/02/2026",
    }
    unsigned = fire(worker, case, "attiva", {**signed, "firma_assistente_sociale": ""}, version=version_of(web_engine, case))
    assert unsigned.status_code == 422
    assert "«Informativa privacy presa visione»: campo obbligatorio" in text_of(unsigned)
    assert "«Firma dell'assistente sociale»: campo obbligatorio" in text_of(unsigned)
    step = fire(worker, case, "attiva", {**signed, "informativa_privacy": "on"}, version=version_of(web_engine, case))
    assert step.status_code == 303, text_of(step)
    page = worker.get(f"/casi/{case}").text
    assert state_label(page) == "Attivo"
    objectives = re.search(r"<caption[^>]*>Obiettivi \((\d+)\)</caption>", html.unescape(page))
    assert objectives and objectives.group(1) == "2"  # one table of two rows: the blank row was not recorded

    step = fire(worker, case, "registra_monitoraggio", {"incontro_il": "02/03/2026", "ore_reciprocita": "16",
                                                        "avanzamento": "regolare", "importo_erogato": "400",
                                                        "efficace_il": "02/03/2026"},
                version=version_of(web_engine, case), headers={"HX-Request": "true"})
    assert step.status_code == 200 and step.headers["HX-Redirect"] == f"/casi/{case}?eseguita=registra_monitoraggio"

    step = fire(worker, case, "avvia_verifica", {"efficace_il": "31/07/2026"}, version=version_of(web_engine, case))
    assert step.status_code == 303, text_of(step)
    step = fire(worker, case, "chiudi", {"raggiungimento": "1\n0,5", "relazione": "obiettivi in gran parte raggiunti"},
                version=version_of(web_engine, case))
    assert step.status_code == 303, text_of(step)

    page = worker.get(f"/casi/{case}")
    assert state_label(page.text) == "Concluso" and forms_on(page.text) == set()
    timeline = re.search(r'<ol data-testid="storia".*?</ol>', page.text, re.DOTALL).group(0)
    assert len(re.findall(r"<li>", timeline)) == 7
    assert "14/01/2026" in timeline and "Coord Crema" in timeline  # people by name, not username
    assert "coord.crema" not in timeline and "as.rossi" not in timeline
    detail = case_detail(web_engine, case, today=date(2026, 11, 20))
    assert detail["stato"] == "CLOSED" and detail["assegnatario"] == "as.rossi"
    assert detail["dati"]["isee"]["valore"] == "6500.00"
    assert detail["dati"]["raggiungimento"] == ["1", "0.5"]


# ----------------------------------------------------------------------------- the form generator itself


def test_generated_fields_round_trip_through_the_model():
    fields = build_fields(PattoFirmato)
    kinds = {f.name: f.kind for f in walk(fields)}
    assert kinds["obiettivi"] == "rows" and kinds["obiettivi.0.peso"] == "number"
    assert kinds["misura_economica"] == "fieldset" and kinds["misura_economica.tipo"] == "select"
    assert kinds["misura_economica.voci"] == "checks" and kinds["firmatari"] == "lines"
    assert kinds["firma_assistente_sociale"] == "checkbox" and kinds["data_inizio"] == "date"
    data = parse_form(PattoFirmato, FormInput({
        "obiettivi.0.descrizione": "a b c", "obiettivi.0.indicatore": "xy", "obiettivi.0.target": "1",
        "obiettivi.0.peso": "1,5", "obiettivi.1.descrizione": " ", "obiettivi.1.peso": "1",
        "misura_economica.importo": "1.234,50", "firmatari": "Uno\n\nDue", "firma_assistente_sociale": "on",
    }))
    assert data["obiettivi"] == [{"descrizione": "a b c", "indicatore": "xy", "target": "1", "peso": "1.5"}]
    assert data["misura_economica"] == {"importo": "1234.50"}
    assert data["firmatari"] == ["Uno", "Due"] and data["firma_assistente_sociale"] is True
    assert "informativa_privacy" not in data  # unticked: the model says it is required


def test_errors_attach_to_the_nearest_input():
    from domain.validation import FieldError

    fields = build_fields(Segnalazione)
    left = apply_errors(fields, [FieldError("persona.cognome", "Persona › Cognome", "campo obbligatorio"),
                                 FieldError("persona", "Persona", "data di nascita errata"),
                                 FieldError("", "Segnalazione", "incoerente")])
    by_name = {f.name: f for f in walk(fields)}
    assert by_name["persona.cognome"].error == "campo obbligatorio"
    assert by_name["persona"].error == "data di nascita errata"
    assert [e.message for e in left] == ["incoerente"]


@pytest.mark.parametrize("wf", all_workflows(), ids=lambda wf: wf.case_type)
def test_no_declared_field_collides_with_the_forms_own_inputs(wf):
    own = {"csrf_token", "expected_version", "motivo", "efficace_il"}
    opening = {"tipo", "tipo_modulo", "azione", "comune_istat", "tipologia", "caso_collegato"}
    for t in wf.transitions:
        names = set(t.data.model_fields) if t.data is not None else set()
        assert not names & own, (t.name, names & own)
        if t.opening:
            assert not names & opening, (t.name, names & opening)


def test_the_case_list_puts_people_s_cases_first_most_urgent_deadline_first(world, client_for):
    import re as _re

    page = client_for("coord.crema").get("/casi?limit=500").text
    table = page.split('data-testid="elenco-casi"')[1]
    order = [int(n) for n in _re.findall(r'href="/casi/(\d+)"', table)]
    district = {world["bando"], world["adesione01"], world["adesione02"]} & set(order)
    people = [i for i in order if i not in district]
    assert people and order[: len(people)] == people  # the district-level cases (calls, adhesions) come last
    dues = _re.findall(r"(\d\d/\d\d/\d\d\d\d)", table.split(f'href="/casi/{people[-1]}"')[0])
    days = [d[6:] + d[3:5] + d[:2] for d in dues]
    assert days == sorted(days)
