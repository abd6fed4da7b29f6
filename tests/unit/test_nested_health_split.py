"""The nested health parts of a stored snapshot are split out down to the declared paths and put back exactly
(domain/fields.py): what store/sealed.py seals beside the FNA call's ranking steps."""
from __future__ import annotations

from domain.fields import merge_health
from domain.registry import get_case_type

SNAPSHOT = [
    {"domanda": 7, "protocollo": "CSC-2026-0007", "punteggio": "87",
     "dettaglio": {"isee": "30", "gravita": "20", "solitudine": "10", "eta": "6", "adl": "15", "iadl": "6",
                   "nuova_voce": "2"}},
    {"domanda": 9, "protocollo": "CSC-2026-0009", "punteggio": "24", "dettaglio": {"isee": "24"}},
]


def test_the_ranking_snapshot_keeps_protocols_scores_and_administrative_points_and_splits_out_the_rest():
    plain, health = get_case_type("fna_bando").field_map.split_health("posizioni", SNAPSHOT)
    assert plain == [
        {"domanda": 7, "protocollo": "CSC-2026-0007", "punteggio": "87",
         "dettaglio": {"isee": "30", "solitudine": "10", "eta": "6"}},
        SNAPSHOT[1],
    ]
    # an undeclared component is protected like health data (posizioni[].dettaglio.*)
    assert health == [{"dettaglio": {"gravita": "20", "adl": "15", "iadl": "6", "nuova_voce": "2"}}, None]
    assert merge_health({"posizioni": plain, "atto": "x"}, {"posizioni": health}) == {"posizioni": SNAPSHOT,
                                                                                      "atto": "x"}


def test_a_value_without_health_parts_is_left_as_it_is():
    field_map = get_case_type("fna_bando").field_map
    assert field_map.split_health("posizioni", [SNAPSHOT[1]]) == ([SNAPSHOT[1]], None)
    assert field_map.split_health("atto", "Determinazione n. 4") == ("Determinazione n. 4", None)
