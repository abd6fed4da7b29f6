"""A synthetic year of work for demos and load checks: users, people and cases of every type.

Every case is opened and advanced through the real `CaseService` (declarations, guards, audit,
deadlines, outbox), with a fixed clock and explicit effective dates, so the result is exactly
what a year of operators' clicks would have produced. Sizes follow DOMAIN.md §10 at scale 1.0.

All people are invented: names are drawn from lists of common Italian first names and
surnames, codici fiscali are computed from those names, a random birth date and the Belfiore
code of a comune of the district; IBANs are random numbers with valid check digits; every
e-mail address is @example.org. Nothing here is, or is meant to be, a real person.

The generator catches nothing: a DomainError means the generator built bad data.
"""
from __future__ import annotations

import random
import re
import time as _time
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from stdnum import iban as stdnum_iban
from stdnum.it.codicefiscale import calc_check_digit

from domain.casetypes.fna import ranking as rk
from domain.italian import ROME
from domain.validation import make_codice_fiscale
from domain.workflow import Role
from services.cases import CaseService
from services.setup import SYSTEM_USER, ensure_user
from store.tables import AppUser, Comune, Provider, SubAmbito, case_t, person_t, transition_t

# ---------------------------------------------------------------------------------------- names

MALE_NAMES = (
    "Marco", "Luca", "Giuseppe", "Giovanni", "Antonio", "Francesco", "Andrea", "Alessandro", "Stefano",
    "Paolo", "Roberto", "Mario", "Davide", "Simone", "Matteo", "Fabio", "Massimo", "Claudio", "Sergio",
    "Angelo", "Pietro", "Luigi", "Carlo", "Franco", "Bruno", "Enrico", "Daniele", "Riccardo", "Federico",
    "Michele", "Alberto", "Gianluca", "Emanuele", "Nicolò", "Cesare", "Ernesto", "Gino", "Renato",
    "Walter", "Silvio", "Ugo", "Aldo", "Tommaso", "Lorenzo", "Samuele", "Gabriele", "Mattia", "Elia",
    "Omar", "Youssef", "Ion", "Adrian",
)
FEMALE_NAMES = (
    "Maria", "Anna", "Giulia", "Francesca", "Chiara", "Sara", "Laura", "Elena", "Valentina", "Paola",
    "Federica", "Silvia", "Roberta", "Alessandra", "Monica", "Barbara", "Cristina", "Elisa", "Marta",
    "Giovanna", "Rosa", "Angela", "Teresa", "Lucia", "Carla", "Franca", "Luisa", "Giuseppina", "Rita",
    "Adele", "Bruna", "Ida", "Emma", "Sofia", "Aurora", "Alice", "Martina", "Irene", "Noemi", "Ilaria",
    "Annalisa", "Daniela", "Patrizia", "Graziella", "Fatima", "Elena", "Mihaela", "Ana", "Nadia",
)
SURNAMES = (
    "Rossi", "Bianchi", "Ferrari", "Colombo", "Ricci", "Marini", "Bonetti", "Cattaneo", "Bertolotti",
    "Donati", "Zucchetti", "Guerini", "Barbieri", "Galli", "Conti", "Fontana", "Moretti", "Villa",
    "Sala", "Brambilla", "Fumagalli", "Riva", "Longhi", "Pagliari", "Bosio", "Tonani", "Premoli",
    "Denti", "Ogliari", "Scotti", "Carioni", "Cremonesi", "Ferla", "Lupi", "Marazzi", "Nichetti",
    "Piloni", "Zanenga", "Vailati", "Bettinelli", "Benzoni", "Dossena", "Ghidotti", "Groppelli",
    "Inzoli", "Lucini", "Manclossi", "Rancati", "Tolasi", "Verdelli", "Bianchessi", "Cazzulani",
    "Fusar", "Guercilena", "Locatelli", "Maffezzoni", "Mariani", "Oldani", "Patrini", "Rossoni",
    "Sangiovanni", "Stabilini", "Tedoldi", "Vanazzi", "Zaninelli", "Agosti", "Baroni", "Cavalli",
    "Dolci", "Esposito", "Russo", "Romano", "Greco", "Bruno", "Gallo", "Costa", "De Luca", "Lombardi",
    "Giordano", "Mancini", "Rizzo", "Lombardo", "Caruso", "D'Angelo", "Serra", "Pellegrini", "Vitale",
    "Testa", "Grassi", "Ferri", "Martini", "Rinaldi", "Gentile", "Monti", "Orlando", "Valentini",
    "Fiore", "Sartori", "Bellini", "Farina", "Parisi", "Sorrentino", "Silvestri", "Morelli", "Pozzi",
    "Bassi", "Rota", "Mazza", "Carminati", "Pezzotti", "Albergoni", "Bonizzi", "Chiodo", "Dedè",
    "El Amrani", "Popescu", "Kaur", "Hoxha",
)
# Staff: a fixed pool, so demo usernames do not change with the seed.
STAFF_SURNAMES = (
    "Arpini", "Benelli", "Calderara", "Dognini", "Erbetti", "Facchi", "Gandolfi", "Lanzoni", "Madoni",
    "Nodari", "Orsenigo", "Pasquini", "Quaini", "Rebecchi", "Scaglioni", "Tirloni", "Uberti", "Vezzoli",
    "Zambelli", "Abbiati", "Barili", "Corbani", "Dellera", "Fanzaga", "Gorla", "Lanfranchi", "Merisi",
    "Noli", "Ottolini", "Pedrini", "Rapelli", "Soffiantini", "Torriani", "Ubbiali", "Valcarenghi",
    "Zecchini", "Alloni", "Brunelli", "Cerioli", "Daccò",
)

# ---------------------------------------------------------------------------------------- texts

PATTO_OBIETTIVI = {
    "inclusione": (
        ("Regolarizzare il pagamento delle utenze domestiche", "bollette pagate nei termini", "tutte le scadenze"),
        ("Partecipare al percorso di educazione finanziaria", "incontri frequentati", "almeno 6 incontri"),
        ("Riattivare la rete di relazioni del nucleo", "attività di gruppo frequentate", "2 al mese"),
        ("Garantire la frequenza scolastica dei figli minori", "assenze non giustificate", "meno di 5 al mese"),
        ("Rientrare dalla morosità del canone di locazione", "mensilità arretrate saldate", "tutte"),
        ("Curare l'accesso ai servizi sanitari del nucleo", "visite programmate effettuate", "100%"),
    ),
    "autonomia": (
        ("Completare un tirocinio di inclusione in azienda", "mesi di tirocinio svolti", "almeno 3"),
        ("Iscriversi al centro per l'impiego e sostenere colloqui", "colloqui sostenuti", "almeno 4"),
        ("Conseguire un attestato di formazione professionale", "attestato conseguito", "sì"),
        ("Ottenere un contratto di lavoro", "contratto firmato", "almeno 6 mesi"),
        ("Conseguire la patente di guida per la mobilità lavorativa", "patente conseguita", "sì"),
    ),
}
RECIPROCITA = (
    ("Supporto alla distribuzione di generi alimentari", "Banco di solidarietà di {c}"),
    ("Cura del verde pubblico", "Comune di {c}"),
    ("Accompagnamento di persone anziane", "Gruppo volontari di {c}"),
    ("Aiuto compiti in oratorio", "Oratorio di {c}"),
    ("Riordino e prestito in biblioteca", "Biblioteca comunale di {c}"),
    ("Pulizia di sentieri e argini", "Associazione ambientalista di {c}"),
    ("Supporto alla mensa solidale", "Mensa solidale di {c}"),
)
BISOGNI = (
    "perdita del lavoro e arretrati nelle utenze", "sfratto per morosità incolpevole in corso",
    "reddito insufficiente per un nucleo numeroso", "isolamento sociale dopo una separazione",
    "debiti accumulati e difficoltà a gestire il bilancio familiare", "disoccupazione di lunga durata",
)
RISORSE = (
    "buona motivazione e rete parentale disponibile", "competenze manuali e disponibilità al volontariato",
    "figli adulti di supporto", "esperienza lavorativa pregressa nella logistica",
    "buona conoscenza della lingua italiana e patente B", "legami con la parrocchia del paese",
)
AVANZAMENTO = (
    "impegni rispettati, buona partecipazione", "qualche assenza giustificata, andamento regolare",
    "progressi evidenti sugli obiettivi", "andamento discontinuo, concordato un rinforzo",
    "attività di reciprocità svolte con continuità", "rientro dalla morosità in corso",
)
SAD_OBIETTIVI = (
    "Mantenere la permanenza al domicilio", "Garantire l'igiene personale quotidiana",
    "Sostenere il caregiver familiare", "Prevenire l'isolamento sociale", "Garantire un'alimentazione adeguata",
    "Mantenere l'autonomia negli spostamenti in casa",
)
SERVIZI = ("igiene_personale", "pasti", "cura_ambiente", "accompagnamento", "socializzazione")
DOCUMENTI = (
    "certificazione L. 104/92 art. 3 c. 3", "verbale di invalidità con indennità di accompagnamento",
    "documento d'identità del caregiver", "contratto dell'assistente personale", "attestazione ISEE completa",
)

PATTO_FATES = (  # (final state aimed at, weight at scale 1); the order is the priority at small scales
    ("closed", 52), ("active", 48), ("not_admitted", 9), ("drafting", 8), ("interrupted", 9), ("referred", 4),
    ("intake", 7), ("withdrawn", 5), ("archived", 6), ("suspended", 4), ("under_review", 5),
)
FNA_FATES = (
    ("eligible", 246), ("rejected", 18), ("archived", 12), ("withdrawn", 9), ("accepted_after_notice", 3),
    ("info_answered", 12),
)
SAD_FATES = (
    ("active", 196), ("closed", 24), ("interrupted", 22), ("suspended", 10), ("referred", 6), ("withdrawn", 12),
    ("careplan", 6), ("not_admitted", 10), ("assessment", 6), ("voucher_issued", 6), ("archived", 6),
    ("under_review", 4), ("provider_chosen", 3), ("changed_provider", 9),
)
BASE_PATTI, BASE_FNA, BASE_SAD = 160, 300, 340
FNA_BUDGET = Decimal(450000)
TARIFFA_MAX = Decimal("23.50")


# ---------------------------------------------------------------------------------------- helpers


def _slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", sep, plain).strip(sep)


def _add_months(d: date, n: int) -> date:
    years, month0 = divmod(d.month - 1 + n, 12)
    return date(d.year + years, month0 + 1, min(d.day, 28))


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return _add_months(d.replace(day=1), 1)


def _review_day(target: date, not_before: date) -> date:
    """A day between the 11th and the 28th (the 1st-10th are for the providers' monthly logs) near
    `target`, the earlier one when it is not before `not_before`."""
    if 11 <= target.day <= 28:
        return target
    if target.day > 28:
        return target.replace(day=28)
    earlier = (target.replace(day=1) - timedelta(days=3)).replace(day=28)
    return earlier if earlier >= not_before else target.replace(day=11)


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _allocate(table: tuple[tuple[str, int], ...], n: int) -> list[str]:
    """n fates in the table's proportions; at small n one of each, in the table's order, first."""
    names = [name for name, _ in table]
    counts = dict.fromkeys(names, 0)
    for name in names[:n]:
        counts[name] = 1
    rest = n - sum(counts.values())
    if rest > 0:
        total = sum(w for _, w in table)
        quotas = [(name, rest * w / total) for name, w in table]
        for name, q in quotas:
            counts[name] += int(q)
        left = rest - sum(int(q) for _, q in quotas)
        by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i][1] - int(quotas[i][1])), i))
        for i in by_remainder[:left]:
            counts[quotas[i][0]] += 1
    return [name for name in names for _ in range(counts[name])]


@dataclass
class _Run:
    """One case being driven: its id and the date of its last step."""

    id: int
    last: date
    alive: bool = True


@dataclass(order=True)
class _Ev:
    on: date
    prio: int  # 0: provider's monthly log, before anything else that day
    seq: int
    transition: str = field(compare=False)
    user: str = field(compare=False)
    data: Any = field(compare=False, default=None)
    reason: str | None = field(compare=False, default=None)


@dataclass
class _ComuneInfo:
    istat: str
    belfiore: str
    nome: str
    popolazione: int
    sub_ambito: str


@dataclass
class _ProviderInfo:
    codice: str
    nome: str
    comuni: frozenset[str]
    user: str = ""
    active_from: date | None = None
    operators: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- generator


def generate_demo(engine: Engine, *, year: int = 2026, seed: int = 7, scale: float = 1.0,
                  today: date | None = None) -> dict:
    """Fill an initialised database with a synthetic year of work; returns a summary.

    `today` (default: the earlier of today and 31 December of `year`) is the day the demo stops:
    no step is dated after it. It may not be after the real date (dates of birth and of the ISEE
    declarations are refused when in the future).
    """
    started = _time.perf_counter()
    today = today or min(date.today(), date(year, 12, 31))
    if today > date.today():
        raise ValueError(f"la data di fine della demo ({today:%d/%m/%Y}) non può essere nel futuro")
    if scale < 0:
        raise ValueError("la scala non può essere negativa")
    demo = _Demo(engine, year=year, seed=seed, scale=scale, today=today)
    demo.check_database()
    demo.create_users()
    demo.run()
    return demo.summary(_time.perf_counter() - started)


class _Demo:
    def __init__(self, engine: Engine, *, year: int, seed: int, scale: float, today: date):
        self.engine = engine
        self.year, self.seed, self.scale, self.today = year, seed, scale, today
        self.now = datetime.combine(today, time(18, 0), ROME)
        self.svc = CaseService(engine, clock=lambda: self.now)
        self.rng = random.Random(seed)
        self.visits = 0
        self._actors: dict[str, Any] = {}
        self._cfs: set[str] = set()
        self._seq = 0
        self.notes: list[str] = []
        self._load_reference()

    # ------------------------------------------------------------------ reference data and users

    def _load_reference(self) -> None:
        c, p, s = Comune.__table__, Provider.__table__, SubAmbito.__table__
        with self.engine.connect() as conn:
            comuni = conn.execute(sa.select(c.c.istat, c.c.belfiore, c.c.nome, c.c.popolazione, c.c.sub_ambito)
                                  .order_by(c.c.istat)).all()
            providers = conn.execute(sa.select(p.c.codice, p.c.nome, p.c.comuni).order_by(p.c.codice)).all()
            self.sub_ambiti = [r.nome for r in conn.execute(sa.select(s.c.nome).order_by(s.c.nome))]
        self.comuni = [_ComuneInfo(r.istat, r.belfiore, r.nome, r.popolazione or 1, r.sub_ambito) for r in comuni]
        self.comune = {ci.istat: ci for ci in self.comuni}
        self.providers = [_ProviderInfo(r.codice, r.nome, frozenset(r.comuni or ())) for r in providers]
        self._weights = [ci.popolazione for ci in self.comuni]
        crema = [ci for ci in self.comuni if ci.nome.lower() == "crema"]
        self.hospital_belfiore = crema[0].belfiore if crema else None

    def check_database(self) -> None:
        with self.engine.connect() as conn:
            cases = conn.execute(sa.select(sa.func.count()).select_from(case_t)).scalar_one()
            system = conn.execute(sa.select(AppUser.__table__.c.username)
                                  .where(AppUser.__table__.c.username == SYSTEM_USER)).first()
        if not self.comuni or system is None:
            raise ValueError("database non inizializzato: eseguire prima «legami init»")
        if cases:
            raise ValueError(f"il database contiene già {cases} casi: la demo va generata su un database nuovo")
        self.cal = self.svc.calendar(self.svc.policy_on(date(self.year, 1, 1)))

    def create_users(self) -> None:
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
            name = f"{prefix}.{_slug(surname)}"
            k = 2
            while name in taken:
                name, k = f"{prefix}.{_slug(surname)}{k}", k + 1
            taken.add(name)
            return name

        population = Counter()
        for ci in self.comuni:
            population[ci.sub_ambito] += ci.popolazione
        biggest = {name for name, _ in population.most_common(3)}
        rows: list[tuple[str, str, str, str | None, str | None]] = []  # username, name, role, sub, provider
        self.workers: dict[str, list[str]] = {}
        self.coord: dict[str, str] = {}
        for sub in self.sub_ambiti:
            self.workers[sub] = []
            for _ in range(5 if sub in biggest else 4):
                surname = staff.pop()
                user = username("as", surname)
                self.workers[sub].append(user)
                rows.append((user, person_name(surname), Role.SOCIAL_WORKER.value, sub, None))
            user = f"coord.{_slug(sub, '-')}"
            taken.add(user)
            self.coord[sub] = user
            rows.append((user, person_name(staff.pop()), Role.SUBAREA_COORDINATOR.value, sub, None))
        offices: dict[str, list[str]] = defaultdict(list)
        for prefix, role, count in (("csc", Role.CSC_ADMIN, 2), ("udp", Role.PLANNING_OFFICE, 2),
                                    ("ov", Role.EVALUATOR, 1), ("asst", Role.HEALTH_ASSESSOR, 1)):
            for _ in range(count):
                surname = staff.pop()
                offices[prefix].append(username(prefix, surname))
                rows.append((offices[prefix][-1], person_name(surname), role.value, None, None))
        self.csc, self.udp = offices["csc"], offices["udp"]
        self.evaluator, self.health = offices["ov"][0], offices["asst"][0]
        for prov in self.providers:
            prov.user = f"ente.{_slug(prov.codice)}"
            rows.append((prov.user, f"Referente SAD - {prov.nome}", Role.PROVIDER.value, None, prov.codice))
        self.beneficiary = "beneficiario.demo"
        rows.append((self.beneficiary, "Beneficiario dimostrativo", Role.BENEFICIARY.value, None, None))
        with self.engine.begin() as conn:
            for user, name, role, sub, codice in rows:
                ensure_user(conn, user, name, f"{user}@example.org", role, sub, codice)
        self.users_by_role: dict[str, list[str]] = defaultdict(list)
        for user, _, role, _, _ in rows:
            self.users_by_role[role].append(user)
        self.users_by_role[Role.SYSTEM.value].append(SYSTEM_USER)

    def actor(self, username: str):
        if username not in self._actors:
            self._actors[username] = self.svc.actor(username)
        return self._actors[username]

    # ------------------------------------------------------------------ calendar

    def wd(self, d: date, n: int, comune: str | None = None) -> date:
        return self.cal.add_working_days(d, n, comune)

    def nwd(self, d: date, comune: str | None = None) -> date:
        return self.cal.next_working_day(d, comune)

    def pwd(self, d: date, comune: str | None = None) -> date:
        while not self.cal.is_working_day(d, comune):
            d -= timedelta(days=1)
        return d

    @property
    def first_day(self) -> date:
        return self.nwd(date(self.year, 1, 2))

    # ------------------------------------------------------------------ driving the service

    def open(self, case_type: str, user: str, on: date, data: dict, *, kind: str | None = None,
             comune: str | None = None, related: int | None = None) -> _Run | None:
        if on > self.today:
            return None
        case_id = self.svc.open_case(case_type=case_type, actor=self.actor(user), data=data, kind=kind,
                                     comune_istat=comune, related_case_id=related, effective_at=on)
        return _Run(case_id, on)

    def step(self, run: _Run | None, transition: str, user: str, on: date, data: Any = None,
             reason: str | None = None) -> bool:
        if run is None or not run.alive:
            return False
        if on > self.today:
            run.alive = False
            return False
        if on < run.last:
            raise AssertionError(f"demo: caso {run.id}, «{transition}» il {on} precede il passo del {run.last}")
        payload = data() if callable(data) else data
        self.svc.advance(case_id=run.id, transition=transition, actor=self.actor(user), data=payload,
                         effective_at=on, reason=reason)
        run.last = on
        return True

    def play(self, run: _Run | None, events: list[_Ev]) -> None:
        for ev in sorted(events):
            if not self.step(run, ev.transition, ev.user, ev.on, ev.data, ev.reason):
                return

    def ev(self, on: date, transition: str, user: str, data: Any = None, reason: str | None = None,
           prio: int = 1) -> _Ev:
        self._seq += 1
        return _Ev(on, prio, self._seq, transition, user, data, reason)

    # ------------------------------------------------------------------ synthetic people

    def pick_comune(self, rng: random.Random) -> _ComuneInfo:
        return rng.choices(self.comuni, weights=self._weights)[0]

    def persona(self, rng: random.Random, comune: _ComuneInfo, age_lo: int, age_hi: int) -> dict:
        oldest = date(date.today().year - 98, 1, 1)  # the codice fiscale keeps only two digits of the year
        for _ in range(200):
            sex = rng.choice("MF")
            nome = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
            cognome = rng.choice(SURNAMES)
            birth = self.today - timedelta(days=rng.randint(age_lo * 365 + 1, age_hi * 365 + 300))
            birth = max(birth, oldest)
            place = comune.belfiore
            if self.hospital_belfiore and rng.random() < 0.3:
                place = self.hospital_belfiore
            elif rng.random() < 0.1:
                place = rng.choice(self.comuni).belfiore
            cf = make_codice_fiscale(cognome, nome, birth, sex, place)
            if cf not in self._cfs:
                self._cfs.add(cf)
                person = {"codice_fiscale": cf, "cognome": cognome, "nome": nome, "data_nascita": birth}
                if rng.random() < 0.3:
                    person["email"] = f"{_slug(nome)}.{_slug(cognome)}.{len(self._cfs)}@example.org"
                return person
        raise AssertionError("demo: impossibile generare un codice fiscale nuovo")

    def isee(self, rng: random.Random, on: date, tipo: str, lo: float, hi: float) -> dict:
        start = max(date(on.year, 1, 2), on - timedelta(days=150))
        dsu = start + timedelta(days=rng.randint(0, max(0, (on - start).days)))
        code = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(9))
        return {"tipo": tipo, "valore": _money(rng.uniform(lo, hi)), "data_dsu": dsu,
                "protocollo": f"INPS-ISEE-{dsu.year}-{code}-{rng.randint(0, 99):02d}", "difformita": False}

    @staticmethod
    def iban(rng: random.Random) -> str:
        body = f"{rng.randint(1000, 9999):05d}{rng.randint(10000, 99999):05d}{rng.randint(0, 10**12 - 1):012d}"
        bban = calc_check_digit(body) + body  # the Italian CIN uses the codice fiscale's tables
        return f"IT{stdnum_iban.calc_check_digits('IT00' + bban)}{bban}"

    @staticmethod
    def full_name(person: dict) -> str:
        return f"{person['nome']} {person['cognome']}"

    def place(self, plan: Callable[[date], dict], window: tuple[str, str | None] | None, end: str | None,
              rng: random.Random, earliest: date | None = None, cohort: tuple[date, date] | None = None,
              cohort_share: float = 0.0) -> dict:
        """Choose the opening date so that the case is in the wanted state on `today`.

        `plan(opening) -> marks` lays the case out from an opening date. A terminal fate ends on
        marks[end] no later than today; otherwise today falls in [marks[window[0]], marks[window[1]]).
        `cohort` is a span of opening dates used for a share of the cases (e.g. January's take-overs).
        """
        r0 = earliest or self.first_day
        if r0 > self.today:
            return plan(r0)
        span = (self.today - r0).days
        if cohort and rng.random() < cohort_share:
            lo, hi = max(cohort[0], r0), min(cohort[1], self.today)
            if lo <= hi:
                marks = plan(self._working(lo + timedelta(days=rng.randint(0, (hi - lo).days)), r0))
                if end is None or (marks.get(end) is not None and marks[end] <= self.today):
                    return marks
        ref_day = self._working(max(r0, self.today - timedelta(days=120)), r0)
        ref = plan(ref_day)  # offsets as they are late in the year (no waiting for the first providers)
        marks = ref
        for _ in range(12):  # working days and holidays shift the plan a little: try a few openings
            if end is not None:
                if ref.get(end) is None:
                    r = self.today - timedelta(days=rng.randint(0, span))
                else:
                    last = self.today - (ref[end] - ref_day)
                    r = r0 + timedelta(days=rng.randint(0, max(0, (last - r0).days)))
            else:
                first, stop = window
                if ref.get(first) is None:
                    r = self.today - timedelta(days=rng.randint(0, span))
                else:
                    lo = (ref[first] - ref_day).days
                    hi = (ref[stop] - ref_day).days - 1 if stop and ref.get(stop) else span
                    lo = min(lo, span)
                    hi = min(max(hi, lo), span)
                    r = self.today - timedelta(days=rng.randint(lo, hi))
            marks = plan(self._working(r, r0))
            if self._placed(marks, window, end):
                break
        return marks

    def _placed(self, marks: dict, window: tuple[str, str | None] | None, end: str | None) -> bool:
        if end is not None:
            return marks.get(end) is not None and marks[end] <= self.today
        first, stop = window
        if marks.get(first) is None or marks[first] > self.today:
            return False
        return stop is None or marks.get(stop) is None or self.today < marks[stop]

    def _working(self, r: date, r0: date) -> date:
        w = self.pwd(r)
        return w if w >= r0 else self.nwd(r0)

    # ------------------------------------------------------------------ orchestration

    def n(self, base: int) -> int:
        return max(0, round(base * self.scale))

    def run(self) -> None:
        if self.today < date(self.year, 1, 2):
            return
        self.adhesions()
        sad_people = self.sad_cases()
        self.patti()
        self.fna(sad_people)

    # ================================================================== SAD: provider adhesions

    def adhesions(self) -> None:
        """27 Feb 2019 minutes pattern: all invited; most answer and sign; a few still to answer."""
        rng = random.Random(self.rng.getrandbits(64))
        y = self.year
        invited_on = self.first_day
        start = date(y, 1, 19)
        while start.weekday() != 0:  # the service starts on a Monday, as on 1 April 2019
            start += timedelta(days=1)
        self.sad_start = start
        everyone = frozenset(ci.istat for ci in self.comuni)
        order = list(self.providers)
        rng.shuffle(order)
        first_wave: list[_ProviderInfo] = []
        covered: set[str] = set()
        while covered != everyone and order:  # greedy cover first: every comune has a provider on day one
            best = max(order, key=lambda p: len(p.comuni - covered))
            if not best.comuni - covered:
                break
            first_wave.append(best)
            covered |= best.comuni
            order.remove(best)
        n = len(self.providers)
        wave_size = max(len(first_wave), round(n * 5 / 11))
        while len(first_wave) < wave_size and order:
            first_wave.append(order.pop(0))
        late_signers = [order.pop(0) for _ in range(min(len(order), round(n * 2 / 11)))]
        answered_only = [order.pop(0) for _ in range(min(len(order), round(n * 1 / 11)))]
        declined = [order.pop(0) for _ in range(min(len(order), round(n * 1 / 11)))]
        never = order  # still INVITED: CSC chases them
        for prov in self.providers:
            prov.operators = [f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)[0]}."
                              for _ in range(rng.randint(6, 12))]
        for prov in self.providers:  # in codice order, so case ids are stable
            csc = rng.choice(self.csc)
            run = self.open("sad_adesione", csc, invited_on, {"ente": prov.codice, "inviato_il": invited_on})
            if run is None:
                continue
            validity = date(y, 12, 31)
            if prov in first_wave:
                answered = invited_on + timedelta(days=rng.randint(2, 8))
                signed = max(answered + timedelta(days=2), self.pwd(start - timedelta(days=rng.randint(3, 10))))
                activated = start
            elif prov in late_signers:
                answered = invited_on + timedelta(days=rng.randint(5, 14))
                signed = self.nwd(start + timedelta(days=rng.randint(14, 45)))
                activated = self.wd(signed, rng.randint(1, 5))
            elif prov in answered_only:
                answered, signed, activated = invited_on + timedelta(days=rng.randint(8, 14)), None, None
            else:
                answered = signed = activated = None
            if prov in declined:
                self.step(run, "declina", csc, self.nwd(start + timedelta(days=rng.randint(5, 20))),
                          reason="Carenza di operatori per il servizio domiciliare")
                continue
            if prov in never:
                continue
            self.step(run, "rispondi", prov.user, answered,
                      {"referente": f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}",
                       "risposto_il": answered})
            if signed is None:
                continue
            self.step(run, "firma", csc, signed, {"firmato_il": signed, "valido_fino": validity,
                                                  "comuni": sorted(prov.comuni)})
            if self.step(run, "attiva", SYSTEM_USER if activated == start else csc, activated):
                prov.active_from = activated

    def providers_for(self, istat: str, on: date, exclude: str | None = None) -> list[_ProviderInfo]:
        return [p for p in self.providers if p.active_from is not None and p.active_from <= on
                and istat in p.comuni and p.codice != exclude]

    def first_provider_day(self, istat: str) -> date | None:
        days = [p.active_from for p in self.providers if p.active_from and istat in p.comuni]
        return min(days) if days else None

    # ================================================================== SAD: beneficiaries' cases

    def sad_cases(self) -> list[tuple[dict, _ComuneInfo]]:
        fates = _allocate(SAD_FATES, self.n(BASE_SAD))
        self.rng.shuffle(fates)
        people = []
        for fate in fates:
            rng = random.Random(self.rng.getrandbits(64))
            people.append(self.sad_case(fate, rng))
        return people

    def pattern(self, rng: random.Random) -> tuple[tuple[int, ...], int, int]:
        """(weekdays, visits a day, minutes a visit)."""
        u = rng.random()
        if u < 0.14:
            return (0, 1, 2, 3, 4, 5, 6), 2, 45  # morning and evening care, every day
        if u < 0.28:
            return (0, 1, 2, 3, 4, 5), 2, 45
        if u < 0.56:
            return (0, 1, 2, 3, 4, 5), 1, rng.choice((45, 60))
        if u < 0.85:
            return (0, 1, 2, 3, 4), 1, rng.choice((60, 60, 90))
        if u < 0.95:
            return (0, 2, 4), 1, rng.choice((60, 90))
        return (1, 4), 1, 120

    @staticmethod
    def weekly_hours(pattern: tuple[tuple[int, ...], int, int]) -> Decimal:
        days, per_day, minutes = pattern
        return _money(Decimal(len(days) * per_day * minutes) / 60)

    def sad_case(self, fate: str, rng: random.Random) -> tuple[dict, _ComuneInfo]:
        comune = self.pick_comune(rng)
        istat, sub = comune.istat, comune.sub_ambito
        worker = rng.choice(self.workers[sub])
        elderly = rng.random() < 0.88
        person = self.persona(rng, comune, 66, 98) if elderly else self.persona(rng, comune, 35, 64)
        urgent = rng.random() < 0.12
        pat = self.pattern(rng)
        obiettivi = rng.sample(SAD_OBIETTIVI, rng.randint(1, 3))
        servizi = sorted(set(rng.sample(SERVIZI, rng.randint(1, 3))) | {"igiene_personale"})
        adl = rng.randint(1, 6)
        p = {
            "v": rng.randint(1, 2) if urgent else rng.randint(1, 8), "pai": rng.randint(1, 4),
            "choice": rng.randint(0, 4),
            "voucher": rng.randint(0, 3) if fate != "provider_chosen" else rng.randint(1, 3),
            "fv": rng.randint(1, 2) if urgent else rng.randint(1, 5), "u": rng.random(),
            "early_wd": rng.randint(2, 8), "early_at_referral": rng.random() < 0.5,
            "susp": fate == "suspended" or (fate in ("active", "closed", "withdrawn") and rng.random() < 0.12)
            or (fate == "interrupted" and rng.random() < 0.35),
            "susp_at": rng.randint(30, 150), "susp_len": rng.randint(7, 45),
            "change": fate == "changed_provider", "change_k": rng.randint(1, 4), "change_day": rng.randint(0, 2),
            "end_at": rng.randint(45, 240), "close_after": rng.randint(3, 20),
            "withdraw_before": fate == "withdrawn" and rng.random() < 0.4,
        }
        terminal = {"closed": "close", "interrupted": "end", "withdrawn": "end", "not_admitted": "end",
                    "archived": "end"}
        windows = {"referred": ("r", "v"), "assessment": ("v", "pa"), "careplan": ("pa", "c"),
                   "provider_chosen": ("c", "vo"), "voucher_issued": ("vo", "fv"), "active": ("fv", None),
                   "changed_provider": ("fv", None), "suspended": ("sp", "rs"), "under_review": ("end", "close")}

        def plan(r: date) -> dict:
            m: dict[str, Any] = {"r": r}
            m["v"] = v = self.wd(r, p["v"], istat)
            m["pa"] = pa = self.wd(v, p["pai"], istat)
            if fate in ("not_admitted", "archived"):
                m["end"] = self.wd(r if p["early_at_referral"] else v, p["early_wd"], istat)
                return m
            if fate == "withdrawn" and p["withdraw_before"]:
                m["end"] = self.wd(pa, p["early_wd"] // 2 + 1, istat)
                return m
            c = pa + timedelta(days=p["choice"])
            first = self.first_provider_day(istat)
            if first is None:  # no provider active yet (or none serves the comune)
                m["c"] = m["vo"] = m["fv"] = m["end"] = m["close"] = None
                return m
            m["c"] = c = self.nwd(max(c, first), istat)
            m["vo"] = vo = self.wd(c, p["voucher"], istat) if p["voucher"] else c
            m["fv"] = fv = self.wd(vo, p["fv"], istat)
            m["sp"] = sp = self.nwd(fv + timedelta(days=p["susp_at"]), istat)
            m["rs"] = self.nwd(sp + timedelta(days=p["susp_len"]), istat)
            m["end"] = x = self.nwd(fv + timedelta(days=p["end_at"]), istat)
            if fate == "interrupted" and p["susp"]:
                m["sp"] = sp = self.pwd(x - timedelta(days=min(p["susp_len"], 20)), istat)
                m["rs"] = None
            elif p["susp"] and m["rs"] >= x - timedelta(days=5) and fate not in ("suspended",):
                m["rs"] = self.pwd(x - timedelta(days=6), istat)
                m["sp"] = self.pwd(min(sp, m["rs"] - timedelta(days=7)), istat)
            if fate in ("closed", "under_review"):
                m["close"] = self.nwd(x + timedelta(days=p["close_after"]), istat)
            return m

        # users already known to the services, taken over by the voucher scheme as it starts
        cohort = (self.first_day, self.sad_start - timedelta(days=5))
        if fate in terminal:
            marks = self.place(plan, None, terminal[fate], rng, cohort=cohort,
                               cohort_share=0.5 if fate in ("closed", "interrupted") else 0.0)
        else:
            share = 0.85 if fate in ("active", "changed_provider") else 0.0
            marks = self.place(plan, windows[fate], None, rng, cohort=cohort, cohort_share=share)
        r = marks["r"]
        run = self.open("sad_caso", worker, r, {"persona": person, "fonte": rng.choice(
            ("cittadino", "medico_di_base", "dimissione_protetta", "servizi_sociali")), "urgente": urgent},
            comune=istat)
        if run is None:
            return person, comune
        evs: list[_Ev] = []
        v, pa = marks["v"], marks["pa"]
        if fate in ("not_admitted", "archived") and p["early_at_referral"]:
            evs.append(self.ev(marks["end"], "non_ammette" if fate == "not_admitted" else "archivia", worker,
                               reason=_sad_early_reason(fate, rng)))
            return self._play_and_return(run, evs, person, comune)
        isee_val = _money(rng.uniform(3000, 38000)) if rng.random() < 0.8 else None
        valuta = {"visita_domiciliare_il": v, "adl": adl, "iadl": min(8, adl + rng.randint(0, 3))}
        if isee_val is not None:
            valuta["isee_valore"] = isee_val
        evs.append(self.ev(v, "valuta", worker, valuta))
        if fate in ("not_admitted", "archived"):
            evs.append(self.ev(marks["end"], "non_ammette" if fate == "not_admitted" else "archivia", worker,
                               reason=_sad_early_reason(fate, rng)))
            return self._play_and_return(run, evs, person, comune)
        hours = self.weekly_hours(pat)
        evs.append(self.ev(pa, "redigi_pai", worker, {
            "obiettivi": obiettivi, "servizi": servizi, "ore_settimanali": hours,
            "revisione_il": pa + timedelta(days=30)}))
        if fate == "withdrawn" and p["withdraw_before"]:
            evs.append(self.ev(marks["end"], "rinuncia", worker, {"dichiarazione_del": marks["end"]}))
            return self._play_and_return(run, evs, person, comune)
        c = marks["c"]
        if c is None:  # dates do not allow a choice yet
            if any(pr.active_from for pr in self.providers):
                self.notes.append(f"SAD: nessun ente attivo serve il comune di {comune.nome}")
            return self._play_and_return(run, evs, person, comune)
        options = self.providers_for(istat, c)
        prov = options[int(p["u"] * len(options))]
        evs.append(self.ev(c, "scegli_ente", worker, {"ente": prov.codice, "modulo_firmato_il": c}))
        rate = _money(rng.choice((19.5, 20.8, 21.5, 22.0, 22.9, 23.5)))
        monthly_hours = (hours * 52 / 12).quantize(Decimal("0.5"))
        share = Decimal(0)
        if isee_val is not None and isee_val > 8000:
            share = min(_money(monthly_hours * rate * Decimal("0.35")), _money((isee_val - 8000) / 400))
        csc = rng.choice(self.csc)

        def voucher(on: date) -> dict:
            return {"ore_mensili": monthly_hours, "tariffa_oraria": rate, "quota_utente": share,
                    "valido_dal": on, "valido_al": max(date(self.year, 12, 31), on + timedelta(days=30))}

        vo, fv = marks["vo"], marks["fv"]
        evs.append(self.ev(vo, "emetti_voucher", csc, voucher(vo)))
        patterns = [(fv, pat)]
        main_op = {pr.codice: rng.choice(pr.operators) for pr in self.providers}

        def visit(on: date, pr: _ProviderInfo, pattern: tuple) -> dict:
            op = main_op[pr.codice] if rng.random() < 0.8 else rng.choice(pr.operators)
            return {"data": on, "operatore": op, "minuti": pattern[2],
                    "servizi": sorted(rng.sample(servizi, min(len(servizi), rng.randint(1, 2))))}

        evs.append(self.ev(fv, "prima_visita", prov.user, {"visita": visit(fv, prov, pat)}))
        self.visits += 1 if fv <= self.today else 0
        # ---- active life: suspension, provider change, end; intervals of ACTIVE with one provider
        leaves: list[tuple[date, str]] = []
        if p["susp"]:
            leaves.append((marks["sp"], "susp"))
        if p["change"]:
            b = self.nwd(_add_months(_month_start(fv), p["change_k"]) + timedelta(days=p["change_day"]), istat)
            if p["susp"] and marks["rs"] and marks["sp"] - timedelta(days=20) < b < marks["rs"] + timedelta(days=20):
                b = self.nwd(_next_month(marks["rs"] + timedelta(days=20)), istat)
            leaves.append((b, "change"))
        if fate in ("closed", "under_review", "interrupted", "withdrawn"):
            leaves.append((marks["end"], "end"))
        leaves.sort()
        intervals: list[tuple[date, date | None, _ProviderInfo]] = []
        visits_until: dict[int, date] = {}  # interval index -> last day + 1 (old voucher closed at month end)
        starts: list[date] = [fv]  # first visits (reviews are counted from them)
        start: date | None = fv
        current = prov
        suspended_until: date | None = None
        for when, what in leaves:
            if start is None:
                break
            if suspended_until is not None and when < suspended_until:
                continue
            if what == "susp":
                intervals.append((start, when, current))
                by_provider = rng.random() < 0.3
                evs.append(self.ev(when, "sospendi", current.user if by_provider else worker,
                                   reason="Ricovero ospedaliero"))
                rs = marks["rs"]
                if rs is None or fate == "interrupted":
                    start = None
                    suspended_until = date.max
                    if fate == "interrupted":
                        evs.append(self.ev(marks["end"], "interrompi", worker, reason="Decesso durante il ricovero"))
                    break
                evs.append(self.ev(rs, "riprendi", worker))
                start, suspended_until = rs, rs
            elif what == "change":
                others = self.providers_for(istat, when, exclude=current.codice)
                if not others:
                    continue
                new = rng.choice(others)
                visits_until[len(intervals)] = max(_month_start(when), start + timedelta(days=1))
                intervals.append((start, when, current))
                evs.append(self.ev(when, "cambia_ente", worker, {
                    "ente": new.codice, "modulo_firmato_il": when - timedelta(days=rng.randint(5, 20))}))
                evs.append(self.ev(when, "emetti_voucher", csc, voucher(when)))
                first_visit = self.wd(when, rng.randint(1, 4), istat)
                current = new
                evs.append(self.ev(first_visit, "prima_visita", new.user, {"visita": visit(first_visit, new, pat)}))
                self.visits += 1 if first_visit <= self.today else 0
                start = first_visit
                starts.append(first_visit)
            else:  # the end of the case
                intervals.append((start, when, current))
                start = None
                if fate in ("closed", "under_review"):
                    evs.append(self.ev(when, "avvia_revisione", worker))
                    evs.append(self.ev(when, "avvia_verifica", worker))
                    reached = len(obiettivi) if rng.random() < 0.7 else rng.randint(0, len(obiettivi) - 1)
                    evs.append(self.ev(marks["close"], "chiudi", worker, {"obiettivi_raggiunti": reached}))
                elif fate == "interrupted":
                    evs.append(self.ev(when, "interrompi", worker, reason=rng.choice((
                        "Decesso del beneficiario", "Inserimento definitivo in RSA",
                        "Trasferimento fuori ambito presso i figli"))))
                else:
                    evs.append(self.ev(when, "rinuncia", worker, {"dichiarazione_del": when}))
        if start is not None:
            intervals.append((start, None, current))
        # ---- PAI reviews: 30 days after each first visit, then about every six months
        for i, first_visit in enumerate(starts):
            t = self.review_day(first_visit + timedelta(days=rng.randint(18, 34)), first_visit + timedelta(days=14),
                                istat)
            limit = starts[i + 1] if i + 1 < len(starts) else None
            while t <= self.today and (limit is None or t < limit):
                inside = any(a + timedelta(days=2) <= t and (b is None or t <= b - timedelta(days=3))
                             for a, b, _ in intervals)
                if inside:
                    evs.append(self.ev(t, "avvia_revisione", worker))
                    data: dict[str, Any] = {"esito_revisione": rng.choice((
                        "PAI confermato", "PAI confermato, obiettivi in linea", "Aggiornate le prestazioni"))}
                    if rng.random() < 0.12:
                        new_pat = self.pattern(rng)
                        patterns.append((t, new_pat))
                        data["ore_settimanali"] = self.weekly_hours(new_pat)
                    evs.append(self.ev(t, "conferma_pai", worker, data))
                t = self.review_day(t + timedelta(days=rng.randint(160, 190)), t + timedelta(days=120), istat)
        patterns.sort(key=lambda x: x[0])
        # ---- monthly visit logs, reported by the 10th of the next month (earlier if the case leaves ACTIVE)
        for index, (a, b, pr) in enumerate(intervals):
            stop_visits = visits_until.get(index, b)
            month = _month_start(a)
            last = (b - timedelta(days=1)) if b else self.today
            while month <= _month_start(last):
                upto = _next_month(month)
                report = upto + timedelta(days=rng.randint(0, 9))
                if b is not None and (report >= b or _month_start(b) == month):
                    report = b
                    upto = min(upto, b)
                if report > self.today:
                    break
                days = []
                d = max(a + timedelta(days=1), month)
                while d < upto and (stop_visits is None or d < stop_visits):
                    pattern = [pt for since, pt in patterns if since <= d][-1]
                    if d.weekday() in pattern[0]:
                        days.extend([(d, pattern)] * pattern[1])
                    d += timedelta(days=1)
                visits = [visit(day, pr, pt) for day, pt in days if rng.random() > 0.03]
                if visits:
                    self.visits += len(visits)
                    evs.append(self.ev(report, "registra_visite", pr.user, {"mese": month, "visite": visits},
                                       prio=0))
                month = _next_month(month)
        return self._play_and_return(run, evs, person, comune)

    def review_day(self, target: date, not_before: date, istat: str) -> date:
        t = _review_day(target, not_before)
        return self.nwd(t, istat) if t.day <= 26 else self.pwd(t, istat)

    def _play_and_return(self, run: _Run, evs: list[_Ev], person: dict, comune: _ComuneInfo):
        self.play(run, evs)
        return person, comune

    # ================================================================== patti gener-attivi

    def patti(self) -> None:
        fates = _allocate(PATTO_FATES, self.n(BASE_PATTI))
        self.rng.shuffle(fates)
        closed_partial: list[tuple[int, dict, _ComuneInfo, date]] = []
        for fate in fates:
            rng = random.Random(self.rng.getrandbits(64))
            self.patto(fate, rng, closed_partial)
        for case_id, person, comune, closed_on in closed_partial[: self.n(5)]:  # renewals: new linked cases
            rng = random.Random(self.rng.getrandbits(64))
            self.patto(rng.choice(("referred", "intake", "drafting")), rng, None,
                       renewal=(case_id, person, comune, closed_on))

    def patto(self, fate: str, rng: random.Random, closed_partial: list | None,
              renewal: tuple[int, dict, _ComuneInfo, date] | None = None) -> None:
        if renewal:
            _, person, comune, _ = renewal
        else:
            comune = self.pick_comune(rng)
            person = self.persona(rng, comune, 19, 64)
        istat, sub = comune.istat, comune.sub_ambito
        worker, coord = rng.choice(self.workers[sub]), self.coord[sub]
        opener = worker if rng.random() < 0.75 else rng.choice(self.csc)
        kind = "autonomia" if rng.random() < 0.4 else "inclusione"
        durations = {"closed": (2, 3, 3, 4, 4, 6, 6), "under_review": (2, 3, 4, 6),
                     "active": (3, 4, 6, 6, 9, 12, 12)}.get(fate, (6, 9, 12))
        p = {
            "assign": rng.randint(1, 9) if rng.random() < 0.9 else rng.randint(11, 14),
            "archive": rng.randint(3, 15), "at_referral": rng.random() < 0.5,
            "decide": rng.randint(4, 13), "sign": rng.randint(5, 18), "start": rng.randint(0, 6),
            "duration": rng.choice(durations), "end_after": rng.randint(35, 160),
            "susp": fate == "suspended" or (fate in ("active", "closed", "interrupted") and rng.random() < 0.14),
            "susp_at": rng.randint(30, 90), "susp_len": rng.randint(12, 55), "close_after": rng.randint(4, 26),
            "gaps": [rng.randint(24, 31) if rng.random() < 0.87 else rng.randint(33, 44) for _ in range(16)],
            "withdraw_drafting": rng.random() < 0.4, "from_susp": rng.random() < 0.35,
        }

        def plan(r: date, duration: int | None = None) -> dict:
            duration = duration or p["duration"]
            m: dict[str, Any] = {"r": r, "a": self.wd(r, p["assign"], istat)}
            if fate == "archived":
                m["end"] = self.wd(r if p["at_referral"] else m["a"], p["archive"], istat)
                return m
            m["d"] = d = self.wd(m["a"], p["decide"], istat)
            if fate == "not_admitted":
                m["end"] = d
                return m
            m["s"] = s = self.wd(d, p["sign"], istat)
            if fate == "withdrawn" and p["withdraw_drafting"]:
                m["end"] = self.wd(d, max(1, p["sign"] // 2), istat)
                return m
            start = s + timedelta(days=p["start"])
            if start.day > 28:
                start = _next_month(start)
            m["inizio"], m["fine"] = start, _add_months(start, duration)
            fine = m["fine"]
            if fate in ("interrupted", "withdrawn"):
                m["end"] = self.pwd(min(s + timedelta(days=p["end_after"]), fine - timedelta(days=3)), istat)
            if p["susp"]:
                limit = m.get("end", fine)
                sp = self.nwd(s + timedelta(days=min(p["susp_at"], max(10, (limit - s).days - 30))), istat)
                rs = self.nwd(sp + timedelta(days=p["susp_len"]), istat)
                if fate == "interrupted" and p["from_susp"]:
                    sp, rs = self.pwd(limit - timedelta(days=min(p["susp_len"], 25)), istat), None
                elif rs >= limit - timedelta(days=5):
                    rs = self.pwd(limit - timedelta(days=6), istat)
                if sp <= s or (rs is not None and rs <= sp):
                    sp = rs = None
                m["sp"], m["rs"] = sp, rs
            if fate in ("closed", "under_review"):
                m["end"] = fine
                m["close"] = self.nwd(fine + timedelta(days=p["close_after"]), istat)
            return m

        windows = {"referred": ("r", "a"), "intake": ("a", "d"), "drafting": ("d", "s"), "active": ("s", "fine"),
                   "suspended": ("sp", "rs"), "under_review": ("fine", "close")}
        if renewal:
            earliest = renewal[3] + timedelta(days=rng.randint(10, 30))
            if earliest > self.today:
                return
            marks = self.place(plan, windows[fate], None, rng, earliest=earliest)
        elif fate in windows:
            if fate == "active" and p["susp"]:
                windows["active"] = ("rs", "fine")
            marks = self.place(plan, windows[fate], None, rng)
        else:
            key = "close" if fate == "closed" else "end"
            duration = p["duration"]
            while duration > 1 and plan(self.first_day, duration)[key] > self.today:
                duration -= 1
            p["duration"] = duration
            marks = self.place(plan, None, key, rng)
        r = marks["r"]
        data = {"persona": person, "fonte": rng.choice(("spontanea", "caritas", "comune", "centro_impiego",
                                                         "terzo_settore")),
                "bisogno": rng.choice(("economico", "abitativo", "lavorativo", "utenze", "relazionale"))}
        if renewal:
            data["patto_precedente"] = renewal[0]
            data["note"] = "Rinnovo dopo verifica con esito parziale"
        run = self.open("patto", opener, r, data, comune=istat)
        if run is None:
            return
        evs: list[_Ev] = []
        a = marks["a"]
        if fate == "archived" and p["at_referral"]:
            evs.append(self.ev(marks["end"], "archivia", worker, reason=rng.choice((
                "Persona non più reperibile", "Bisogno preso in carico da altro servizio"))))
            self.play(run, evs)
            return
        evs.append(self.ev(a, "assegna", coord, {"assegnatario": worker,
                                                 "primo_colloquio_il": max(r, a - timedelta(days=rng.randint(0, 2)))}))
        if fate == "archived":
            evs.append(self.ev(marks["end"], "archivia", worker, reason=rng.choice((
                "La persona non si è presentata ai colloqui", "Trasferimento prima dell'analisi"))))
            self.play(run, evs)
            return
        d = marks["d"]
        if fate == "not_admitted":
            need = rng.choices(("isee", "residenza", "altro"), weights=(7, 2, 1))[0]
            evs.append(self.ev(d, "non_ammette", coord, {"requisito_mancante": need, "comunicata_il": d},
                               reason={"isee": "ISEE oltre la soglia locale", "residenza": "Residenza fuori ambito",
                                       "altro": "Beneficiario di altra misura equivalente"}[need]))
            self.play(run, evs)
            return
        evs.append(self.ev(d, "avvia_redazione", worker, {
            "tipologia": kind, "bisogni": rng.choice(BISOGNI), "risorse": rng.choice(RISORSE),
            "componenti_nucleo": rng.randint(1, 6), "isee": self.isee(rng, d, "ordinario", 0, 9300)}))
        if fate == "withdrawn" and p["withdraw_drafting"]:
            evs.append(self.ev(marks["end"], "rinuncia", worker, {"dichiarazione_del": marks["end"]}))
            self.play(run, evs)
            return
        s, inizio, fine = marks["s"], marks["inizio"], marks["fine"]
        months = max(1, (fine.year - inizio.year) * 12 + fine.month - inizio.month)
        goals = rng.sample(PATTO_OBIETTIVI[kind], rng.randint(1, 3))
        hosts = rng.sample(RECIPROCITA, rng.randint(1, 2))
        weekly = [Decimal(rng.choice((2, 3, 4, 4, 6, 8))) for _ in hosts]
        if rng.random() < 0.75:
            misura = {"tipo": "mensile", "mensilita": months,
                      "importo": _money(min(rng.choice((150, 200, 250, 300, 350, 400, 450, 500, 600)),
                                            6000 // months))}
        else:
            misura = {"tipo": "una_tantum", "mensilita": 1,
                      "importo": _money(rng.choice((400, 600, 800, 1200, 1500, 2000, 2500, 3500, 4500)))}
        misura["voci"] = sorted(rng.sample(("sostegno_reddito", "utenze", "affitto"), rng.randint(1, 2)))
        total = misura["importo"] * (misura["mensilita"] if misura["tipo"] == "mensile" else 1)
        signers = [self.full_name(person)]
        if rng.random() < 0.3:
            signers.append(f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {person['cognome']}")
        weights = [rng.choice((1, 1, 1, 2)) for _ in goals]
        evs.append(self.ev(s, "attiva", coord if total > 3000 else worker, {
            "obiettivi": [{"descrizione": g[0], "indicatore": g[1], "target": g[2], "peso": Decimal(w)}
                          for g, w in zip(goals, weights)],
            "impegni_reciprocita": [{"attivita": h[0], "ente_ospitante": h[1].format(c=comune.nome),
                                     "ore_settimanali": w} for h, w in zip(hosts, weekly)],
            "misura_economica": misura, "data_inizio": inizio, "data_fine": fine, "firmato_il": s,
            "firmatari": signers, "firma_assistente_sociale": True, "informativa_privacy": True,
            # about a third are "further" pacts (PdZ: 100 in the project + 50-75 more), chosen without
            # drawing from rng so that the rest of the generated year stays as it was
            "canale": "ulteriore" if zlib.crc32(person["codice_fiscale"].encode()) % 3 == 0 else "progetto"}))
        sp, rs = marks.get("sp"), marks.get("rs")
        stop = marks.get("end") if fate in ("interrupted", "withdrawn") else fine
        if sp:
            evs.append(self.ev(sp, "sospendi", worker, reason=rng.choice((
                "Ricovero ospedaliero del beneficiario", "Assenza prolungata per motivi familiari",
                "Mancata partecipazione: sospensione in attesa di chiarimento"))))
            if rs:
                evs.append(self.ev(rs, "riprendi", worker))
        t, paid, k = s, 0, 0
        while True:
            t = self.nwd(t + timedelta(days=p["gaps"][k % len(p["gaps"])]), istat)
            k += 1
            if sp and sp <= t and (rs is None or t < rs + timedelta(days=3)):
                if rs is None:
                    break
                t = self.nwd(rs + timedelta(days=rng.randint(3, 10)), istat)
            if t >= stop or t > self.today:
                break
            if misura["tipo"] == "mensile":
                amount = misura["importo"] if paid < misura["mensilita"] else Decimal(0)
            else:
                amount = misura["importo"] if paid == 0 else Decimal(0)
            paid += 1
            hours = _money(sum(weekly) * 4 * Decimal(str(rng.uniform(0.5, 1.1)))).quantize(Decimal("0.5"))
            evs.append(self.ev(t, "registra_monitoraggio", worker, {
                "incontro_il": t, "ore_reciprocita": hours, "avanzamento": rng.choice(AVANZAMENTO),
                "importo_erogato": amount}))
        if fate == "interrupted":
            x = marks["end"]
            cause = rng.choices(("inadempienza", "trasferimento", "decesso", "altro"), weights=(6, 2, 1, 1))[0]
            interr: dict[str, Any] = {"causa": cause}
            if cause == "inadempienza":
                interr["diffida_del"] = max(s, self.pwd(x - timedelta(days=rng.randint(15, 30)), istat))
            evs.append(self.ev(x, "interrompi", coord, interr, reason={
                "inadempienza": "Impegni di reciprocità non rispettati dopo la diffida scritta",
                "trasferimento": "Trasferimento di residenza fuori ambito", "decesso": "Decesso del beneficiario",
                "altro": "Inserimento in comunità terapeutica"}[cause]))
        elif fate == "withdrawn":
            x = marks["end"]
            evs.append(self.ev(x, "rinuncia", worker, {"dichiarazione_del": x}))
        elif fine <= self.today:
            evs.append(self.ev(fine, "avvia_verifica", SYSTEM_USER))
            closing = marks.get("close") or self.nwd(fine + timedelta(days=p["close_after"]), istat)
            u = rng.random()
            # about 86% positive among the closed, so ~70% of the concluded (closed + interrupted)
            target = (rng.uniform(0.75, 1.0) if u < 0.86 else rng.uniform(0.35, 0.65) if u < 0.96
                      else rng.uniform(0, 0.25))
            step = Decimal("0.05")
            shares = [min(Decimal(1), max(Decimal(0), (Decimal(str(target + rng.uniform(-0.15, 0.15))) / step)
                                          .quantize(Decimal(1)) * step)) for _ in goals]
            flat = (Decimal(str(target)) / step).quantize(Decimal(1)) * step
            if _band(_rate(shares, weights)) != _band(target) or (len(set(shares)) > 1 and rng.random() < 0.3):
                shares = [flat] * len(goals)
            verifica: dict[str, Any] = {"raggiungimento": shares, "relazione": rng.choice((
                "Obiettivi verificati con il beneficiario e l'ente ospitante",
                "Verifica condotta in équipe con il centro per l'impiego",
                "Relazione finale condivisa con il nucleo"))}
            if _band(float(flat)) == "parziale" and shares == [flat] * len(goals) and rng.random() < 0.15:
                verifica["esito"] = "positivo"
                verifica["motivo_esito"] = "Obiettivo principale pienamente raggiunto, gli altri superati dagli eventi"
            evs.append(self.ev(closing, "chiudi", worker, verifica))
            if (closed_partial is not None and closing <= self.today and "esito" not in verifica
                    and _band(float(flat)) == "parziale" and shares == [flat] * len(goals)):
                closed_partial.append((run.id, person, comune, closing))
        self.play(run, evs)

    # ================================================================== FNA Misura B2

    def fna(self, sad_people: list[tuple[dict, _ComuneInfo]]) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        y = self.year
        udp, sistema = self.udp[0], SYSTEM_USER
        opens, closes = date(y, 6, 10), date(y, 7, 10)
        provisional = self.nwd(closes + timedelta(days=40))
        final = self.nwd(provisional + timedelta(days=20))
        decided = self.nwd(final + timedelta(days=2))
        budget = max(Decimal(5000), (FNA_BUDGET * Decimal(str(self.scale)) / 1000).quantize(Decimal(1)) * 1000)
        self.fna_budget = budget
        misure = [{"misura": "caregiver", "importo_min": Decimal(100), "importo_max": Decimal(400)},
                  {"misura": "assistente_personale", "importo_min": Decimal(100), "importo_max": Decimal(800)},
                  {"misura": "vita_indipendente", "importo_min": Decimal(100), "importo_max": Decimal(800)}]
        call = self.open("fna_bando", udp, self.nwd(date(y, 4, 14)), {
            "titolo": f"Bando FNA Misura B2 - annualità {y - 1} - Ambito Cremasco", "anno_fna": y - 1,
            "dgr": f"DGR regionale di riparto FNA {y - 1} (riferimento dimostrativo)"})
        self.fna_call_id = call.id if call else None
        self.step(call, "approva", udp, self.nwd(date(y, 5, 20)), {
            "delibera": f"Deliberazione dell'Assemblea dei Sindaci n. 4 del {self.nwd(date(y, 5, 20)):%d/%m/%Y}",
            "budget": budget, "misure": misure, "apertura": opens, "chiusura": closes, "giorni_esito": 90})
        if not self.step(call, "apri", sistema, opens):
            return
        fates = _allocate(FNA_FATES, self.n(BASE_FNA))
        rng.shuffle(fates)
        window_days = [d for d in (opens + timedelta(days=i) for i in range((closes - opens).days + 1))
                       if self.cal.is_working_day(d)]
        apps = []
        for fate in fates:
            crng = random.Random(rng.getrandbits(64))
            # the last week gets the rush of late applications
            day = crng.choice(window_days if crng.random() < 0.65 else window_days[-5:])
            apps.append((day, fate, crng))
        apps.sort(key=lambda a: a[0])  # protocol numbers follow the presentation order
        sad_pool = [sp for sp in sad_people if sp[0]["data_nascita"] < date(y - 65, 1, 1)]
        applications = []
        for number, (day, fate, crng) in enumerate(apps, start=1):
            applications.append(self.fna_application(call.id, number, day, fate, crng, provisional, sad_pool))
        self.step(call, "chiudi", sistema, closes + timedelta(days=1))
        # ---- rankings: immutable snapshots with each application's score breakdown
        eligible = [a for a in applications if a["run"] and a.get("eligible_on") and a["eligible_on"] < provisional]
        eligible.sort(key=lambda a: (-a["score"], a["isee"], rk.protocol_key(a["protocollo"])))  # domain/casetypes/fna/ranking.py
        ranking = [{"domanda": a["run"].id, "protocollo": a["protocollo"], "punteggio": a["score"],
                    "dettaglio": a["detail"]} for a in eligible]
        if not self.step(call, "pubblica_graduatoria_provvisoria", udp, provisional, {
                "posizioni": ranking, "atto": f"Determinazione UdP n. {rng.randint(40, 60)}/{y}"}):
            return
        if not self.step(call, "pubblica_graduatoria_definitiva", udp, final, {
                "posizioni": ranking, "atto": f"Determinazione UdP n. {rng.randint(61, 80)}/{y}"}):
            return
        residual = budget
        exhausted = False
        funded = []
        for a in eligible:
            if not a["run"].alive or a["run"].last > decided:
                continue
            if not exhausted and a["annual"] <= residual:
                if self.step(a["run"], "finanzia", udp, decided, {"importo_annuo": a["annual"]}):
                    residual -= a["annual"]
                    funded.append(a)
            else:
                exhausted = True
                self.step(a["run"], "non_finanzia", udp, decided)
        started = [self.fna_plan(a, decided) for a in funded]
        first_payment_start = min((s for s in started if s), default=None)
        if first_payment_start is not None:
            self.step(call, "avvia_erogazioni", udp, first_payment_start)
        # ---- scorrimento: resources freed by lapses and withdrawals fund the next in the ranking
        scroll_on = self.nwd(_add_months(_month_start(decided), 2))
        freed = sum((a["annual"] for a in funded if a.get("freed_on") and a["freed_on"] < scroll_on), Decimal(0))
        residual += freed
        for a in eligible:
            if a in funded or not a["run"].alive or a["run"].last > scroll_on:
                continue
            if a["annual"] > residual:
                break
            if self.step(a["run"], "finanzia", udp, scroll_on, {"importo_annuo": a["annual"]}):
                residual -= a["annual"]
                self.fna_plan(a, scroll_on)

    def fna_application(self, call_id: int, number: int, day: date, fate: str, rng: random.Random,
                        provisional: date, sad_pool: list) -> dict:
        y = self.year
        if sad_pool and rng.random() < 0.15:
            person, comune = rng.choice(sad_pool)
        else:
            comune = self.pick_comune(rng)
            u = rng.random()
            person = (self.persona(rng, comune, 3, 16) if u < 0.05 else
                      self.persona(rng, comune, 19, 64) if u < 0.3 else self.persona(rng, comune, 66, 97))
        minor = person["data_nascita"] > date(y - 18, 12, 31)
        istat, sub = comune.istat, comune.sub_ambito
        csc = rng.choice(self.csc)
        worker = rng.choice(self.workers[sub])
        young_adult = not minor and person["data_nascita"] > date(y - 65, 1, 1)
        if minor:
            measure = "caregiver"
        elif young_adult:
            measure = rng.choices(("caregiver", "assistente_personale", "vita_indipendente"), weights=(6, 2, 2))[0]
        else:
            measure = rng.choices(("caregiver", "assistente_personale"), weights=(16, 1))[0]
        reject_reason = rng.choice(("isee", "requisito", "incompatibile")) if fate == "rejected" else None
        if minor and reject_reason == "isee":
            reject_reason = "requisito"
        if minor:
            isee = self.isee(rng, day, "minorenni", 4000, 36000)
        elif reject_reason == "isee":
            isee = self.isee(rng, day, "sociosanitario", 25500, 33000)
        else:
            isee = self.isee(rng, day, "sociosanitario", 1500, 24800)
        grave, accompagnamento = rng.choice(((True, True), (True, False), (False, True), (True, True)))
        if reject_reason == "requisito":
            grave = accompagnamento = False
        others = ["B1"] if reject_reason == "incompatibile" else (["SAD"] if rng.random() < 0.15 else [])
        protocollo = f"CSC-{y}-{number:05d}"
        data: dict[str, Any] = {
            "persona": person, "protocollo": protocollo, "isee": isee, "invalidita_104_art3c3": grave,
            "indennita_accompagnamento": accompagnamento, "misura": measure, "vive_solo": rng.random() < 0.25,
            "iban": self.iban(rng), "altre_misure": others}
        helper = f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"
        if measure == "caregiver":
            data["caregiver"] = helper
        elif measure == "assistente_personale":
            data["assistente_personale"] = helper
        run = self.open("fna_domanda", csc, day, data, comune=istat, related=call_id)
        app: dict[str, Any] = {"run": run, "protocollo": protocollo, "isee": isee["valore"], "measure": measure,
                               "worker": worker, "istat": istat, "rng": rng}
        if run is None:
            return app
        cap = provisional - timedelta(days=1)
        evs: list[_Ev] = []
        i = self.wd(day, rng.randint(1, 8), istat)
        evs.append(self.ev(i, "avvia_istruttoria", csc))
        t = i
        if fate in ("archived", "info_answered"):
            q = self.wd(i, rng.randint(1, 4), istat)
            evs.append(self.ev(q, "richiedi_integrazioni", csc,
                               {"documenti_mancanti": rng.sample(DOCUMENTI, rng.randint(1, 2))}))
            if fate == "archived":
                # fired by the deadline sweep the day after the reply term (as services.sweep does)
                x = self.cal.add_calendar_days(q, 10, istat) + timedelta(days=1)
                evs.append(self.ev(x, "archivia", SYSTEM_USER, reason="Integrazioni non pervenute entro 10 giorni"))
                self.play(run, evs)
                return app
            t = self.nwd(q + timedelta(days=rng.randint(2, 9)))
            evs.append(self.ev(t, "ricevi_integrazioni", csc))
        if fate == "withdrawn":
            x = self.nwd(t + timedelta(days=rng.randint(3, 20)))
            evs.append(self.ev(x, "rinuncia", csc, {"dichiarazione_del": x}))
            self.play(run, evs)
            return app
        if fate == "rejected" and reject_reason in ("isee", "incompatibile"):
            notice = self.wd(t, rng.randint(2, 5))
        else:
            v = self.wd(t, rng.randint(1, 4), istat)
            evs.append(self.ev(v, "avvia_valutazione", csc))
            t = v
            notice = self.wd(v, rng.randint(3, 8))
        if fate in ("rejected", "accepted_after_notice"):
            reasons = {"isee": ["ISEE sociosanitario oltre la soglia del bando"],
                       "requisito": ["Assenti sia la disabilità grave sia l'indennità di accompagnamento"],
                       "incompatibile": ["Beneficiario della Misura B1, incompatibile con la B2"],
                       None: ["Certificazione della disabilità non allegata"]}[reject_reason]
            notice = min(max(notice, t), max(t, cap - timedelta(days=12)))
            evs.append(self.ev(notice, "preavviso_rigetto", self.udp[1], {"motivi": reasons, "comunicato_il": notice}))
            if fate == "rejected":
                if rng.random() < 0.3:
                    x = self.nwd(notice + timedelta(days=rng.randint(5, 9)))
                    rig = {"osservazioni_ricevute": True,
                           "esame_osservazioni": "Le osservazioni non superano i motivi ostativi"}
                else:
                    x = self.nwd(notice + timedelta(days=rng.randint(11, 20)))
                    rig = {"osservazioni_ricevute": False}
                evs.append(self.ev(x, "rigetta", self.udp[1], rig))
                self.play(run, evs)
                return app
            t = self.nwd(notice + timedelta(days=rng.randint(4, 9)))
            evs.append(self.ev(t, "accogli_osservazioni", self.udp[1],
                               reason="Prodotta la certificazione di disabilità grave"))
        e = max(t, min(self.nwd(t + timedelta(days=rng.randint(4, 20)), istat), self.pwd(cap, istat)))
        adl, iadl = rng.randint(1, 6), rng.randint(2, 8)
        if measure == "caregiver":
            amount = Decimal(min(400, 100 + 20 * adl + rng.choice((0, 0, 0, 50, 100))))
        else:
            amount = Decimal(rng.choice((400, 500, 600, 700, 800)))
        assessor = self.health if (grave and accompagnamento and rng.random() < 0.4) else worker
        evs.append(self.ev(e, "ammetti", assessor, {
            "adl": adl, "iadl": iadl, "misura_proposta": measure, "importo_mensile_proposto": amount}))
        self.play(run, evs)
        if run.alive and run.last == e:
            app["eligible_on"] = e
        detail = rk.breakdown(rk.Applicant(
            isee=Decimal(str(isee["valore"])), grave=bool(grave), accompagnamento=bool(accompagnamento),
            vive_solo=bool(data["vive_solo"]), nato_il=person["data_nascita"], adl=adl, iadl=iadl), y)
        app.update(score=sum(detail.values()), detail=detail, amount=amount, annual=amount * 12)
        return app

    def fna_plan(self, a: dict, funded_on: date) -> date | None:
        """Plan signed, disbursement, monthly payments, and the odd suspension, lapse or withdrawal."""
        rng, run, istat = a["rng"], a["run"], a["istat"]
        csc = rng.choice(self.csc)
        if rng.random() < 0.03:
            x = self.nwd(funded_on + timedelta(days=rng.randint(3, 15)))
            if self.step(run, "rinuncia", csc, x, {"dichiarazione_del": x}):
                a["freed_on"] = x
            return None
        signed = self.nwd(funded_on + timedelta(days=rng.randint(5, 25)), istat)
        start_month = _next_month(signed)
        plan = {"misura": a["measure"], "importo_mensile": a["amount"], "mese_inizio": start_month,
                "obblighi": "Comunicare ricoveri, variazioni di residenza e dell'assistenza entro 15 giorni"}
        if a["measure"] == "assistente_personale":
            plan["contratto_assistente"] = True
        evs = [self.ev(signed, "firma_piano", a["worker"], plan)]
        go = self.wd(signed, rng.randint(1, 5), istat)
        evs.append(self.ev(go, "avvia_erogazione", csc))
        u = rng.random()
        lapse = self.nwd(go + timedelta(days=rng.randint(5, 50)), istat) if u < 0.07 else None
        susp = self.nwd(start_month + timedelta(days=rng.randint(5, 40)), istat) if 0.07 <= u < 0.15 else None
        resume = self.nwd(susp + timedelta(days=rng.randint(10, 40)), istat) if susp else None
        if susp:
            evs.append(self.ev(susp, "sospendi", a["worker"], reason="Ricovero di sollievo in RSA"))
            evs.append(self.ev(resume, "riprendi", a["worker"]))
        payments = 0
        for k in range(12):
            month = _add_months(start_month, k)
            paid_on = self.nwd(month.replace(day=rng.randint(20, 27)))
            if lapse and paid_on >= lapse:
                break
            if susp and susp <= paid_on < resume + timedelta(days=1):
                continue
            payments += 1
            evs.append(self.ev(paid_on, "registra_pagamento", csc, {
                "mese": month, "importo": a["amount"],
                "contributi_inps_verificati": a["measure"] == "assistente_personale"}))
            last_paid = paid_on
        if lapse:
            evs.append(self.ev(lapse, "decadenza", a["worker"], {
                "causa": rng.choice(("decesso", "ricovero_definitivo", "trasferimento")), "dal": lapse}))
            if lapse <= self.today:
                a["freed_on"] = lapse
        elif payments == 12:  # a plan completed within the demo's dates
            end = last_paid + timedelta(days=5)
            evs.append(self.ev(end, "avvia_verifica", SYSTEM_USER))
            evs.append(self.ev(self.nwd(end + timedelta(days=rng.randint(3, 20))), "chiudi", a["worker"], {
                "mesi_erogati": payments, "importo_erogato": a["amount"] * payments, "piano_rispettato": True}))
        self.play(run, evs)
        return go if go <= self.today else None

    # ================================================================== summary

    def summary(self, elapsed: float) -> dict:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(case_t.c.case_type, case_t.c.state, sa.func.count())
                                .group_by(case_t.c.case_type, case_t.c.state)).all()
            outcomes = conn.execute(sa.select(case_t.c.case_type, case_t.c.outcome, sa.func.count())
                                    .where(case_t.c.outcome.is_not(None))
                                    .group_by(case_t.c.case_type, case_t.c.outcome)).all()
            transitions = conn.execute(sa.select(sa.func.count()).select_from(transition_t)).scalar_one()
            people = conn.execute(sa.select(sa.func.count()).select_from(person_t)).scalar_one()
        cases: dict[str, dict[str, int]] = defaultdict(dict)
        for case_type, state, n in sorted(rows):
            cases[case_type][state] = n
        by_outcome: dict[str, dict[str, int]] = defaultdict(dict)
        for case_type, outcome, n in sorted(outcomes):
            by_outcome[case_type][outcome] = n
        patti = cases.get("patto", {})
        concluded = patti.get("CLOSED", 0) + patti.get("INTERRUPTED", 0)
        positive = by_outcome.get("patto", {}).get("positivo", 0)
        users = {role: sorted(names) for role, names in sorted(self.users_by_role.items())}
        return {
            "year": self.year,
            "seed": self.seed,
            "scale": self.scale,
            "today": self.today.isoformat(),
            "cases": {t: dict(s) for t, s in sorted(cases.items())},
            "cases_by_type": {t: sum(s.values()) for t, s in sorted(cases.items())},
            "cases_total": sum(n for s in cases.values() for n in s.values()),
            "outcomes": {t: dict(o) for t, o in sorted(by_outcome.items())},
            "patti_realisation": {
                "positive": positive, "concluded": concluded,
                "share_of_concluded": round(positive / concluded, 3) if concluded else None,
                "share_of_closed": round(positive / patti["CLOSED"], 3) if patti.get("CLOSED") else None,
            },
            "fna_budget": str(self.fna_budget) if hasattr(self, "fna_budget") else None,
            "transitions": transitions,
            "people": people,
            "sad_visits": self.visits,
            "users": users,
            "user_examples": {role: names[0] for role, names in users.items()},
            "notes": self.notes,
            "elapsed_seconds": round(elapsed, 2),
        }


def _rate(shares: list[Decimal], weights: list[int]) -> float:
    return float(sum(Decimal(w) * s for w, s in zip(weights, shares)) / sum(weights))


def _band(rate: float) -> str:
    return "positivo" if rate >= 0.70 else "parziale" if rate >= 0.30 else "negativo"


def _sad_early_reason(fate: str, rng: random.Random) -> str:
    if fate == "not_admitted":
        return rng.choice(("Bisogno sanitario prevalente: attivata l'ADI", "Rete familiare in grado di assistere"))
    return rng.choice(("Decesso prima della presa in carico", "Ricovero definitivo in struttura"))
