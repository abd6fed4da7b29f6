"""The case page's generated acts: the acts the case's state offers to this user (a «Genera atto» button each)
and the acts already generated that the user may read (a download link each)."""
from __future__ import annotations

from typing import Any

from services.acts import generated_acts, offered_acts


def acts_context(svc: Any, user: Any, case_id: int, generated: str | None = None) -> dict[str, Any]:
    now = svc.clock()
    return {"atti_offerti": offered_acts(svc.engine, user.principal, case_id, now=now),
            "atti_generati": generated_acts(svc.engine, user.principal, case_id, now=now),
            "atto_generato": generated}
