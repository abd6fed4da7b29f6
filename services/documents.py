"""A case's documents (DOMAIN.md §14) behind the one access decision: what a page, the API, the CLI and the
generated acts call.

- `add_document`: the declared part and the bytes checked (domain/documents.py: type from the content, size cap,
  protocol), the writer allowed by `domain.access.document_refusal`, the signature verified (services/signatures.py
  when present); then the file written content-addressed (a health one sealed) BEFORE its row;
- `list_documents`: the documents of the classes the reader sees; health ones listed are logged;
- `read_document`: (what is shown of it, its bytes), refused out of scope or to who does not see its class; a
  health document's read is logged before its bytes are returned;
- `check_required_documents`: the documents a transition declares as required, present or an Italian refusal.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, AccessPolicy, DEFAULT_POLICY, Principal, document_classes, \
    document_refusal, read_refusal
from domain.documents import CLASS_LABELS, CLASSES, DOC_TYPES, KINDS, ORIGINS, allowed_kinds, check_content, \
    check_meta, clean_filename, detect_kind, missing_documents, required_for, protocol_text, size_text
from domain.errors import GuardRefused, NotFound
from domain.fields import FieldClass
from domain.italian import ROME, format_datetime
from services.access import case_ref, log_health_read
from store import documents as store
from store.uow import reading, writing

HEALTH = CLASS_LABELS[FieldClass.HEALTH]


def _today(now: datetime) -> date:
    return now.astimezone(ROME).date()


def _settings():
    from config.settings import get_settings

    return get_settings()


def add_document(engine: Engine, principal: Principal, case_id: int, *, content: bytes, filename: str,
                 doc_type: str, data_class: str = "sociale", origin: str = "caricato", act_name: str | None = None,
                 protocollo_numero: str | None = None, protocollo_data: str | date | None = None,
                 now: datetime | None = None, policy: AccessPolicy = DEFAULT_POLICY) -> int:
    """Add a document to a case as `principal`; its id. AccessDenied / NotFound / InvalidData, nothing written."""
    now = now or datetime.now(timezone.utc)
    with reading(engine) as conn:
        ref = case_ref(conn, case_id, _today(now))
    reason = read_refusal(principal, ref, policy)  # scope first: out of scope learns nothing of the input
    if reason is not None:
        raise AccessDenied(reason)
    meta = check_meta({"doc_type": doc_type, "data_class": data_class, "origin": origin, "filename": filename,
                       "protocollo_numero": protocollo_numero, "protocollo_data": protocollo_data,
                       "act_name": act_name}, now=now)
    reason = document_refusal(principal, ref, meta.data_class, write=True, policy=policy,
                              generated=meta.origin == "generato")
    if reason is not None:
        raise AccessDenied(reason)
    settings = _settings()
    generated = meta.origin == "generato"
    kinds = tuple(KINDS) if generated else allowed_kinds(settings.documents_types)
    limit = max(settings.documents_max_bytes, len(content)) if generated else settings.documents_max_bytes
    first = detect_kind(content) if content else None
    report = _verify(content, KINDS[first][0]) if first in ("pdf", "p7m") and len(content) <= limit else None
    kind = check_content(content, kinds=kinds, max_bytes=limit,
                         inner=getattr(report, "inner_content", None) if report is not None else None)
    sealed = meta.data_class is FieldClass.HEALTH
    sha = store.put_file(store.documents_root(engine), content, sealed=sealed)
    row = {"case_id": case_id, "origin": meta.origin, "doc_type": meta.doc_type, "act_name": act_name,
           "filename": clean_filename(meta.filename, kind), "media_type": KINDS[kind][0], "size": len(content),
           "sha256": sha, "data_class": CLASS_LABELS[meta.data_class], "protocollo_numero": meta.protocollo_numero,
           "protocollo_data": meta.protocollo_data, "uploaded_by": principal.username,
           "uploaded_at": now.astimezone(timezone.utc), **_signature_columns(report)}
    with writing(engine) as conn:
        return store.insert(conn, row)


def list_documents(engine: Engine, principal: Principal, case_id: int, *, now: datetime | None = None,
                   policy: AccessPolicy = DEFAULT_POLICY, context: str = "documenti") -> list[dict[str, Any]]:
    """The case's documents `principal` may see, oldest first (AccessDenied out of scope); health ones listed
    are logged before the list is returned."""
    now = now or datetime.now(timezone.utc)
    with reading(engine) as conn:
        ref = case_ref(conn, case_id, _today(now))
        reason = read_refusal(principal, ref, policy)
        if reason is not None:
            raise AccessDenied(reason)
        readable = document_classes(principal, ref, policy)
        classes = frozenset(label for label, cls in CLASSES.items() if cls in readable)
        rows = store.of_case(conn, case_id, classes)
    out = [shown(r) for r in rows]
    health = [f"documento:{d['id']}" for d in out if d["classe"] == HEALTH]
    if health:
        log_health_read(engine, principal, case_id, health, at=now, context=context)
    return out


def read_document(engine: Engine, principal: Principal, doc_id: int, *, now: datetime | None = None,
                  policy: AccessPolicy = DEFAULT_POLICY) -> tuple[dict[str, Any], bytes]:
    """(what is shown of document `doc_id`, its bytes) for `principal`: NotFound, AccessDenied; a health
    document's read is logged before the bytes are returned."""
    now = now or datetime.now(timezone.utc)
    with reading(engine) as conn:
        row = store.one(conn, doc_id)
        if row is None:
            raise NotFound(f"documento {doc_id} inesistente")
        ref = case_ref(conn, row["case_id"], _today(now))
    reason = document_refusal(principal, ref, CLASSES[row["data_class"]], write=False, policy=policy)
    if reason is not None:
        raise AccessDenied(reason)
    content = store.get_file(store.documents_root(engine), row["sha256"], sealed=row["data_class"] == HEALTH)
    if row["data_class"] == HEALTH:
        log_health_read(engine, principal, row["case_id"], [f"documento:{doc_id}"], at=now,
                        context="documento scaricato")
    return shown(row), content


def check_required_documents(engine: Engine, case_id: int, transition: str, *, case_type: str | None = None) -> None:
    """GuardRefused (Italian) if the case lacks a document `transition` requires (its case type declares them:
    `CaseType.required_documents`); off with LEGAMI_DOCUMENTS_REQUIRED=false. A caller that knows the case's
    type passes it: a transition that requires nothing then costs no read."""
    if not _settings().documents_required or (case_type is not None and not required_for(case_type, transition)):
        return
    with reading(engine) as conn:
        case_type = case_ref(conn, case_id, _today(datetime.now(timezone.utc))).case_type
        if not required_for(case_type, transition):
            return
        present = store.types_of_case(conn, case_id)
    reason = missing_documents(case_type, transition, present)
    if reason is not None:
        raise GuardRefused([reason])


# ----------------------------------------------------------------------------- signatures and display


def _verify(content: bytes, media_type: str) -> Any:
    """The signature report of services/signatures.py (helper `signatures`), or None when the module is not
    there yet or the file is not signed. HOOK: the verification is called here and only here."""
    try:
        from services.signatures import verify_signature  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return verify_signature(content, media_type)
    except Exception as exc:  # a verifier crash must not lose the upload: it is recorded as such
        return _Unverified(f"verifica della firma non riuscita: {type(exc).__name__}")


class _Unverified:
    formato = None
    integra = None
    firmatario_nome = firmatario_cf = firma_data = None
    fiducia = "non verificata"
    inner_content = None

    def __init__(self, dettaglio: str):
        self.dettaglio = dettaglio


def _signature_columns(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    detail = getattr(report, "dettaglio", None)
    others = tuple(getattr(report, "altri_firmatari", ()) or ())
    if others:
        detail = f"{detail or ''} Altri firmatari: {', '.join(others)}.".strip()
    return {"firma_formato": report.formato, "firma_integra": report.integra,
            "firmatario_nome": (report.firmatario_nome or None) and str(report.firmatario_nome)[:200],
            "firmatario_cf": (report.firmatario_cf or None) and str(report.firmatario_cf)[:16],
            "firma_data": report.firma_data, "firma_fiducia": (report.fiducia or None) and str(report.fiducia)[:40],
            "firma_dettaglio": str(detail)[:2000] if detail else None}


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def shown(r: dict[str, Any]) -> dict[str, Any]:
    """A document's row as pages, the API and the CLI show it (Italian keys)."""
    uploaded = _utc(r["uploaded_at"]).astimezone(ROME)
    signed = r["firma_formato"] is not None or r["firma_integra"] is not None or r["firma_dettaglio"] is not None
    firma = None
    if signed:
        when = _utc(r["firma_data"])
        firma = {"formato": r["firma_formato"], "integra": r["firma_integra"], "firmatario": r["firmatario_nome"],
                 "codice_fiscale": r["firmatario_cf"], "data": when.isoformat() if when else None,
                 "data_testo": format_datetime(when) if when else "", "fiducia": r["firma_fiducia"],
                 "dettaglio": r["firma_dettaglio"]}
    return {"id": r["id"], "caso": r["case_id"], "tipo": r["doc_type"],
            "tipo_etichetta": DOC_TYPES.get(r["doc_type"], r["doc_type"]), "origine": r["origin"],
            "origine_etichetta": ORIGINS.get(r["origin"], r["origin"]), "atto": r["act_name"],
            "nome_file": r["filename"], "tipo_file": r["media_type"], "dimensione": r["size"],
            "dimensione_testo": size_text(r["size"]), "sha256": r["sha256"], "classe": r["data_class"],
            "protocollo_numero": r["protocollo_numero"],
            "protocollo_data": r["protocollo_data"].isoformat() if r["protocollo_data"] else None,
            "protocollo_testo": protocol_text(r["protocollo_numero"], r["protocollo_data"]),
            "caricato_da": r["uploaded_by"], "caricato_il": uploaded.isoformat(),
            "caricato_il_testo": format_datetime(uploaded), "firma": firma}

