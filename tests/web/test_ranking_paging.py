"""The FNA ranking in pages by position: the total, the funding line on the page where it falls with a link
there from every page, each ranking paged on its own, the public ranking still whole.

The small call of test_fna_sad_pages ranks FNA-1, FNA-2 | FNA-3, FNA-9, FNA-10 with the line before FNA-3
(position 3): at two positions a page the line opens page 2."""
from __future__ import annotations

import html
import re

from tests.web.test_fna_sad_pages import EXPECTED_ORDER, _ranking_rows, fna_world  # noqa: F401 (fixture)


def count_line(page: str, fase: str) -> str:
    found = re.search(rf'data-testid="conteggio" data-fase="{fase}">(.*?)</p>', page, re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def link(page: str, fase: str, rel: str) -> str | None:
    nav = re.search(rf'data-testid="pagine" data-fase="{fase}".*?</nav>', page, re.DOTALL)
    found = re.search(rf'href="([^"]+)" rel="{rel}"', nav.group(0)) if nav else None
    return html.unescape(found.group(1)) if found else None


def cut_link(page: str) -> str:
    return html.unescape(re.search(r'href="([^"]+)" data-testid="vai-al-taglio"', page).group(1))


def test_the_ranking_is_shown_in_pages_by_position_with_its_total_and_every_position_once(fna_world, client_for):
    client = client_for("udp.neri")
    url, seen, pages = f"/fna/bandi/{fna_world['small']['call']}/graduatoria?limit=2", [], []
    while url:
        page = client.get(url).text
        pages.append(page)
        seen += [r["protocollo"] for r in _ranking_rows(page, "proposta")]
        url = link(page, "proposta", "next")
    assert seen == EXPECTED_ORDER and len(pages) == 3
    assert count_line(pages[0], "proposta").startswith("5 domande in graduatoria: posizioni 1–2, pagina 1 di 3.")
    assert count_line(pages[2], "proposta").startswith("5 domande in graduatoria: posizioni 5–5, pagina 3 di 3.")
    back = client.get(link(pages[2], "proposta", "prev")).text
    assert [r["protocollo"] for r in _ranking_rows(back, "proposta")] == EXPECTED_ORDER[2:4]


def test_the_funding_line_is_drawn_on_the_page_it_falls_on_and_every_page_links_to_it(fna_world, client_for):
    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    first = client.get(f"/fna/bandi/{call}/graduatoria?limit=2").text
    assert 'data-testid="linea-taglio"' not in first
    assert "La linea di finanziamento cade prima della posizione 3, a pagina 2" in count_line(first, "proposta")
    assert cut_link(first) == f"/fna/bandi/{call}/graduatoria?limit=2&pagina_proposta=2#taglio-proposta"
    second = client.get(cut_link(first)).text
    rows = _ranking_rows(second, "proposta")
    assert [r["protocollo"] for r in rows] == ["FNA-3", "FNA-9"] and not any(r["finanziabile"] for r in rows)
    assert re.search(r'<tr [^>]*data-testid="linea-taglio" id="taglio-proposta">', second)
    last = client.get(f"/fna/bandi/{call}/graduatoria?limit=2&pagina_proposta=3").text
    assert 'data-testid="linea-taglio"' not in last and cut_link(last) == cut_link(first)
    assert "Finanziabili: € 9.600,00 su € 10.000,00" in last  # the sum is over the whole ranking


def test_a_page_number_that_is_no_page_shows_the_first(fna_world, client_for):
    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    for bad in ("0", "4", "x", "-1", "99999999999999999999"):
        page = client.get(f"/fna/bandi/{call}/graduatoria", params={"limit": 2, "pagina_proposta": bad})
        assert page.status_code == 200
        assert [r["protocollo"] for r in _ranking_rows(page.text, "proposta")] == EXPECTED_ORDER[:2]


def test_each_ranking_is_paged_on_its_own_and_the_public_one_stays_whole(fna_world, client_for, app):
    from tests.web.conftest import csrf_of

    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    done = client.post(f"/fna/bandi/{call}/graduatoria", follow_redirects=False, data={
        "csrf_token": csrf_of(client, f"/fna/bandi/{call}/graduatoria"), "fase": "provvisoria",
        "atto": "Determinazione UdP n. 12/2026"})
    assert done.status_code == 303
    page = client.get(f"/fna/bandi/{call}/graduatoria?limit=2&pagina_provvisoria=3").text
    assert [r["protocollo"] for r in _ranking_rows(page, "provvisoria")] == EXPECTED_ORDER[4:]
    assert [r["protocollo"] for r in _ranking_rows(page, "proposta")] == EXPECTED_ORDER[:2]
    following = link(page, "proposta", "next")
    assert "pagina_provvisoria=3" in following and "pagina_proposta=2" in following
    public = client.get(f"/fna/bandi/{call}/graduatoria/pubblica?limit=2").text
    assert all(p in public for p in EXPECTED_ORDER)
    csv = client.get(f"/fna/bandi/{call}/graduatoria/pubblica?formato=csv&limit=2").text
    assert len(csv.strip().splitlines()) == 1 + len(EXPECTED_ORDER)


def test_a_published_final_ranking_is_shown_without_decrypting_the_applications_health_data(
        fna_world, client_for, web_engine):
    """The final ranking shows its snapshot's points: the applications' sealed ADL/IADL are read only to score a
    proposal (before the final ranking), never to show a published one (300 decryptions a view at 100,000 cases)."""
    import sqlalchemy as sa

    from tests.web.conftest import csrf_of
    from tests.web.test_fna_sad_pages import _case

    client = client_for("udp.neri")
    call = fna_world["small"]["call"]
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    current_parts = re.compile(r"FROM health_data WHERE .*health_data\.seq = ")  # store.health_store.current_of
    sa.event.listen(web_engine, "before_cursor_execute", note)
    try:
        client.get(f"/fna/bandi/{call}/graduatoria")
        assert any(current_parts.search(s) for s in seen)  # the proposal is scored from the sealed ADL/IADL
        for fase, atto in (("provvisoria", "Determinazione UdP n. 41/2026"),
                           ("definitiva", "Determinazione UdP n. 60/2026")):
            client.post(f"/fna/bandi/{call}/graduatoria", data={
                "csrf_token": csrf_of(client), "fase": fase, "atto": atto, "versione": _case(web_engine, call)[1]})
        seen.clear()
        page = client.get(f"/fna/bandi/{call}/graduatoria").text
        assert not any(current_parts.search(s) for s in seen)
        assert [r["protocollo"] for r in _ranking_rows(page, "definitiva")] == EXPECTED_ORDER
    finally:
        sa.event.remove(web_engine, "before_cursor_execute", note)
