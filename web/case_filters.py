"""The filters of the case list, read once from the query string: /casi shows them, /casi/esporta exports the
same list with them (issue 14 item 2), so what is downloaded is what was on screen."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import QueryParams

from domain.access import Principal
from domain.registry import all_workflows
from services.queries import CaseFilter, ListKey

MAX_ROWS = 1000
PAGE_ROWS = 50
_ON = ("1", "on", "true")


@dataclass(frozen=True)
class ListQuery:
    tipo: str | None
    stato: str | None
    comune: str | None
    overdue: bool
    mine: bool
    q: str
    limit: int
    after: ListKey | None
    before: ListKey | None

    def case_filter(self, principal: Principal) -> CaseFilter:
        return CaseFilter(case_type=self.tipo, state=self.stato, comune=self.comune, overdue=self.overdue,
                          limit=self.limit, by_due=True, owner=principal.username if self.mine else None,
                          after=self.after, before=self.before)

    def kept(self) -> dict[str, str]:
        """The filters as query parameters (empty ones left out): a page's links and the export's."""
        stato = f"{self.tipo}:{self.stato}" if self.tipo and self.stato else ""
        return {k: v for k, v in (("q", self.q), ("tipo", self.tipo or ""), ("stato", stato),
                                  ("comune", self.comune or ""), ("in_ritardo", "1" if self.overdue else ""),
                                  ("miei", "1" if self.mine else "")) if v}


def list_query(p: QueryParams) -> ListQuery:
    known = {wf.case_type for wf in all_workflows()}
    tipo = p.get("tipo") or None
    stato = p.get("stato") or None
    if stato and ":" in stato:  # the state filter is grouped by case type: «tipo:STATO»
        tipo, stato = stato.split(":", 1)
    if tipo not in known:
        tipo = None
    limit_text = p.get("limit") or ""
    limit = min(max(int(limit_text), 1), MAX_ROWS) if limit_text.isdigit() else PAGE_ROWS
    return ListQuery(tipo, stato, p.get("comune") or None, p.get("in_ritardo") in _ON, p.get("miei") in _ON,
                     (p.get("q") or "").strip(), limit, ListKey.parse(p.get("dopo") or ""),
                     ListKey.parse(p.get("prima") or ""))
