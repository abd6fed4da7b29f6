"""The regional reader's figures (issue 15): the indicators of every Ambito of the instance, side by side, each
broken down by distretto, with the small-cell rule applied to every cell.

Who: the regional reader only (`domain.access.regional_refusal`), a role of no Ambito that reads no case. The
page (/regione), the API (/api/v1/regione/indicatori) and `legami tally --regione` all go through
`regional_indicators`. Each Ambito's figures are that Ambito's tallies (services/tallies.py, bounded by
`services.ambiti.ambito_scope`, by distretto): a cell about fewer people than the threshold is hidden, and so is
the smallest other cell of its Ambito when a single one is hidden (its complement). No instance-wide total is
given, so no hidden Ambito can be recovered from one.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, Principal, regional_refusal
from domain.indicators import DISTRICT
from services.ambiti import ambito_scope
from services.tallies import compute_tallies
from store import reference


def authorize_regional(principal: Principal | None) -> None:
    """`principal` None: the trusted local command line."""
    reason = regional_refusal(principal) if principal is not None else None
    if reason is not None:
        raise AccessDenied(reason)


def regional_indicators(engine: Engine, principal: Principal | None, *, year: int, as_of: date) -> dict[str, Any]:
    """Every Ambito's indicators of `year` as of `as_of`, each with its distretti's cells (suppressed per cell)."""
    authorize_regional(principal)
    ambiti, by_code, threshold = [], {}, None
    for a in reference.ambiti(engine):
        body = compute_tallies(engine, year=year, as_of=as_of, by="distretto", ambito=ambito_scope(engine, a.code))
        ambiti.append({"codice": a.code, "nome": a.name, "distretti": reference.distretti(engine, a.code)})
        for i in body["indicatori"]:
            entry = by_code.setdefault(i["codice"], {"codice": i["codice"], "etichetta": i["etichetta"],
                                                     "gruppo": i["gruppo"], "unita": i["unita"], "ambiti": []})
            entry["ambiti"].append({"ambito": a.code, "totale": i["totale"],
                                    "distretti": [{**line} for line in i["righe"]]})
        threshold = body["soglia_riservatezza"]
    return {"anno": year, "al": as_of.isoformat(), "soglia_riservatezza": threshold,
            "ambiti": ambiti, "indicatori": list(by_code.values()), "fuori_distretto": DISTRICT}
