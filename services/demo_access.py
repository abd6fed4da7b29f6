"""Demo credentials: one user per role gets a known password so a newcomer can log in to the demo.

Only for synthetic demo databases: refused when LEGAMI_ENVIRONMENT is production. The password is the
same for every demo user and printed by `legami demo`; the administrator `admin.demo` manages accounts
and sees the outbox page (its data role is evaluator: aggregates only).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from domain.workflow import ROLE_LABELS, Role
from services.auth import AccountError, create_admin, set_password
from store import users
from store.uow import reading

DEMO_PASSWORD = "legami-demo-2026"
DEMO_ADMIN = "admin.demo"
ROLES = (Role.SOCIAL_WORKER, Role.SUBAREA_COORDINATOR, Role.PLANNING_OFFICE, Role.CSC_ADMIN, Role.PROVIDER,
         Role.EVALUATOR, Role.HEALTH_ASSESSOR)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    role_label: str
    username: str
    password: str
    scope: str


def demo_logins(engine: Engine, *, environment: str = "development",
                password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """Give the first user of each role (by username) the demo password; create the demo administrator."""
    if environment == "production":
        raise AccountError("le credenziali dimostrative non si impostano in produzione")
    logins: list[DemoLogin] = []
    with reading(engine) as conn:
        firsts = {}
        for role in ROLES:
            found = users.users(conn, role=role.value, exclude=DEMO_ADMIN, order="sub_ambito")
            if found:
                firsts[role] = found[0]
        has_admin = users.user(conn, DEMO_ADMIN, active=None) is not None
    for role, row in firsts.items():
        set_password(engine, row.username, password)  # also lifts a lockout
        scope = f"sub-ambito {row.sub_ambito}" if row.sub_ambito else (
            f"ente {row.provider_codice}" if row.provider_codice else "tutto l'Ambito")
        logins.append(DemoLogin(role.value, ROLE_LABELS[role], row.username, password, scope))
    if not has_admin:
        create_admin(engine, DEMO_ADMIN, f"{DEMO_ADMIN}@example.org", password, full_name="Amministratore demo")
    else:
        set_password(engine, DEMO_ADMIN, password)
    logins.append(DemoLogin("admin", "amministratore (utenze, posta in uscita)", DEMO_ADMIN, password,
                            "solo dati aggregati"))
    return logins
