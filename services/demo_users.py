"""The demo district's staff: social workers and a coordinator per sub-ambito, the offices, one user per
provider and a beneficiary. Usernames come from a fixed pool, so they do not change with the seed."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from domain.demo import ComuneInfo
from domain.demo_people import FEMALE_NAMES, MALE_NAMES, STAFF_SURNAMES, SURNAMES, slug
from domain.workflow import Role
from services.setup import SYSTEM_USER, ensure_user
from store.uow import writing

BENEFICIARY = "beneficiario.demo"


@dataclass(frozen=True)
class DemoStaff:
    workers: dict[str, list[str]]  # sub-ambito -> social workers
    coordinators: dict[str, str]  # sub-ambito -> coordinator
    by_role: dict[str, list[str]]  # role value -> usernames, in creation order
    provider_users: dict[str, str]  # provider codice -> its user


def create_demo_users(engine: Engine, comuni: Sequence[ComuneInfo], sub_ambiti: Sequence[str],
                      providers: Sequence[tuple[str, str]]) -> DemoStaff:
    """Create (or keep) the demo users; `providers` are (codice, nome) in codice order."""
    staff = list(STAFF_SURNAMES)
    random.Random(2019).shuffle(staff)
    spare = [s for s in SURNAMES if s not in staff]  # only for districts with more sub-ambiti
    random.Random(2021).shuffle(spare)
    staff = spare + staff  # popped from the end: the fixed pool first
    first = random.Random(2020)
    taken: set[str] = set()

    def person_name(surname: str) -> str:
        return f"{first.choice(MALE_NAMES + FEMALE_NAMES)} {surname}"

    def username(prefix: str, surname: str) -> str:
        name = f"{prefix}.{slug(surname)}"
        k = 2
        while name in taken:
            name, k = f"{prefix}.{slug(surname)}{k}", k + 1
        taken.add(name)
        return name

    population: Counter[str] = Counter()
    for ci in comuni:
        population[ci.sub_ambito] += ci.popolazione
    biggest = {name for name, _ in population.most_common(3)}
    rows: list[tuple[str, str, str, str | None, str | None]] = []  # username, name, role, sub, provider
    workers: dict[str, list[str]] = {}
    coordinators: dict[str, str] = {}
    for sub in sub_ambiti:
        workers[sub] = []
        for _ in range(5 if sub in biggest else 4):
            surname = staff.pop()
            user = username("as", surname)
            workers[sub].append(user)
            rows.append((user, person_name(surname), Role.SOCIAL_WORKER.value, sub, None))
        user = f"coord.{slug(sub, '-')}"
        taken.add(user)
        coordinators[sub] = user
        rows.append((user, person_name(staff.pop()), Role.SUBAREA_COORDINATOR.value, sub, None))
    for prefix, role, count in (("csc", Role.CSC_ADMIN, 2), ("udp", Role.PLANNING_OFFICE, 2),
                                ("ov", Role.EVALUATOR, 1), ("asst", Role.HEALTH_ASSESSOR, 1)):
        for _ in range(count):
            surname = staff.pop()
            rows.append((username(prefix, surname), person_name(surname), role.value, None, None))
    provider_users = {}
    for codice, nome in providers:
        provider_users[codice] = f"ente.{slug(codice)}"
        rows.append((provider_users[codice], f"Referente SAD - {nome}", Role.PROVIDER.value, None, codice))
    rows.append((BENEFICIARY, "Beneficiario dimostrativo", Role.BENEFICIARY.value, None, None))
    with writing(engine) as conn:
        for user, name, role, sub, codice in rows:
            ensure_user(conn, user, name, f"{user}@example.org", role, sub, codice)
    by_role: dict[str, list[str]] = defaultdict(list)
    for user, _, role, _, _ in rows:
        by_role[role].append(user)
    by_role[Role.SYSTEM.value].append(SYSTEM_USER)
    return DemoStaff(workers, coordinators, dict(by_role), provider_users)
