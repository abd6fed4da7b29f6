"""A long history on the case page (issue 12 item 3, item 7): the latest steps with their data, the older ones one
line each, the whole history with every step's data on «Storia completa» (/casi/{id}/storia, no JavaScript); and
the access facts a case page needs read once per request, never kept from one request to the next."""
from __future__ import annotations

import html
import re
from datetime import date

import sqlalchemy as sa

from services.cases import CaseService
from services.request_memo import once_per_request, remembered
from tests.integration.conftest import NOW
from web.case_view import FULL_STEPS, OPEN_STEPS

OBJECTIVE = "igiene quotidiana in sicurezza"  # recorded by «Redazione del PAI», the case's third step


def text(response) -> str:
    return html.unescape(response.text)


def timeline(page: str) -> str:
    return re.search(r'<ol data-testid="storia".*?</ol>', page, re.DOTALL).group(0)


def long_case(web_engine, world) -> int:
    """The SAD case at ENTE01 taken from 5 to 10 steps: first visit, a review, a suspension and its end."""
    service = CaseService(web_engine, clock=lambda: NOW)
    case_id, worker = world["sad_ente01"], service.actor("as.rossi")
    service.advance(case_id=case_id, transition="prima_visita", actor=service.actor("ente.girasole"),
                    effective_at=date(2026, 4, 20), data={"visita": {
                        "data": "20/04/2026", "operatore": "Lia B.", "minuti": 60, "servizi": ["igiene_personale"]}})
    service.advance(case_id=case_id, transition="avvia_revisione", actor=worker, effective_at=date(2026, 5, 10))
    service.advance(case_id=case_id, transition="conferma_pai", actor=worker, effective_at=date(2026, 5, 12),
                    data={"esito_revisione": "PAI confermato senza variazioni", "ore_settimanali": "5"})
    service.advance(case_id=case_id, transition="sospendi", actor=worker, effective_at=date(2026, 6, 1),
                    reason="ricovero ospedaliero")
    service.advance(case_id=case_id, transition="riprendi", actor=worker, effective_at=date(2026, 6, 20))
    return case_id


def test_a_long_history_shows_the_latest_steps_with_their_data_and_the_older_ones_as_one_line(
        world, client_for, web_engine):
    case_id = long_case(web_engine, world)
    page = text(client_for("as.rossi").get(f"/casi/{case_id}"))
    steps = timeline(page)
    assert len(re.findall(r"<li>", steps)) == 10
    compact = re.findall(r'<div class="passo passo-compatto"><strong>([^<]+)</strong> · (\d\d/\d\d/\d{4})', steps)
    assert compact == [("Segnalazione", "01/04/2026"), ("Visita domiciliare e valutazione", "08/04/2026"),
                       ("Redazione del PAI", "10/04/2026"), ("Scelta dell'ente", "13/04/2026")]
    assert 10 - len(compact) == FULL_STEPS
    assert OBJECTIVE not in steps  # an older step's data is not on the page's history...
    assert "Lia B." in steps and "ricovero ospedaliero" in steps  # ...the latest steps' are
    latest = re.findall(r"<li>(.*?)</li>", steps, re.DOTALL)[-OPEN_STEPS:]
    assert all('<details class="passo">' not in s and "passo-compatto" not in s for s in latest)  # unfolded
    link = re.search(r'<a href="(/casi/\d+/storia)" data-testid="link-storia-completa">', page)
    assert link and link.group(1) == f"/casi/{case_id}/storia"
    assert "i 4 passi più vecchi sono riassunti in una riga ciascuno" in page


def test_the_whole_history_shows_every_step_with_its_data_unfolded_and_leads_back_to_the_case(
        world, client_for, web_engine):
    case_id = long_case(web_engine, world)
    response = client_for("as.rossi").get(f"/casi/{case_id}/storia")
    assert response.status_code == 200
    page = text(response)
    steps = timeline(page)
    assert len(re.findall(r"<li>", steps)) == 10 and "passo-compatto" not in steps
    assert OBJECTIVE in steps and "Lia B." in steps and "ricovero ospedaliero" in steps
    assert '<details class="passo">' not in steps  # every step with data or a reason unfolded
    assert len(re.findall(r'<details class="passo" open>', steps)) == 8  # «avvia revisione», «riprendi»: nothing
    assert f'<a class="ms-3" href="/casi/{case_id}" data-testid="torna-al-caso">' in page
    assert "<script" not in steps  # a plain page: nothing to run to read it


def test_a_short_history_has_no_whole_history_link(world, client_for):
    page = text(client_for("as.rossi").get(f"/casi/{world['sad_ente01']}"))
    assert "passo-compatto" not in timeline(page) and "link-storia-completa" not in page


def test_the_whole_history_is_refused_out_of_scope_like_the_case(world, client_for):
    outside = client_for("as.verdi").get(f"/casi/{world['sad_ente01']}/storia")
    assert outside.status_code == 403 and "Colombo" not in outside.text


# ----------------------------------------------------------------------------- access facts once per request


def _counting(engine):
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", note)
    return seen, lambda: sa.event.remove(engine, "before_cursor_execute", note)


def test_a_case_page_reads_the_case_keys_and_the_deputyships_once_and_the_next_request_reads_them_again(
        world, client_for, web_engine):
    worker = client_for("as.rossi")
    case_id = world["sad_ente01"]
    seen, stop = _counting(web_engine)
    try:
        first = worker.get(f"/casi/{case_id}")
        keys = [s for s in seen if s.startswith("SELECT case_file.case_type, case_file.comune_istat, case_file.owner")]
        deputies = [s for s in seen if "FROM deputyship" in s]
        assert first.status_code == 200 and len(keys) == 1 and len(deputies) == 1
        seen.clear()
        worker.get(f"/casi/{case_id}")
        assert len([s for s in seen if "FROM deputyship" in s]) == 1  # read again: nothing kept between requests
    finally:
        stop()


def test_the_memo_keeps_an_answer_only_inside_its_block():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert remembered("k", compute) == 1 and remembered("k", compute) == 2  # outside: computed every time
    with once_per_request():
        assert remembered("k", compute) == 3 and remembered("k", compute) == 3
        with once_per_request():  # nested: the same request's answers
            assert remembered("k", compute) == 3
    with once_per_request():
        assert remembered("k", compute) == 4  # a new request computes again


def test_a_selects_options_are_escaped_as_jinja_escapes_them():
    from jinja2 import Environment
    from markupsafe import Markup

    from web.templating import env

    choices = [("A&B", "Coop «Il Sole» <s.r.l.>"), ("it's", 'say "hi"'), (3, "tre"), ("m", Markup("<b>m</b>"))]
    loop = Environment(autoescape=True).from_string(
        '{% for value, label in c %}<option value="{{ value }}"{% if value == s %} selected{% endif %}>'
        '{{ label }}</option>{% endfor %}')
    for selected in ("it's", 3, None):
        assert str(env.filters["opzioni"](choices, selected)) == loop.render(c=choices, s=selected)
