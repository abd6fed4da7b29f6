"""The regional reader's indicators on `api.router` (/api/v1/regione/indicatori): every Ambito's indicators,
by distretto, small cells hidden (services/regional.py; who: `domain.access.regional_refusal`)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query

from services.regional import regional_indicators
from web import api_models as m
from web.api_models_region import IndicatoriRegione
from web.routes.api import Svc, User, _invalid, router


@router.get("/regione/indicatori", response_model=IndicatoriRegione, responses=m.errors(403, 422),
            summary="Indicatori per Ambito",
            description="Per il lettore regionale: gli indicatori di ogni Ambito dell'istanza, con le righe per "
                        "distretto; le celle sotto la soglia di riservatezza (e i loro complementi) nascoste in "
                        "ogni Ambito. Nessun dato dei casi.")
def regional(
    user: User,
    svc: Svc,
    anno: Annotated[int | None, Query(ge=2000, le=2100, description="Anno (predefinito: l'anno in corso)")] = None,
) -> dict[str, Any]:
    today = svc.today()
    year = anno or today.year
    if year > today.year:
        raise _invalid("anno", "Anno", f"deve essere minore o uguale a {today.year}")
    return regional_indicators(svc.engine, user.principal, year=year, as_of=min(today, date(year, 12, 31)))
