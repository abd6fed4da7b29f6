"""The case diary (DOMAIN.md §13) behind the one access decision: what a page, the API and the CLI call.

- `add_entry`: the entry checked (domain/diary.py), the writer allowed by `domain.access.diary_refusal` (scope,
  role, a class they see), the corrected entry found in the same case and readable by them; then appended to the
  case's chain (store/diary.py), a health entry sealed;
- `read_entries`: the entries of the classes the reader sees of that case (`domain.access.diary_classes`), the
  others never decrypted; a read that returns health entries is logged in the health-read log first.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from domain.access import AccessDenied, AccessPolicy, DEFAULT_POLICY, Principal, diary_classes, diary_refusal, \
    read_refusal
from domain.diary import CLASS_LABELS, check_entry, kind_labels
from domain.errors import InvalidData
from domain.field_errors import FieldError
from domain.fields import FieldClass
from domain.italian import ROME, format_datetime
from services.access import case_ref, log_health_read
from store import diary as store
from store.uow import reading, writing


def _today(now: datetime) -> date:
    return now.astimezone(ROME).date()


def add_entry(engine: Engine, principal: Principal, case_id: int, raw: dict[str, Any], *,
              now: datetime | None = None, policy: AccessPolicy = DEFAULT_POLICY) -> int:
    """Write an entry on a case as `principal`; its number. AccessDenied / NotFound / InvalidData, nothing
    written."""
    now = now or datetime.now(timezone.utc)
    with writing(engine) as conn:
        ref = case_ref(conn, case_id, _today(now))
        reason = read_refusal(principal, ref, policy)  # scope first: out of scope learns nothing of the input
        if reason is not None:
            raise AccessDenied(reason)
        entry = check_entry(raw, case_type=ref.case_type, now=now)
        reason = diary_refusal(principal, ref, entry.data_class, policy)
        if reason is not None:
            raise AccessDenied(reason)
        if entry.supersedes is not None:
            found = store.supersession(conn, case_id, entry.supersedes)
            readable = {c.value for c in diary_classes(principal, ref, policy)}
            if found is None or found[0] not in readable:
                raise InvalidData([FieldError("rettifica_di", "Rettifica della voce",
                                              f"il diario del caso non ha una voce n. {entry.supersedes}")])
            if found[1] is not None:
                raise InvalidData([FieldError("rettifica_di", "Rettifica della voce",
                                              f"la voce n. {entry.supersedes} è già rettificata dalla voce n. "
                                              f"{found[1]}: rettificare quella")])
        return store.append(conn, case_id, {
            "kind": entry.kind, "occurred_at": entry.occurred_at, "participants": list(entry.participants),
            "text": entry.text, "data_class": entry.data_class.value, "author": principal.username,
            "author_role": principal.role.value, "recorded_at": now.astimezone(timezone.utc),
            "supersedes": entry.supersedes})


def read_entries(engine: Engine, principal: Principal, case_id: int, *, now: datetime | None = None,
                 policy: AccessPolicy = DEFAULT_POLICY, context: str = "diario") -> list[dict[str, Any]]:
    """The case's diary as `principal` may read it, oldest first (AccessDenied out of scope). Health entries in
    the answer are logged before it is returned."""
    now = now or datetime.now(timezone.utc)
    with reading(engine) as conn:
        ref = case_ref(conn, case_id, _today(now))
        reason = read_refusal(principal, ref, policy)
        if reason is not None:
            raise AccessDenied(reason)
        classes = diary_classes(principal, ref, policy)
        rows = store.entries(conn, case_id, frozenset(c.value for c in classes)) if classes else []
    kinds = kind_labels(ref.case_type)
    out = [_shown(case_id, r, kinds) for r in rows]
    health = [f"diario:{r['numero']}" for r in out if r["classe"] == CLASS_LABELS[FieldClass.HEALTH]]
    if health:
        log_health_read(engine, principal, case_id, health, at=now, context=context)
    return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _shown(case_id: int, r: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    occurred, recorded = _utc(r["occurred_at"]).astimezone(ROME), _utc(r["recorded_at"]).astimezone(ROME)
    return {"caso": case_id, "numero": r["seq"], "tipo": r["kind"], "tipo_etichetta": kinds.get(r["kind"], r["kind"]),
            "avvenuto_il": occurred, "avvenuto_il_testo": format_datetime(occurred),
            "partecipanti": list(r["participants"] or []), "testo": r["text"],
            "classe": CLASS_LABELS[FieldClass(r["data_class"])], "autore": r["author"],
            "ruolo_autore": r["author_role"], "registrato_il": recorded, "rettifica_di": r["supersedes"],
            "rettificata_da": r["superseded_by"]}
