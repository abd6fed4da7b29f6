"""Loading the obligations calendar and the reminder policy from TOML: by default the file `config.locate` finds
(the Ambito's folder, then LEGAMI_CONFIG_DIR, then the packaged config/*.toml)."""
from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path

from config.locate import locate
from domain.obligations import DeadlineReminderPolicy, Obligation, Schedule, Scope, Step

CONFIG_DIR = Path(__file__).parent


def load_obligations(path: Path | str | None = None, *, ambito_dir: Path | str | None = None) -> list[Obligation]:
    """The obligations the file declares. Parsed once per version of the file (its path, size and modification
    time: an edited file is read again at the next call), since Oggi reads them on every request."""
    path = Path(path) if path else locate("obligations.toml", ambito_dir)
    stat = path.stat()
    return list(_parsed_obligations(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=16)
def _parsed_obligations(path: Path, _mtime_ns: int, _size: int) -> tuple[Obligation, ...]:
    return tuple(_read_obligations(path))


def _read_obligations(path: Path) -> list[Obligation]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    result = []
    for n, item in enumerate(raw.get("obbligo", []), start=1):
        try:
            s = item["scadenza"]
            schedule = Schedule(s["tipo"], s.get("mese"), s.get("giorno"),
                                date.fromisoformat(str(s["il"])) if "il" in s else None)
            steps = tuple(Step(int(p["offset"]), tuple(p["destinatari"]), bool(p.get("escalation", False)))
                          for p in item["passi"])
            result.append(Obligation(item["codice"], item["etichetta"], item["responsabile"], schedule,
                                     Scope(item["ambito"]), steps, item["fatto"], item.get("descrizione", "")))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path.name}, obbligo n. {n}: campo mancante o non valido ({exc})") from None
    return result


def load_reminder_policy(path: Path | str | None = None, *,
                         ambito_dir: Path | str | None = None) -> DeadlineReminderPolicy:
    """The instance's reminder policy (stages, roles) with each case type's own routing
    (`CaseType.reminders`: who is reminded when nobody owns a case, who gets district escalations, recipients
    per deadline kind). The file may override a case type's routing (`[scadenze.senza_assegnatario]` etc.)."""
    from domain.registry import all_case_types

    path = Path(path) if path else locate("reminders.toml", ambito_dir)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["scadenze"]
    without_owner: dict[str, tuple[str, ...]] = {}
    district: dict[str, str] = {}
    by_kind: dict[str, tuple[str, ...]] = {}
    for ct in all_case_types():
        if ct.reminders.without_owner:
            without_owner[ct.case_type] = ct.reminders.without_owner
        if ct.reminders.district_escalation:
            district[ct.case_type] = ct.reminders.district_escalation
        by_kind.update(ct.reminders.by_deadline)
    without_owner.update({k: tuple(v) for k, v in raw.get("senza_assegnatario", {}).items()})
    district.update(raw.get("escalation_distretto", {}))
    by_kind.update({k: tuple(v) for k, v in raw.get("per_tipo", {}).items()})
    return DeadlineReminderPolicy(
        before_working_days=tuple(int(n) for n in raw["giorni_lavorativi_prima"]),
        overdue_role=raw["scadute_a"],
        statutory_role=raw["normative_a"],
        without_owner=without_owner,
        district_escalation=district,
        by_kind=by_kind,
    )
