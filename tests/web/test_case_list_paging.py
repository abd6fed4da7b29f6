"""/casi in pages: keyset links forward and back, the true total, «Solo i miei casi», states grouped by type."""
from __future__ import annotations

import html
import re

from tests.sql_seen import statements_seen
from tests.web.test_case_pages import listed


def ordered(page: str) -> list[int]:
    match = re.search(r'<table[^>]*data-testid="elenco-casi".*?</table>', page, re.DOTALL)
    return [int(i) for i in re.findall(r'href="/casi/(\d+)"', match.group(0))] if match else []


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'href="(/casi\?[^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def count_line(page: str) -> str:
    return html.unescape(re.search(r'data-testid="conteggio">([^<]+)<', page).group(1))


def test_following_the_next_page_links_visits_every_case_once_in_the_lists_order(world, client_for):
    client = client_for("coord.crema")
    whole = ordered(client.get("/casi", params={"limit": 500}).text)
    assert len(whole) > 6
    seen, pages, url = [], [], "/casi?limit=3"
    while url:
        page = client.get(url).text
        pages.append(page)
        seen += ordered(page)
        url = link(page, "next")
    assert seen == whole
    total = len(whole)
    assert count_line(pages[0]).startswith(f"{total} casi, pagina 1 di {-(-total // 3)}")
    assert f"pagina {len(pages)} di {len(pages)}" in count_line(pages[-1])
    assert link(pages[0], "prev") is None and link(pages[-1], "next") is None


def test_the_previous_page_link_gives_back_the_same_page(world, client_for):
    client = client_for("coord.crema")
    first = client.get("/casi?limit=3").text
    second = client.get(link(first, "next")).text
    third = client.get(link(second, "next")).text
    back = client.get(link(third, "prev")).text
    assert ordered(back) == ordered(second) and "pagina 2 di" in count_line(back)
    again = client.get(link(back, "prev")).text
    assert ordered(again) == ordered(first) and link(again, "prev") is None


def test_the_filters_stay_on_every_page_and_the_total_counts_only_what_matches(world, client_for):
    client = client_for("coord.crema")
    first = client.get("/casi", params={"tipo": "sad_caso", "limit": 1}).text
    assert count_line(first).startswith("2 casi, pagina 1 di 2")
    second = client.get(link(first, "next")).text
    assert "tipo=sad_caso" in link(first, "next")
    assert set(ordered(first) + ordered(second)) == {world["sad_ente01"], world["sad_ente02"]}


def test_a_hand_edited_page_key_starts_from_the_top_instead_of_failing(world, client_for):
    client = client_for("coord.crema")
    top = ordered(client.get("/casi?limit=3").text)
    for bad in ("x", "2.2026-01-01.5", "0.9999-99-99.1", "0.2026-01-01.99999999999999999999999"):
        response = client.get("/casi", params={"limit": 3, "dopo": bad, "pagina": 7})
        assert response.status_code == 200
        assert ordered(response.text) == top


def test_only_my_cases_shows_the_cases_assigned_to_me(world, client_for, web_engine):
    import sqlalchemy as sa

    from store.tables import case_t

    with web_engine.connect() as conn:
        mine = {r.id for r in conn.execute(sa.select(case_t.c.id).where(case_t.c.owner == "as.rossi"))}
    assert mine
    rossi = client_for("as.rossi")
    assert listed(rossi.get("/casi", params={"miei": "1", "limit": 500}).text) == mine
    assert mine < listed(rossi.get("/casi", params={"limit": 500}).text)


def test_the_state_filter_is_grouped_by_case_type_and_picks_that_types_state(world, client_for):
    client = client_for("coord.crema")
    page = client.get("/casi").text
    groups = re.findall(r'<optgroup label="([^"]+)">', page)
    assert len(groups) == len(set(groups)) >= 5 and "Patto gener-attivo" in html.unescape(" ".join(groups))
    picked = client.get("/casi", params={"stato": "sad_caso:VOUCHER_ISSUED"}).text
    assert listed(picked) == {world["sad_ente01"]}
    assert 'value="sad_caso:VOUCHER_ISSUED" selected' in picked


def test_a_search_is_paged_too_with_its_exact_total(world, client_for):
    client = client_for("coord.crema")
    everyone = ordered(client.get("/casi", params={"q": "a", "limit": 500}).text)
    assert len(everyone) >= 3
    first = client.get("/casi", params={"q": "a", "limit": 2}).text
    assert count_line(first).startswith(f"{len(everyone)} casi, pagina 1 di {-(-len(everyone) // 2)}")
    seen, page = ordered(first), first
    while link(page, "next"):
        page = client.get(link(page, "next")).text
        seen += ordered(page)
    assert seen == everyone
    back = client.get(link(page, "prev")).text if link(page, "prev") else first
    assert set(ordered(back)) <= set(everyone)


def test_the_list_reads_the_nearest_deadline_of_the_cases_it_lists_only_not_of_the_whole_instance(
        world, client_for, web_engine):
    """In an instance of many Ambiti the list grouped every open deadline of the instance (400,000 cases) to
    order one Ambito's 1,000: on PostgreSQL each listed case's nearest deadline is looked up by its id."""
    client = client_for("coord.crema")
    with statements_seen(web_engine) as statements:
        page = client.get("/casi", params={"limit": 3}).text
    listings = [s for s in statements if "AS prossima_scadenza" in s]
    assert listings, statements
    assert len(ordered(page)) == 3
    if web_engine.dialect.name == "postgresql":
        for listing in listings:
            assert "GROUP BY deadline.case_id" not in listing
            assert re.search(r"JOIN LATERAL \(SELECT min\(deadline\.due\) .*deadline\.case_id = case_file\.id",
                             listing)


def test_the_coordinator_s_list_names_the_sub_ambito_s_comuni_as_one_array_not_a_subplan_over_every_case(
        world, client_for, web_engine):
    """The coordinator's scope took its sub-ambito's comuni as `comune_istat IN (SELECT ...)` inside an OR: a hashed
    subplan filtering every case of the Ambito (in a region, 12,624 scattered among 400,000). On PostgreSQL the
    comuni are one array computed once (`= ANY(ARRAY(SELECT ...))`), which the planner reads by the comune index;
    the same cases in the same order (the other tests of this module)."""
    client = client_for("coord.crema")
    with statements_seen(web_engine) as statements:
        page = client.get("/casi", params={"limit": 3}).text
    listings = [s for s in statements if "AS prossima_scadenza" in s]
    assert listings and len(ordered(page)) == 3
    area = ("case_file.comune_istat = ANY(ARRAY(SELECT comune.istat FROM comune WHERE comune.sub_ambito ="
            if web_engine.dialect.name == "postgresql" else
            "case_file.comune_istat IN (SELECT comune.istat FROM comune WHERE comune.sub_ambito =")
    assert all(area in s for s in listings), listings


def test_a_list_longer_than_the_lookups_pay_for_is_ordered_from_one_grouped_pass_with_the_same_rows(
        world, client_for, web_engine, monkeypatch):
    """A planning office's list of 100,000 cases looked up each case's nearest deadline (350-415 ms of SQL at
    100,000 cases): above `LATERAL_UP_TO` matching cases one grouped pass orders it. Same cases, same order, same
    next page, either way."""
    from store import case_queries

    client = client_for("udp.neri")
    looked_up = [ordered(client.get("/casi", params={"limit": n}).text) for n in (500, 2)]
    monkeypatch.setattr(case_queries, "LATERAL_UP_TO", 1)
    with statements_seen(web_engine) as statements:
        first = client.get("/casi", params={"limit": 2}).text
        grouped = [ordered(client.get("/casi", params={"limit": 500}).text), ordered(first)]
        second = ordered(client.get(link(first, "next")).text)
    listings = [s for s in statements if "AS prossima_scadenza" in s]
    assert len(looked_up[0]) > 2 and grouped == looked_up
    assert second == looked_up[0][2:4]
    assert listings and all("GROUP BY deadline.case_id" in s and "LATERAL" not in s for s in listings)
