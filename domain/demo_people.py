"""Synthetic people for the demo: invented names, valid codici fiscali, ISEE declarations, IBANs. Pure.

All people are invented: names are drawn from lists of common Italian first names and surnames, codici
fiscali are computed from those names, a random birth date and the Belfiore code of a comune of the
district; IBANs are random numbers with valid check digits; every e-mail address is @example.org.
Nothing here is, or is meant to be, a real person.
"""
from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum import iban as stdnum_iban
from stdnum.it.codicefiscale import calc_check_digit

from domain.validation import make_codice_fiscale

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


def slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", sep, plain).strip(sep)


def make_persona(rng: random.Random, comune: Any, age_lo: int, age_hi: int, *, today: date,
                 comuni: Sequence[Any], hospital_belfiore: str | None, taken: set[str]) -> dict:
    """A new person living in `comune` (a ComuneInfo), aged between age_lo and age_hi on `today`, whose
    codice fiscale is not in `taken` (added to it). Born in the comune, at the district hospital or
    elsewhere in the district."""
    oldest = date(date.today().year - 98, 1, 1)  # the codice fiscale keeps only two digits of the year
    for _ in range(200):
        sex = rng.choice("MF")
        nome = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
        cognome = rng.choice(SURNAMES)
        birth = today - timedelta(days=rng.randint(age_lo * 365 + 1, age_hi * 365 + 300))
        birth = max(birth, oldest)
        place = comune.belfiore
        if hospital_belfiore and rng.random() < 0.3:
            place = hospital_belfiore
        elif rng.random() < 0.1:
            place = rng.choice(comuni).belfiore
        cf = make_codice_fiscale(cognome, nome, birth, sex, place)
        if cf not in taken:
            taken.add(cf)
            person = {"codice_fiscale": cf, "cognome": cognome, "nome": nome, "data_nascita": birth}
            if rng.random() < 0.3:
                person["email"] = f"{slug(nome)}.{slug(cognome)}.{len(taken)}@example.org"
            return person
    raise AssertionError("demo: impossibile generare un codice fiscale nuovo")


def isee(rng: random.Random, on: date, tipo: str, lo: float, hi: float) -> dict:
    """An ISEE declaration of `tipo` worth between lo and hi, made in the months before `on`."""
    start = max(date(on.year, 1, 2), on - timedelta(days=150))
    dsu = start + timedelta(days=rng.randint(0, max(0, (on - start).days)))
    code = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(9))
    valore = Decimal(str(rng.uniform(lo, hi))).quantize(Decimal("0.01"))
    return {"tipo": tipo, "valore": valore, "data_dsu": dsu,
            "protocollo": f"INPS-ISEE-{dsu.year}-{code}-{rng.randint(0, 99):02d}", "difformita": False}


def make_iban(rng: random.Random) -> str:
    body = f"{rng.randint(1000, 9999):05d}{rng.randint(10000, 99999):05d}{rng.randint(0, 10**12 - 1):012d}"
    bban = calc_check_digit(body) + body  # the Italian CIN uses the codice fiscale's tables
    return f"IT{stdnum_iban.calc_check_digits('IT00' + bban)}{bban}"


def helper_name(rng: random.Random) -> str:
    """An invented full name (a caregiver, a provider's contact)."""
    return f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"
