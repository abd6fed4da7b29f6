"""Italian keys and values for the JSON and text the CLI prints from services that answer in English (the outbox,
the e-mail dispatch, the demo's summary and logins). The services keep their names; the console speaks Italian."""
from __future__ import annotations

from typing import Any

OUTBOX_STATES = {"pending": "in_coda", "sending": "in_invio", "sent": "inviato", "failed": "fallito"}
OUTBOX_KEYS = {
    "idempotency_key": "chiave_di_idempotenza", "event": "evento", "case_id": "caso", "case_type": "tipo_caso",
    "recipient": "destinatario", "template": "modello", "status": "stato", "attempts": "tentativi",
    "created_at": "creato_il", "next_attempt_at": "prossimo_tentativo_il", "sent_at": "inviato_il",
    "last_error": "ultimo_errore", "payload": "dati",
}
DISPATCH_KEYS = {
    "sent": "inviati", "retried": "da_ritentare", "failed": "falliti", "partial": "con_destinatari_rifiutati",
    "deferred": "rimasti_in_coda", "reclaimed": "ripresi", "error": "errore",
}
DEMO_KEYS = {
    "year": "anno", "seed": "seme", "scale": "scala", "today": "oggi", "cases": "casi",
    "cases_by_type": "casi_per_tipo", "cases_total": "casi_totali", "outcomes": "esiti", "transitions": "passi",
    "people": "persone", "users": "utenti", "user_examples": "utenti_di_esempio", "notes": "note",
    "elapsed_seconds": "secondi", "closed": "chiusi", "fna_budget": "budget_fna",
    "patti_realisation": "realizzazione_patti", "positive": "positivi", "concluded": "conclusi",
    "share_of_concluded": "quota_sui_conclusi", "share_of_closed": "quota_sui_chiusi", "sad_visits": "visite_sad",
}
LOGIN_KEYS = {"role": "ruolo", "role_label": "ruolo_etichetta", "username": "utente", "password": "password",
              "scope": "ambito"}


def renamed(value: dict[str, Any], keys: dict[str, str], *, nested: bool = False) -> dict[str, Any]:
    """`value` with its keys in Italian (and, with `nested`, those of the dictionaries inside it)."""
    def inner(v: Any) -> Any:
        return renamed(v, keys, nested=True) if nested and isinstance(v, dict) else v

    return {keys.get(k, k): inner(v) for k, v in value.items()}


def outbox_row(row: dict[str, Any]) -> dict[str, Any]:
    italian = renamed(row, OUTBOX_KEYS)
    italian["stato"] = OUTBOX_STATES.get(row.get("status"), row.get("status"))
    if isinstance(italian.get("dati"), dict):
        italian["dati"] = renamed(italian["dati"], OUTBOX_KEYS)
    return italian


def outbox_state(value: str | None) -> str | None:
    """The state asked for with --stato, in Italian (in_coda, …) or as stored (pending, …)."""
    if value is None:
        return None
    stored = {it: en for en, it in OUTBOX_STATES.items()}
    if value in stored:
        return stored[value]
    if value in OUTBOX_STATES:
        return value
    raise ValueError(f"--stato: valore non ammesso «{value}» ({', '.join(OUTBOX_STATES.values())})")
