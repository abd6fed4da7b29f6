"""A document put on a case straight through the store (no access decision): the access matrices need one on
cases their users may not write on, to check who may read it."""
from __future__ import annotations

from datetime import datetime, timezone

from store import documents as store
from store.uow import writing

MATRIX_PDF = b"%PDF-1.4\n% documento della matrice di accesso\n%%EOF\n"


def put_document(engine, case_id: int, *, data_class: str = "sociale", content: bytes = MATRIX_PDF) -> int:
    sha = store.put_file(store.documents_root(engine), content, sealed=data_class == "sanitario")
    with writing(engine) as conn:
        return store.insert(conn, {
            "case_id": case_id, "origin": "caricato", "doc_type": "altro", "act_name": None,
            "filename": "matrice.pdf", "media_type": "application/pdf", "size": len(content), "sha256": sha,
            "data_class": data_class, "protocollo_numero": None, "protocollo_data": None, "uploaded_by": "system",
            "uploaded_at": datetime(2026, 11, 2, tzinfo=timezone.utc)})
