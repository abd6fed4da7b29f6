"""The Ambiti an instance holds, as the CLI (and later the pages) show them."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from config.locate import SETTINGS_FILES, resolve
from domain.conditions import AmbitoScope
from domain.errors import NotFound
from store import reference


def ambito_scope(engine: Engine, code: str) -> AmbitoScope:
    """The Ambito `code` as the access module and the tallies bound by it; NotFound if unknown."""
    found, comuni, default = reference.ambito_comuni(engine, code)
    if found is None:
        raise NotFound(f"Ambito «{code}» inesistente (legami ambito list)")
    return AmbitoScope(found, comuni, default)


def ambiti_summary(engine: Engine) -> list[dict[str, Any]]:
    counts = reference.ambito_counts(engine)
    return [{"codice": a.code, "nome": a.name, "predefinito": bool(a.is_default),
             "comuni": counts.get(a.code, {}).get("comuni", 0), "distretti": counts.get(a.code, {}).get("distretti", 0),
             "sub_ambiti": counts.get(a.code, {}).get("sub_ambiti", 0),
             "enti_gestori": counts.get(a.code, {}).get("enti_gestori", 0)}
            for a in reference.ambiti(engine)]


def ambito_detail(engine: Engine, code: str) -> dict[str, Any]:
    """One Ambito: its distretti and managing bodies (each with its comuni), notes, and the settings files that
    apply to it by the inheritance rule (config/locate.py)."""
    a = reference.district(engine, code)
    if a is None:
        raise NotFound(f"Ambito «{code}» inesistente (legami ambito list)")
    comuni = reference.comuni_of_ambito(engine, code)
    enti = reference.enti_gestori(engine, code)
    settings = {name: dict(zip(("livello", "percorso"), (lvl, str(path))))
                for name in SETTINGS_FILES for lvl, path in [resolve(name, a.source_dir)]}
    return {
        "codice": a.code, "nome": a.name, "predefinito": bool(a.is_default), "capofila": a.lead_istat,
        "ufficio_di_piano": a.planning_office_email,
        "distretti": [{"nome": d, "comuni": sum(1 for c in comuni if c.distretto == d)}
                      for d in reference.distretti(engine, code)],
        "distretti_provvisori": bool(a.distretti_provisional),
        "sub_ambiti": [{"nome": n, "comuni": sum(1 for c in comuni if c.sub_ambito == n)}
                       for n in reference.sub_ambiti(engine, code)],
        "enti_gestori": [{"codice": e.codice, "nome": e.nome, "tipo": e.tipo, "email": e.email,
                          "comuni": sum(1 for c in comuni if c.ente_gestore == e.codice),
                          "elenco": [c.istat for c in comuni if c.ente_gestore == e.codice],
                          "nomi": [c.nome for c in comuni if c.ente_gestore == e.codice]} for e in enti],
        "enti_gestori_provvisori": bool(a.enti_gestori_provisional),
        "sub_ambiti_provvisori": bool(a.sub_ambiti_provisional),
        "comuni": [{"istat": c.istat, "nome": c.nome, "sub_ambito": c.sub_ambito, "distretto": c.distretto,
                    "ente_gestore": c.ente_gestore,
                    "popolazione": None if a.popolazione_mancante and not c.popolazione else c.popolazione}
                   for c in comuni],
        "popolazione_mancante": bool(a.popolazione_mancante),
        "note": a.notes, "impostazioni": settings,
    }


def settings_dir(engine: Engine, code: str) -> str | None:
    """The folder Ambito `code` was loaded from (its own settings files, config/locate.py); NotFound if unknown."""
    a = reference.district(engine, code)
    if a is None:
        raise NotFound(f"Ambito «{code}» inesistente (legami ambito list)")
    return a.source_dir


def obligations_of(engine: Engine, code: str) -> list:
    """Ambito `code`'s obligations calendar: its own `obligations.toml`, else the instance's, else the packaged."""
    from config.obligation_files import load_obligations

    return load_obligations(ambito_dir=settings_dir(engine, code))


def reminder_policy_of(engine: Engine, code: str):
    from config.obligation_files import load_reminder_policy

    return load_reminder_policy(ambito_dir=settings_dir(engine, code))


def tally_settings_of(engine: Engine, code: str):
    """Ambito `code`'s threshold and targets (its own `tallies.toml` first): what its tallies use."""
    from config.tally_files import load_tally_settings

    return load_tally_settings(ambito_dir=settings_dir(engine, code))
