"""The Italian e-mail templates: both parts, dd/mm/yyyy dates, euro amounts, absolute links, strictness."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from notifications import render as render_module
from notifications.render import ENV, UnknownTemplate, template_names, data_it, euro, ora_it, render

BASE = "https://legami.example.org/"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def item(categoria: str, **over) -> dict:
    base = {"categoria": categoria, "caso_id": 17, "tipo_caso": "Patto gener-attivo", "etichetta": "Firma del patto",
            "scadenza": "2026-11-25", "giorni": 5, "comune": "Crema", "fonte": "configured", "persona": "B. L.",
            "link": "/casi/17", "promemoria_precedenti": []}
    return base | over


DIGEST = {
    "destinatario": {"username": "coord.crema", "nome": "Carla Crema", "ruolo": "subarea_coordinator"},
    "giorno": "2026-11-20",
    "voci": [
        item("scadenza"),
        item("escalation", caso_id=21, etichetta="Verifica finale", scadenza="2026-11-16", giorni=-4,
             fonte="statutory", persona="C. M.", link="/casi/21",
             promemoria_precedenti=[{"destinatario": "as.rossi", "il": "2026-11-15"},
                                    {"destinatario": "coord.crema", "il": "2026-11-17"}]),
        item("scaduta", caso_id=9, tipo_caso="SAD sperimentazione", etichetta="Prima visita", scadenza="2026-11-18",
             giorni=-2, comune="Pandino", persona="D. N.", link="/casi/9"),
        item("obbligo", caso_id=None, tipo_caso=None, etichetta="Rendicontazione regionale FNA",
             scadenza="2027-01-31", giorni=72, comune=None, fonte="statutory", persona=None, link="/obblighi/fna"),
    ],
}
CASE = {"case_id": 42, "case_type": "sad_caso", "transizione": "Scelta dell'ente",
        "efficace_il": "2026-11-19T23:30:00+00:00", "ente": "ENTE01"}  # 00:30 on the 20th in Rome
PAYLOADS = {
    "digest": DIGEST,
    "obbligo_promemoria": item("obbligo", caso_id=None, tipo_caso=None, etichetta="Rendicontazione regionale FNA",
                               scadenza="2027-01-31", giorni=72, comune=None, persona=None, link="/obblighi/fna"),
    "caso_assegnato": {**CASE, "case_type": "patto", "transizione": "Assegnazione e primo colloquio",
                       "assegnatario": "as.rossi"},
    "bonus_colloquio_assegnato": {**CASE, "case_type": "bonus_famiglia", "transizione": "Richiesta di colloquio",
                                  "assegnatario": "as.rossi"},
    "audit_checkpoint": {"scritto_il": "2026-11-20T06:00:00+00:00", "catene": 812, "radice": "ab" * 32,
                         "firma": "cd" * 32},
    "sad_invito_adesione": {**CASE, "case_type": "sad_adesione", "transizione": "Invito all'adesione"},
    "caso_riassegnato": {"case_id": 42, "case_type": "patto", "da_nome": "Anna Rossi", "a_nome": "Bruna Bruni",
                         "coordinatore_nome": "Carla Crema", "efficace_il": "2026-11-19T23:30:00+00:00",
                         "ceduto": False, "destinatario_nome": "Bruna Bruni"},
    "caso_trasferito": {"case_id": 42, "case_type": "patto", "comune_da": "Crema", "comune_a": "Pandino",
                        "sub_ambito_da": "Crema", "sub_ambito_a": "Pandino", "autore_nome": "Carla Crema",
                        "efficace_il": "2026-11-19T23:30:00+00:00", "ceduto": False,
                        "destinatario_nome": "Paolo Pandino"},
    "sostituto_nominato": {"assegnatario_nome": "Anna Rossi", "sostituto_nome": "Bruna Bruni",
                           "coordinatore_nome": "Carla Crema", "dal": "2026-11-23", "al": "2026-12-04",
                           "destinatario_nome": "Bruna Bruni"},
    "sad_ente_scegli_ente": CASE,
    "sad_ente_cambia_ente": {**CASE, "transizione": "Cambio ente (voucher chiuso a fine mese)"},
    "sad_ente_emetti_voucher": {**CASE, "transizione": "Emissione del voucher",
                                "voucher": {"ore_mensili": "20", "tariffa_oraria": "21.5",
                                            "quota_utente": "1234.5", "valido_dal": "2026-12-01",
                                            "valido_al": "2027-05-31"}},
}


def test_every_template_has_an_example_payload_here():
    assert set(PAYLOADS) == set(template_names())


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_template_renders_an_italian_subject_text_and_html_with_italian_dates_and_absolute_links(name):
    mail = render(name, PAYLOADS[name], base_url=BASE)

    assert mail.subject.startswith("Legami – ") and "\n" not in mail.subject
    assert mail.html.startswith("<!DOCTYPE html>") and '<html lang="it">' in mail.html
    for part in (mail.subject, mail.text, mail.html):
        assert not ISO_DATE.search(part), f"ISO date left in {name}"
    for part in (mail.text, mail.html):
        assert "Messaggio inviato automaticamente" in part
        assert re.search(r"\b\d{2}/\d{2}/\d{4}\b", part)
        assert "https://legami.example.org/" in part and "example.org//" not in part
    assert 'href="/' not in mail.html  # no relative links in e-mail


def test_case_templates_give_the_case_link_and_the_effective_date_in_rome():
    mail = render("sad_ente_scegli_ente", CASE, base_url=BASE)
    assert "https://legami.example.org/casi/42" in mail.text
    assert "20/11/2026" in mail.text  # 23:30 UTC on the 19th is the 20th in Rome
    assert "SAD sperimentazione" in mail.text  # case type shown by its label
    assert mail.subject == "Legami – SAD: il vostro ente è stato scelto (caso n. 42)"


def test_the_voucher_mail_formats_amounts_in_euro_the_italian_way():
    mail = render("sad_ente_emetti_voucher", PAYLOADS["sad_ente_emetti_voucher"], base_url=BASE)
    for part in (mail.text, mail.html):
        assert "€ 21,50" in part and "€ 1.234,50" in part
        assert "dal 01/12/2026 al 31/05/2027" in part


def test_the_voucher_mail_works_without_voucher_details_too():
    mail = render("sad_ente_emetti_voucher", CASE, base_url=BASE)
    assert "voucher" in mail.text and "€" not in mail.text


def test_the_digest_subject_counts_the_items_at_the_day():
    assert render("digest", DIGEST, base_url=BASE).subject == "Legami – 4 scadenze al 20/11/2026"
    one = {**DIGEST, "voci": DIGEST["voci"][:1]}
    assert render("digest", one, base_url=BASE).subject == "Legami – 1 scadenza al 20/11/2026"
    none = {**DIGEST, "voci": []}
    mail = render("digest", none, base_url=BASE)
    assert mail.subject == "Legami – nessuna scadenza al 20/11/2026"
    assert "Non ci sono scadenze da segnalare." in mail.text


def test_the_digest_groups_items_by_category_in_a_fixed_order():
    mail = render("digest", DIGEST, base_url=BASE)
    text = mail.text
    order = [text.index(h) for h in ("SCADUTE (1)", "IN SCADENZA (1)", "SOLLECITI PER SCADENZE SUPERATE DI ALTRI (1)",
                                      "OBBLIGHI DEL DISTRETTO (1)")]
    assert order == sorted(order)
    assert text.index("Prima visita") < text.index("IN SCADENZA") < text.index("Firma del patto")
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", mail.html)
    assert headings == ["Scadute (1)", "In scadenza (1)", "Solleciti per scadenze superate di altri (1)",
                        "Obblighi del distretto (1)"]


def test_the_digest_shows_dates_days_sources_and_absolute_links_per_item():
    text = render("digest", DIGEST, base_url=BASE).text
    assert "Firma del patto – Patto gener-attivo n. 17" in text
    assert "B. L., Crema" in text
    assert "Scadenza 25/11/2026 (tra 5 giorni), termine del distretto" in text
    assert "Scadenza 18/11/2026 (scaduta da 2 giorni)" in text
    assert "Scadenza 31/01/2027 (tra 72 giorni), termine di legge" in text
    assert "https://legami.example.org/casi/9" in text and "https://legami.example.org/obblighi/fna" in text
    assert "Rendicontazione regionale FNA\n" in text  # an obligation has no case number


def test_the_digest_says_who_was_reminded_and_when_for_each_escalation():
    mail = render("digest", DIGEST, base_url=BASE)
    for part in (mail.text, mail.html):
        assert "sollecitato as.rossi il 15/11/2026" in part
        assert "sollecitato coord.crema il 17/11/2026" in part
    lonely = {**DIGEST, "voci": [item("escalation")]}
    assert "nessun sollecito precedente" in render("digest", lonely, base_url=BASE).text


def test_html_escapes_payload_text_and_text_part_does_not():
    payload = {**DIGEST, "voci": [item("scadenza", etichetta="Verifica <urgente> & firma")]}
    mail = render("digest", payload, base_url=BASE)
    assert "Verifica &lt;urgente&gt; &amp; firma" in mail.html
    assert "Verifica <urgente> & firma" in mail.text


def test_a_missing_field_is_an_error_not_an_empty_string():
    broken = {k: v for k, v in DIGEST.items() if k != "giorno"}
    with pytest.raises(UndefinedError, match="giorno"):
        render("digest", broken, base_url=BASE)
    no_label = {**DIGEST, "voci": [{k: v for k, v in item("scadenza").items() if k != "etichetta"}]}
    with pytest.raises(UndefinedError, match="etichetta"):
        render("digest", no_label, base_url=BASE)
    with pytest.raises(UndefinedError, match="ente"):
        render("sad_ente_scegli_ente", {k: v for k, v in CASE.items() if k != "ente"}, base_url=BASE)


def test_an_unknown_template_is_a_clear_error_naming_the_available_ones():
    with pytest.raises(UnknownTemplate, match="«inesistente» sconosciuto.*digest"):
        render("inesistente", {}, base_url=BASE)
    with pytest.raises(UnknownTemplate):
        render("_layout", {}, base_url=BASE)


def test_one_environment_compiles_each_template_once():
    render("digest", DIGEST, base_url=BASE)
    compiled = ENV.get_template("digest.txt")
    render("digest", DIGEST, base_url="http://altro")
    assert ENV.get_template("digest.txt") is compiled
    assert render_module.ENV is ENV and ENV.auto_reload is False


@pytest.mark.parametrize("value, expected", [
    ("2026-11-05", "05/11/2026"), (date(2027, 1, 31), "31/01/2027"),
    ("2026-06-30T22:30:00+00:00", "01/07/2026"),  # already the 1st in Rome (CEST)
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), "01/01/2027"), (None, ""),
])
def test_data_it_gives_day_month_year(value, expected):
    assert data_it(value) == expected


@pytest.mark.parametrize("value, expected", [
    ("2026-11-20T08:05:00+00:00", "20/11/2026 09:05"),  # CET
    ("2026-07-01T08:05:00Z", "01/07/2026 10:05"),  # CEST
    (datetime(2026, 11, 20, 8, 5), "20/11/2026 09:05"),  # naive = UTC, as stored
])
def test_ora_it_gives_rome_time(value, expected):
    assert ora_it(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1234.5, "€ 1.234,50"), ("0.005", "€ 0,01"), (Decimal("1000000"), "€ 1.000.000,00"), (-12.3, "-€ 12,30"),
    (7, "€ 7,00"),
])
def test_euro_formats_italian_style(value, expected):
    assert euro(value) == expected


def test_provider_mails_name_the_provider_and_write_hours_the_italian_way():
    mail = render("sad_ente_emetti_voucher", {**PAYLOADS["sad_ente_emetti_voucher"], "ente_nome": "Il Girasole",
                                              "voucher": {**PAYLOADS["sad_ente_emetti_voucher"]["voucher"],
                                                          "ore_mensili": "22.5"}}, base_url=BASE)
    assert "Spettabile ente Il Girasole" in mail.text and "ENTE01" not in mail.text
    assert "Ore mensili: 22,5" in mail.text
    older = render("sad_ente_scegli_ente", CASE, base_url=BASE)  # queued before names were in the payload
    assert "Spettabile ente ENTE01" in older.text


def test_every_kind_of_message_declares_its_italian_name_in_its_subject_file():
    from notifications.render import LABEL, template_label

    undeclared = [name for name in template_names()
                  if not LABEL.search(ENV.loader.get_source(ENV, f"{name}.subject.txt")[0])]
    assert undeclared == []
    assert template_label("caso_assegnato") == "Caso assegnato"
    assert template_label("modello_ignoto") == "Modello ignoto"


def test_every_scrolling_table_wrapper_is_a_named_focusable_region():
    """A wide table scrolls inside its wrapper on a phone: the keyboard must reach it and a screen reader name it
    (axe's scrollable-region-focusable only fires where the test data happen to overflow)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    plain = [f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}"
             for path in root.rglob("*.html") for text in [path.read_text(encoding="utf-8")]
             for m in re.finditer(r'<div class="table-responsive"[^>]*>', text)
             if not all(a in m.group(0) for a in ('tabindex="0"', 'role="region"', 'aria-label="Tabella: '))]
    assert plain == []
