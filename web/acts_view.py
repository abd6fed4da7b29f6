"""The case page's generated acts: the acts the case's state offers to this user (a «Genera atto» button each)
and the acts already generated that the user may read (a download link each)."""
from __future__ import annotations

from typing import Any

from services.acts import acts_among, offered_acts


def acts_context(svc: Any, user: Any, case_id: int, documents: list[dict[str, Any]],
                 generated: str | None = None) -> dict[str, Any]:
    """`documents`: the case's documents the page already read for this user (web/documents_view.py), so that
    a health act is not read, and logged, twice for one page."""
    return {"atti_offerti": offered_acts(svc.engine, user.principal, case_id, now=svc.clock()),
            "atti_generati": acts_among(documents), "atto_generato": generated}
