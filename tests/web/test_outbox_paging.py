"""/admin/posta in pages: keyset links by id (newest first) forward and back, the exact total, the filters kept on
every page, a hand-edited key starting from the top, and the kinds of message in Italian words."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from store.tables import outbox_t
from tests.integration.conftest import NOW

TEMPLATES = ("caso_assegnato", "digest", "sad_ente_emetti_voucher")


@pytest.fixture
def queued(web_engine) -> list[int]:
    """Eleven messages, newest last: seven to as.rossi, four to coord.crema; their ids, newest first."""
    rows = [{"idempotency_key": f"prova:{i}", "event": "prova", "case_id": None,
             "recipient": ("as.rossi@example.org" if i % 3 else "coord.crema@example.org"),
             "template": TEMPLATES[i % 3], "payload": {}, "created_at": NOW - timedelta(minutes=60 - i),
             "status": "pending", "attempts": 0, "next_attempt_at": NOW} for i in range(11)]
    with web_engine.begin() as conn:
        conn.execute(outbox_t.insert(), rows)
        return [r.id for r in conn.execute(outbox_t.select().order_by(outbox_t.c.id.desc()))]


def shown(page: str) -> list[int]:
    table = re.search(r'<table[^>]*data-testid="messaggi".*?</table>', page, re.DOTALL)
    return [int(i) for i in re.findall(r'<th scope="row">(\d+)</th>', table.group(0))] if table else []


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="(/admin/posta\?[^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def count_line(page: str) -> str:
    return html.unescape(re.search(r'data-testid="conteggio">([^<]+)<', page).group(1))


def test_following_the_next_links_visits_every_message_once_newest_first(queued, client_for):
    admin = client_for("udp.admin")
    seen, pages, url = [], [], "/admin/posta?limit=4"
    while url:
        page = admin.get(url).text
        pages.append(page)
        seen += shown(page)
        url = link(page, "next")
    assert seen == queued
    assert count_line(pages[0]).startswith("11 messaggi, pagina 1 di 3")
    assert count_line(pages[-1]).startswith("11 messaggi, pagina 3 di 3")
    assert link(pages[0], "prev") is None and link(pages[-1], "next") is None


def test_the_previous_link_gives_back_the_same_page_and_then_the_first(queued, client_for):
    admin = client_for("udp.admin")
    first = admin.get("/admin/posta?limit=4").text
    second = admin.get(link(first, "next")).text
    third = admin.get(link(second, "next")).text
    back = admin.get(link(third, "prev")).text
    assert shown(back) == shown(second) == queued[4:8] and "pagina 2 di 3" in count_line(back)
    again = admin.get(link(back, "prev")).text
    assert shown(again) == queued[:4] and link(again, "prev") is None and "pagina 1 di 3" in count_line(again)


def test_the_filters_stay_on_every_page_and_the_total_counts_only_what_matches(queued, client_for):
    admin = client_for("udp.admin")
    first = admin.get("/admin/posta", params={"destinatario": "as.rossi", "stato": "pending", "limit": 3}).text
    assert count_line(first).startswith("7 messaggi, pagina 1 di 3")
    following = link(first, "next")
    assert "destinatario=as.rossi" in following and "stato=pending" in following
    seen, page = shown(first), first
    while link(page, "next"):
        page = admin.get(link(page, "next")).text
        seen += shown(page)
    assert len(seen) == 7 and "coord.crema@example.org" not in page
    assert "destinatario=as.rossi" in link(page, "prev")


def test_a_hand_edited_page_key_starts_from_the_top_instead_of_failing(queued, client_for):
    admin = client_for("udp.admin")
    for bad in ("x", "-3", "0", "1.5", "99999999999999999999999"):
        response = admin.get("/admin/posta", params={"limit": 4, "dopo": bad, "pagina": 9})
        assert response.status_code == 200
        assert shown(response.text) == queued[:4] and "pagina 1 di 3" in count_line(response.text)


def test_the_kind_of_message_is_shown_in_italian_words_not_as_its_code(queued, client_for):
    page = client_for("udp.admin").get("/admin/posta").text
    table = re.search(r'<table[^>]*data-testid="messaggi".*?</table>', page, re.DOTALL).group(0)
    assert ">Caso assegnato<" in table and ">Riepilogo delle scadenze<" in table and ">SAD: voucher emesso<" in table
    assert ">caso_assegnato<" not in table and ">digest<" not in table
