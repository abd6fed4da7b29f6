"""Fakes and builders for the pure engine's unit tests: no database, no clock, no network.

* `FakeWorld`: the engine's `World` protocol over plain dicts the tests can read and change.
* `VALID[case_type][transition]`: a payload that passes validation and every guard, from the
  first source state, at `NOW`, for the roles in `ACTORS`.
* `CASE_DATA[case_type]`: the data of a case that went along the happy path (what later guards read).
* `case_in(...)`, `fire(...)`: build a case in a state and fire a transition on it with `decide`.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from config.district import load_district
from config.policy_files import load_policies
from domain.engine import Actor, CaseView, Command, Decision, ProviderView, UserView, decide
from domain.italian import ROME
from domain.person import PersonCase
from domain.registry import get_workflow
from domain.validation import make_codice_fiscale
from domain.workflow import Role, Transition, Workflow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ROME)  # a Friday
STATE_SINCE = datetime(2026, 11, 10, 9, 0, tzinfo=ROME)  # when the test case entered its state
OPENED_ON = date(2026, 9, 1)

POLICY = load_policies()[0]
DISTRICT = load_district()
CALENDAR = DISTRICT.calendar()

CREMA = "019035"  # sub-ambito Crema, patron day 10 June
AGNADELLO = "019002"  # sub-ambito Pandino, patron day 8 May
OUTSIDE = "999999"  # not a comune of the district

OPEN_CALL_ID = 1  # an FNA call taking applications now
FINAL_CALL_ID = 2  # an FNA call whose final ranking is approved: the default call of an application
CASE_ID = 101

R = Role

# --- actors and users ----------------------------------------------------------------------------

ACTORS: dict[Role, Actor] = {
    R.SOCIAL_WORKER: Actor("as.bianchi", R.SOCIAL_WORKER, sub_ambito="Crema"),
    R.SUBAREA_COORDINATOR: Actor("coord.crema", R.SUBAREA_COORDINATOR, sub_ambito="Crema"),
    R.PLANNING_OFFICE: Actor("udp.verdi", R.PLANNING_OFFICE),
    R.CSC_ADMIN: Actor("csc.neri", R.CSC_ADMIN),
    R.PROVIDER: Actor("girasole.operatore", R.PROVIDER, provider_codice="ENTE01"),
    R.BENEFICIARY: Actor("emanuele.ricci", R.BENEFICIARY),
    R.EVALUATOR: Actor("odv.gialli", R.EVALUATOR),
    R.HEALTH_ASSESSOR: Actor("asst.blu", R.HEALTH_ASSESSOR),
    R.REGIONAL_READER: Actor("reg.lettore", R.REGIONAL_READER),
    R.SYSTEM: Actor("sistema", R.SYSTEM),
}

# the order in which `fire` picks a role among those a transition allows
ROLE_PREFERENCE = (
    R.SOCIAL_WORKER, R.SUBAREA_COORDINATOR, R.CSC_ADMIN, R.PLANNING_OFFICE, R.PROVIDER,
    R.BENEFICIARY, R.HEALTH_ASSESSOR, R.SYSTEM, R.EVALUATOR,
)


def actor(role: Role, **changes: Any) -> Actor:
    return replace(ACTORS[role], **changes)


def preferred_role(t: Transition) -> Role:
    return next(r for r in ROLE_PREFERENCE if r in t.roles)


# --- the people ----------------------------------------------------------------------------------

PERSON = {"codice_fiscale": "RCCMNL83S18D969H", "cognome": "Ricci", "nome": "Emanuele",
          "data_nascita": "1983-11-18"}
MINOR = {"codice_fiscale": make_codice_fiscale("Bianchi", "Luca", date(2015, 3, 10), "M", "D142"),
         "cognome": "Bianchi", "nome": "Luca", "data_nascita": "2015-03-10"}
MOTHER = {"codice_fiscale": make_codice_fiscale("Rossi", "Giulia", date(1992, 4, 12), "F", "D142"),
          "cognome": "Rossi", "nome": "Giulia", "data_nascita": "1992-04-12"}
IBAN = "IT60X0542811101000000123456"


def isee(tipo: str, valore: str, dsu: str = "2026-01-15") -> dict[str, Any]:
    return {"tipo": tipo, "valore": valore, "data_dsu": dsu,
            "protocollo": f"INPS-ISEE-{dsu[:4]}-ABC123456-01"}


# --- valid payloads, one per transition ---------------------------------------------------------

CALL_APPROVAL = {
    "delibera": "Delibera assembleare n. 7/2026",
    "budget": "100000.00",
    "misure": [
        {"misura": "caregiver", "importo_min": "100", "importo_max": "400"},
        {"misura": "assistente_personale", "importo_min": "100", "importo_max": "800"},
        {"misura": "vita_indipendente", "importo_min": "100", "importo_max": "800"},
    ],
    "apertura": "2026-10-01",
    "chiusura": "2026-10-31",
    "giorni_esito": 30,
}
RANKING = {"atto": "Determina n. 12/2026"}  # the positions are computed by the step, never sent
VISIT = {"data": "2026-11-19", "operatore": "Giulia Testa", "minuti": 60,
         "servizi": ["igiene_personale", "socializzazione"]}
WITHDRAWAL = {"dichiarazione_del": "2026-11-19"}

VALID: dict[str, dict[str, dict[str, Any]]] = {
    "patto": {
        "segnala": {"persona": PERSON, "fonte": "caritas", "bisogno": "economico"},
        "assegna": {"assegnatario": "as.bianchi", "primo_colloquio_il": "2026-11-18"},
        "archivia": {},
        "non_ammette": {"requisito_mancante": "isee", "comunicata_il": "2026-11-19"},
        "avvia_redazione": {"tipologia": "inclusione", "bisogni": "morosità sulle utenze",
                            "risorse": "rete parentale, volontariato in parrocchia",
                            "componenti_nucleo": 3, "isee": isee("ordinario", "8000.00")},
        "attiva": {
            "canale": "progetto",
            "obiettivi": [
                {"descrizione": "rientro dalla morosità", "indicatore": "bollette pagate", "target": "6 su 6"},
                {"descrizione": "ricerca attiva di lavoro", "indicatore": "colloqui", "target": "4"},
            ],
            "impegni_reciprocita": [{"attivita": "riordino del magazzino", "ente_ospitante": "Caritas Crema",
                                     "ore_settimanali": "4"}],
            "misura_economica": {"tipo": "mensile", "importo": "250.00", "mensilita": 10,
                                 "voci": ["utenze", "sostegno_reddito"]},
            "data_inizio": "2025-12-01",
            "data_fine": "2026-10-31",
            "firmato_il": "2025-11-28",
            "firmatari": ["Emanuele Ricci"],
            "firma_assistente_sociale": True,
            "informativa_privacy": True,
        },
        "registra_monitoraggio": {"incontro_il": "2026-11-19", "ore_reciprocita": "16",
                                  "avanzamento": "impegni rispettati", "importo_erogato": "250.00"},
        "aggiorna_isee": {"isee": isee("ordinario", "7500.00", dsu="2026-11-18")},
        "sospendi": {},
        "riprendi": {},
        "interrompi": {"causa": "trasferimento"},
        "rinuncia": WITHDRAWAL,
        "avvia_verifica": {},
        "chiudi": {"raggiungimento": ["1", "0.5"], "relazione": "obiettivi in gran parte raggiunti"},
    },
    "fna_bando": {
        "crea": {"titolo": "Bando FNA Misura B2 2026", "anno_fna": 2025, "dgr": "DGR XII/7751"},
        "approva": CALL_APPROVAL,
        "apri": {},
        "chiudi": {},
        "pubblica_graduatoria_provvisoria": RANKING,
        "pubblica_graduatoria_definitiva": RANKING,
        "avvia_erogazioni": {},
        "rendiconta": {},
        "archivia": {},
    },
    "fna_domanda": {
        "presenta": {"persona": PERSON, "protocollo": "2026/0457", "isee": isee("sociosanitario", "18000.00"),
                     "invalidita_104_art3c3": True, "indennita_accompagnamento": False,
                     "misura": "caregiver", "caregiver": "Anna Ricci", "iban": IBAN},
        "avvia_istruttoria": {},
        "richiedi_integrazioni": {"documenti_mancanti": ["verbale L. 104/92"]},
        "ricevi_integrazioni": {},
        "archivia": {},
        "avvia_valutazione": {},
        "ammetti": {"adl": 3, "iadl": 5, "misura_proposta": "caregiver", "importo_mensile_proposto": "300.00"},
        "preavviso_rigetto": {"motivi": ["manca il verbale L. 104/92"], "comunicato_il": "2026-11-05"},
        "accogli_osservazioni": {},
        "rigetta": {},
        "finanzia": {"importo_annuo": "3600.00"},
        "non_finanzia": {},
        "firma_piano": {"misura": "caregiver", "importo_mensile": "300.00", "mese_inizio": "2026-12-01",
                        "obblighi": "comunicare ricoveri e variazioni del caregiver"},
        "avvia_erogazione": {},
        "registra_pagamento": {"mese": "2026-11-01", "importo": "300.00"},
        "aggiorna_isee": {"isee": isee("sociosanitario", "17000.00", dsu="2026-11-18")},
        "sospendi": {},
        "riprendi": {},
        "decadenza": {"causa": "ricovero_definitivo", "dal": "2026-11-15"},
        "avvia_verifica": {},
        "chiudi": {"mesi_erogati": 12, "importo_erogato": "3600.00", "piano_rispettato": True},
        "rinuncia": WITHDRAWAL,
    },
    "sad_adesione": {
        "invita": {"ente": "ENTE01", "inviato_il": "2026-11-02"},
        "rispondi": {"referente": "Dott.ssa Paola Neri", "risposto_il": "2026-11-12"},
        "declina": {},
        "firma": {"firmato_il": "2026-11-19", "valido_fino": "2027-11-18", "comuni": [CREMA, AGNADELLO]},
        "attiva": {},
        "rinnova": {"verificato_il": "2026-11-19", "valido_fino": "2027-11-18"},
        "sospendi": {},
        "riattiva": {},
        "revoca": {},
        "scade": {},
    },
    "sad_caso": {
        "segnala": {"persona": PERSON, "fonte": "medico_di_base"},
        "valuta": {"visita_domiciliare_il": "2026-11-18", "adl": 2, "iadl": 4, "isee_valore": "12000.00"},
        "redigi_pai": {"obiettivi": ["igiene quotidiana in sicurezza", "uscire di casa una volta a settimana"],
                       "servizi": ["igiene_personale", "socializzazione"], "ore_settimanali": "6",
                       "revisione_il": "2026-12-20"},
        "scegli_ente": {"ente": "ENTE01", "modulo_firmato_il": "2026-11-19"},
        "emetti_voucher": {"ore_mensili": "26", "tariffa_oraria": "21.50", "quota_utente": "40.00",
                           "valido_dal": "2026-12-01", "valido_al": "2027-05-31"},
        "prima_visita": {"visita": VISIT},
        "registra_visite": {"mese": "2026-11-01", "visite": [VISIT]},
        "avvia_revisione": {},
        "conferma_pai": {"esito_revisione": "PAI confermato senza variazioni"},
        "avvia_verifica": {},
        "cambia_ente": {"ente": "ENTE02", "modulo_firmato_il": "2026-11-19"},
        "sospendi": {},
        "riprendi": {},
        "non_ammette": {},
        "rinuncia": WITHDRAWAL,
        "interrompi": {},
        "archivia": {},
        "chiudi": {"obiettivi_raggiunti": 2},
    },
    "bonus_famiglia": {
        "richiedi_colloquio": {"persona": MOTHER, "evento": "gravidanza", "figli": 1,
                               "data_presunta_parto": "2027-03-15", "richiesto_il": "2026-11-18",
                               "assegnatario": "as.bianchi"},
        "rilascia_scheda": {"colloquio_il": "2026-11-19", "aree_vulnerabilita": ["economica", "abitativa"],
                            "note_colloquio": "nucleo monoreddito in affitto", "scheda_rilasciata_il": "2026-11-19"},
        "nega_scheda": {"colloquio_il": "2026-11-19", "motivo_mancato_rilascio": "nessuna vulnerabilità rilevata"},
        "presenta_domanda": {"id_domanda_regionale": "BF-2026-000123", "presentata_il": "2026-11-19",
                             "isee": isee("ordinario", "15000.00"), "anni_residenza_richiedente": 8,
                             "anni_residenza_altro_genitore": 6},
        "ammetti": {"esito_comunicato_il": "2026-11-19", "importo_concesso": "1500.00"},
        "non_ammette": {"esito_comunicato_il": "2026-11-19"},
        "eroga_prima_rata": {"pagato_il": "2026-11-19", "importo": "750.00"},
        "eroga_contributo": {"pagato_il": "2026-11-19", "importo": "1500.00"},
        "registra_nascita": {"nato_il": "2026-11-19", "nati": 1},
        "presenta_tessera": {"tessera_presentata_il": "2026-11-19"},
        "eroga_seconda_rata": {"pagato_il": "2026-11-19", "importo": "750.00"},
        "registra_monitoraggio": {"compilata_il": "2026-11-19", "situazione_nucleo": "la famiglia si è stabilizzata",
                                  "uso_contributo": ["beni_prima_infanzia"]},
        "chiudi": {"relazione_finale": "monitoraggio concluso senza criticità"},
        "archivia": {},
        "rinuncia": WITHDRAWAL,
    },
    "misura_esterna": {
        "registra": {"persona": MOTHER, "misura": "B1", "ente_erogatore": "ASST Crema", "dal": "2026-11-02"},
        "cessa": {"al": "2026-11-18"},
    },
}

# the steps whose data a case in the middle of its life has accumulated
HISTORY: dict[str, tuple[str, ...]] = {
    "patto": ("segnala", "assegna", "avvia_redazione", "attiva"),
    "fna_bando": ("crea", "approva"),
    "fna_domanda": ("presenta", "ammetti", "preavviso_rigetto", "finanzia", "firma_piano"),
    "sad_adesione": ("invita", "rispondi", "firma"),
    "sad_caso": ("segnala", "valuta", "redigi_pai", "scegli_ente", "emetti_voucher"),
    "bonus_famiglia": ("richiedi_colloquio", "rilascia_scheda", "presenta_domanda", "ammetti", "registra_nascita"),
    "misura_esterna": ("registra",),
}

# the case data a transition needs when it holds for one variant of its case type only (fire's default patch)
VARIANT: dict[tuple[str, str], dict[str, Any]] = {
    ("bonus_famiglia", "eroga_contributo"): {"evento": "adozione"},  # an adoption: one payment
    ("bonus_famiglia", "presenta_domanda"): {"evento": "adozione"},  # an adoption may apply without the sheet
}


def _stored(case_type: str, transition: str) -> dict[str, Any]:
    """The payload as the engine stores it (validated, JSON form, without the person)."""
    t = get_workflow(case_type).transition(transition)
    assert t is not None and t.data is not None
    dumped = t.data.model_validate(VALID[case_type][transition]).model_dump(mode="json", exclude_none=True)
    dumped.pop("persona", None)
    return dumped


def case_data(case_type: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for step in HISTORY[case_type]:
        merged.update(_stored(case_type, step))
    return merged


def call_data(apertura: str, chiusura: str) -> dict[str, Any]:
    data = case_data("fna_bando")
    data.update(apertura=apertura, chiusura=chiusura)
    return data


# --- the world -----------------------------------------------------------------------------------


@dataclass
class FakeWorld:
    """The engine's World over plain dicts: change them to set up a scenario."""

    cases: dict[int, CaseView] = field(default_factory=dict)
    users: dict[str, UserView] = field(default_factory=dict)
    providers: dict[str, ProviderView] = field(default_factory=dict)
    sub_ambiti: dict[str, str] = field(default_factory=dict)  # comune ISTAT -> sub-ambito
    committed: dict[int, Decimal] = field(default_factory=dict)  # call id -> € already committed

    def case(self, case_id: int) -> CaseView | None:
        return self.cases.get(case_id)

    def user(self, username: str) -> UserView | None:
        return self.users.get(username)

    def provider(self, codice: str) -> ProviderView | None:
        return self.providers.get(codice)

    def sub_ambito_of(self, comune_istat: str) -> str | None:
        return self.sub_ambiti.get(comune_istat)

    def committed_on_call(self, call_id: int) -> Decimal:
        return self.committed.get(call_id, Decimal(0))

    def related_cases(self, case_id: int, case_type: str) -> list[CaseView]:
        return [c for _, c in sorted(self.cases.items())
                if c.related_case_id == case_id and c.case_type == case_type]

    def cases_of_person(self, codice_fiscale: str) -> list[PersonCase]:
        """The person's cases among `cases` (open unless in a terminal state of their type)."""
        from domain.registry import find_case_type

        out = []
        for _, c in sorted(self.cases.items()):
            if (c.person or {}).get("codice_fiscale") != codice_fiscale:
                continue
            ct = find_case_type(c.case_type)
            closed = ct is None or any(s.name == c.state and s.terminal for s in ct.workflow.states)
            out.append(PersonCase(c.id, c.case_type, c.state, not closed, c.data.get("misura")))
        return out

    # helpers for scenarios
    def set_provider_state(self, codice: str, adhesion_state: str | None) -> None:
        self.providers[codice] = replace(self.providers[codice], adhesion_state=adhesion_state)

    def set_case_state(self, case_id: int, state: str) -> None:
        self.cases[case_id] = replace(self.cases[case_id], state=state)

    def set_case_data(self, case_id: int, **data: Any) -> None:
        self.cases[case_id] = replace(self.cases[case_id], data={**self.cases[case_id].data, **data})


def call_case(case_id: int, state: str, data: Mapping[str, Any]) -> CaseView:
    return CaseView(id=case_id, case_type="fna_bando", kind=None, state=state, comune_istat=None, owner=None,
                    opened_on=date(2026, 5, 1), state_since=datetime(2026, 5, 2, 9, 0, tzinfo=ROME),
                    policy_version=POLICY.version, data=dict(data))


def district_world() -> FakeWorld:
    """The Cremasco district: its comuni, its 11 providers (all ACTIVE), the test users, two FNA calls."""
    users = {a.username: UserView(a.username, a.role, a.sub_ambito, a.provider_codice) for a in ACTORS.values()}
    users["as.pandino"] = UserView("as.pandino", R.SOCIAL_WORKER, "Pandino")
    providers = {p.codice: ProviderView(p.codice, p.nome, frozenset(p.comuni), "ACTIVE", p.email)
                 for p in DISTRICT.providers}
    return FakeWorld(
        cases={
            OPEN_CALL_ID: call_case(OPEN_CALL_ID, "OPEN", call_data("2026-11-02", "2026-11-30")),
            FINAL_CALL_ID: call_case(FINAL_CALL_ID, "RANKING_FINAL", call_data("2026-06-10", "2026-07-10")),
        },
        users=users,
        providers=providers,
        sub_ambiti={c.istat: c.sub_ambito for c in DISTRICT.comuni},
    )


# --- cases and commands --------------------------------------------------------------------------

DEFAULT_KIND = {"patto": "inclusione", "bonus_famiglia": "gravidanza"}
DEFAULT_PROVIDER = {"sad_caso": "ENTE01", "sad_adesione": "ENTE01"}
DEFAULT_CALL = {"fna_domanda": FINAL_CALL_ID}


def case_in(case_type: str, state: str, data: Mapping[str, Any] | None = None, **fields: Any) -> CaseView:
    """A case of `case_type` in `state` with the happy path's data (or `data`); `fields` override the view."""
    wf = get_workflow(case_type)
    values: dict[str, Any] = dict(
        id=CASE_ID,
        case_type=case_type,
        kind=DEFAULT_KIND.get(case_type),
        state=state,
        comune_istat=None if wf.district_level else CREMA,
        owner=None if wf.district_level else "as.bianchi",
        opened_on=OPENED_ON,
        state_since=STATE_SINCE,
        policy_version=POLICY.version,
        data=case_data(case_type) if data is None else dict(data),
        version=3,
        related_case_id=DEFAULT_CALL.get(case_type),
        provider_codice=DEFAULT_PROVIDER.get(case_type),
        person=dict(PERSON) if wf.has_person else None,
    )
    values.update(fields)
    return CaseView(**values)


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


_DEFAULT = object()


def fire(
    case_type: str,
    transition: str,
    *,
    payload: Mapping[str, Any] | None = None,
    patch: Mapping[str, Any] | None = None,
    state: str | None | object = _DEFAULT,
    case: CaseView | None | object = _DEFAULT,
    case_patch: Mapping[str, Any] | None = None,
    case_fields: Mapping[str, Any] | None = None,
    world: FakeWorld | None = None,
    role: Role | None = None,
    by: Actor | None = None,
    at: datetime = NOW,
    now: datetime | None = None,  # the engine's clock (default NOW)
    reason: str | None | object = _DEFAULT,
    wf: Workflow | None = None,
    setup: Callable[[FakeWorld], None] | None = None,
    **command: Any,
) -> Decision:
    """Fire `transition` with its VALID payload (changed by `patch`) on a case in its first source state.

    An opening transition runs on no case, in Crema (FNA applications on the open call).
    `reason` defaults to a text when the transition requires one. `command` sets Command fields
    (kind, comune_istat, related_case_id).
    """
    wf = wf or get_workflow(case_type)
    t = wf.transition(transition)
    if t is None:
        raise KeyError(f"{case_type} has no transition {transition}")
    data = dict(VALID[case_type][transition]) if payload is None else dict(payload)
    if patch:
        data = deep_merge(data, patch)
    if case is _DEFAULT:
        source = (t.sources[0] if t.sources else None) if state is _DEFAULT else state
        if source is None:
            case = None
        else:
            variant = VARIANT.get((case_type, transition), {})
            view_data = deep_merge(case_data(case_type), case_patch if case_patch is not None else variant)
            fields = dict(case_fields or {})
            if t.for_kinds and DEFAULT_KIND.get(case_type) not in t.for_kinds:  # a step for another kind only
                fields.setdefault("kind", sorted(t.for_kinds)[0])
            case = case_in(case_type, source, view_data, **fields)
    if reason is _DEFAULT:
        reason = "motivo indicato dall'operatore" if t.requires_reason else None
    if t.opening:
        command.setdefault("comune_istat", None if wf.district_level else CREMA)
        command.setdefault("related_case_id", OPEN_CALL_ID if case_type == "fna_domanda" else None)
    world = world or district_world()
    if setup:
        setup(world)
    cmd = Command(transition=transition, actor=by or ACTORS[role or preferred_role(t)], effective_at=at,
                  data=data, reason=reason, **command)
    return decide(wf, case, cmd, policy=POLICY, calendar=CALENDAR, world=world, now=now or NOW)  # type: ignore[arg-type]


def all_transitions() -> list[tuple[Workflow, Transition]]:
    from domain.registry import all_workflows

    return [(wf, t) for wf in all_workflows() for t in wf.transitions]
