"""Bonus Famiglia's generated act (DOMAIN.md §12, §14): the vulnerability sheet, issued after the interview.
It prints the expected delivery date, health data: only a reader who sees health data generates it, and it is
filed as health data."""
from __future__ import annotations

from pathlib import Path

from domain.acts import Act

ATTI = Path(__file__).parent / "atti"

ACTS = (
    Act("scheda_vulnerabilita", "Scheda di vulnerabilità (avvenuto colloquio)", ATTI / "scheda_vulnerabilita.html",
        "rilascia_scheda", frozenset({"SHEET_ISSUED", "SUBMITTED", "ADMITTED"}),
        ("evento", "figli", "data_presunta_parto", "inviante", "colloquio_il", "aree_vulnerabilita",
         "scheda_rilasciata_il")),
)
