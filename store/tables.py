"""SQLModel tables: the district, people, cases, their audit history, deadlines and the outbox.

Indexes follow what the sweeps and lists ask: (type, state), (status, due), comune.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)


class District(SQLModel, table=True):
    __tablename__ = "district"
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    lead_istat: str = Field(max_length=6)
    managing_company: str = Field(max_length=200)
    managing_company_email: str = Field(max_length=200)
    planning_office_email: str = Field(max_length=200)
    sub_ambiti_provisional: bool = True
    provisional_note: str = ""
    # An instance holds one or more Ambiti (this table, one row each); the default one holds what has no comune.
    is_default: bool = False
    distretti_provisional: bool = False
    enti_gestori_provisional: bool = False
    notes: str = ""
    popolazione_mancante: bool = False  # some comuni's population is not known (stored as 0)
    source_dir: str | None = Field(default=None, max_length=500)  # the folder loaded: its own settings files


class Distretto(SQLModel, table=True):
    __tablename__ = "distretto"
    ambito_code: str = Field(primary_key=True, foreign_key="district.code", max_length=40)
    nome: str = Field(primary_key=True, max_length=120)


class EnteGestore(SQLModel, table=True):
    """The managing body of some comuni (azienda speciale, consorzio, comune): per comune, not per Ambito."""

    __tablename__ = "ente_gestore"
    codice: str = Field(primary_key=True, max_length=20)
    ambito_code: str = Field(foreign_key="district.code", index=True, max_length=40)
    nome: str = Field(max_length=200)
    tipo: str = Field(max_length=40)
    email: str = Field(max_length=200)


class SubAmbito(SQLModel, table=True):
    __tablename__ = "sub_ambito"
    nome: str = Field(primary_key=True, max_length=80)
    coordinatore_email: str = Field(max_length=200)
    ambito_code: str | None = Field(default=None, index=True, max_length=40)


class Comune(SQLModel, table=True):
    __tablename__ = "comune"
    istat: str = Field(primary_key=True, max_length=6)
    belfiore: str = Field(max_length=4, unique=True)
    nome: str = Field(max_length=120)
    popolazione: int = 0  # 0 where not known: the Ambito's popolazione_mancante says so
    sub_ambito: str = Field(foreign_key="sub_ambito.nome", index=True, max_length=80)
    patrono: str | None = Field(default=None, max_length=120)
    patrono_mmdd: str | None = Field(default=None, max_length=5)
    ambito_code: str | None = Field(default=None, index=True, max_length=40)
    distretto: str | None = Field(default=None, max_length=120)
    ente_gestore: str | None = Field(default=None, index=True, max_length=20)


class Provider(SQLModel, table=True):
    __tablename__ = "provider"
    codice: str = Field(primary_key=True, max_length=20)
    nome: str = Field(max_length=200)
    partita_iva: str = Field(max_length=11, unique=True)
    email: str = Field(max_length=200)
    comuni: list[str] = Field(default_factory=list, sa_type=JSONType)
    ambito_code: str | None = Field(default=None, index=True, max_length=40)


class AppUser(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=80)
    full_name: str = Field(max_length=200)
    email: str = Field(max_length=200)
    role: str = Field(max_length=40)
    sub_ambito: str | None = Field(default=None, max_length=80)
    provider_codice: str | None = Field(default=None, max_length=20)
    active: bool = True
    ambito_code: str | None = Field(default=None, max_length=40)  # None: the default Ambito
    ente_gestore: str | None = Field(default=None, max_length=20)  # a csc_admin's managing body (None: untied)


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"
    version: str = Field(primary_key=True, max_length=40)
    valid_from: date
    description: str = ""
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    loaded_at: datetime = Field(sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    __tablename__ = "person"
    id: int | None = Field(default=None, primary_key=True)
    codice_fiscale: str = Field(unique=True, max_length=16)
    cognome: str = Field(max_length=80)
    nome: str = Field(max_length=80)
    data_nascita: date
    email: str | None = Field(default=None, max_length=200)
    telefono: str | None = Field(default=None, max_length=20)
    provisional_code: bool = False


class Case(SQLModel, table=True):
    """A case. `state` changes only through a transition (see store.cases.StateGuard)."""

    __tablename__ = "case_file"
    __table_args__ = (
        sa.Index("ix_case_type_state", "case_type", "state"),
        sa.Index("ix_case_comune_type", "comune_istat", "case_type"),
        # tenancy: every scoped read filters on the Ambito first (0018)
        sa.Index("ix_case_ambito_type_state", "ambito_code", "case_type", "state"),
        sa.Index("ix_case_ambito_owner", "ambito_code", "owner"),
        sa.Index("ix_case_ambito_opened", "ambito_code", "opened_at"),  # an Ambito's first case (0022)
    )
    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=40)
    kind: str | None = Field(default=None, max_length=40)
    state: str = Field(max_length=40)
    comune_istat: str | None = Field(default=None, foreign_key="comune.istat", max_length=6)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    owner: str | None = Field(default=None, max_length=80, index=True)
    related_case_id: int | None = Field(default=None, foreign_key="case_file.id", index=True)
    provider_codice: str | None = Field(default=None, max_length=20, index=True)
    policy_version: str = Field(foreign_key="policy_version.version", max_length=40)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    state_since: datetime = Field(sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=20)
    outcome_reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    version: int = 1
    audit_hash: str | None = Field(default=None, max_length=64)  # the head of its history's hash chain
    # Its Ambito: the comune's, else the default Ambito (no comune); set at open, import and transfer (0018)
    ambito_code: str = Field(max_length=40)


class CaseTransition(SQLModel, table=True):
    """The audit history: append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "case_transition"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq", name="uq_case_transition_seq"),
        sa.Index("ix_case_transition_name_day", "transition", "effective_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    seq: int
    transition: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=40)
    to_state: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    actor_role: str = Field(max_length=40)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    effective_at: datetime = Field(sa_type=UTCDateTime, index=True)
    effective_on: date = Field(index=True)  # the local (Europe/Rome) day of effective_at: tallies group by it
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    hash: str | None = Field(default=None, max_length=64)  # domain.audit.row_hash over this row and the previous
    on_behalf_of: str | None = Field(default=None, max_length=80)  # a deputy's act: the absent owner (0012)


class Deadline(SQLModel, table=True):
    __tablename__ = "deadline"
    __table_args__ = (
        sa.Index("ix_deadline_status_due", "status", "due"),
        sa.Index("ix_deadline_case_status", "case_id", "status"),
        # the statutory deadlines passed (the planning office's Oggi), not every overdue one of every Ambito (0022)
        sa.Index("ix_deadline_status_source_due", "status", "source", "due"),
        # one Ambito's open deadlines (its Oggi lists, its night), not every Ambito's joined to its cases (0023)
        sa.Index("ix_deadline_ambito_status_due", "ambito_code", "status", "due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    kind: str = Field(max_length=60)
    label: str = Field(max_length=200)
    due: date
    basis: str = Field(max_length=10)
    source: str = Field(max_length=12)
    status: str = Field(default="open", max_length=12)  # open | paused | met | expired | cancelled
    started_seq: int
    closed_on: date | None = None
    suspended_days: int = 0
    # its case's Ambito (case_file.ambito_code), written with the row and moved with a transferred case (0023)
    ambito_code: str = Field(max_length=40)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=200)
    event: str = Field(max_length=80)
    case_id: int | None = Field(default=None, foreign_key="case_file.id")
    recipient: str = Field(max_length=200)
    template: str = Field(max_length=80)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=12)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


case_t = Case.__table__
transition_t = CaseTransition.__table__
deadline_t = Deadline.__table__
outbox_t = OutboxMessage.__table__
person_t = Person.__table__


class ReminderLog(SQLModel, table=True):
    """Every reminder or escalation queued, once: the key is (what, stage, whom). Escalations read it
    to name who was reminded and when."""

    __tablename__ = "reminder_log"
    __table_args__ = (sa.Index("ix_reminder_log_deadline", "deadline_id", "stage"),
                      # what a user was sent (the Oggi pages' escalations), not every Ambito's reminders (0022)
                      sa.Index("ix_reminder_log_recipient", "recipient", "stage"))
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=300)
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id")
    obligation_code: str | None = Field(default=None, max_length=60)
    period: str | None = Field(default=None, max_length=20)
    scope_key: str | None = Field(default=None, max_length=80)
    stage: str = Field(max_length=20)
    recipient: str = Field(max_length=200)
    queued_on: date
    digest_key: str = Field(max_length=200)


class ObligationStatus(SQLModel, table=True):
    """A manual decision that an obligation occurrence is met (with its reason): append-only audit."""

    __tablename__ = "obligation_status"
    __table_args__ = (sa.UniqueConstraint("code", "period", "scope_key", name="uq_obligation_status"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60)
    period: str = Field(max_length=20)
    scope_key: str = Field(max_length=80)
    met_on: date
    actor: str = Field(max_length=80)
    actor_role: str = Field(max_length=40)
    reason: str
    recorded_at: datetime = Field(sa_type=UTCDateTime)


reminder_log_t = ReminderLog.__table__
obligation_status_t = ObligationStatus.__table__


class TallySnapshot(SQLModel, table=True):
    """The indicators as computed on a day (materialised by the daily flow; recomputable as of that day)."""

    __tablename__ = "tally_snapshot"
    id: int | None = Field(default=None, primary_key=True)
    as_of: date = Field(unique=True)
    computed_at: datetime = Field(sa_type=UTCDateTime)
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


tally_snapshot_t = TallySnapshot.__table__


class PersonDiscrepancy(SQLModel, table=True):
    """An identity typed at a referral that differs from the stored person (DOMAIN.md §13): kept, never dropped,
    shown as a discrepancy to resolve to whoever may read the person's cases. One row per case that typed it."""

    __tablename__ = "person_discrepancy"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", unique=True)
    cognome: str = Field(max_length=80)
    nome: str = Field(max_length=80)
    data_nascita: date
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=80)
    # resolved by an entitled reader: "archivio" (the stored identity stands) or "indicato" (the typed one replaces it)
    resolution: str | None = Field(default=None, max_length=20)
    resolution_note: str | None = Field(default=None, max_length=500)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=80)


person_discrepancy_t = PersonDiscrepancy.__table__


class PersonMerge(SQLModel, table=True):
    """A provisional code (11 digits) merged into the definitive codice fiscale (DOMAIN.md §13): who, when, why,
    which cases moved. Append-only: the record of every merge, read on the person's page."""

    __tablename__ = "person_merge"
    id: int | None = Field(default=None, primary_key=True)
    provisional_code: str = Field(max_length=16, index=True)
    definitive_code: str = Field(max_length=16)
    into_person_id: int = Field(foreign_key="person.id", index=True)
    case_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
    reason: str = Field(max_length=500)
    merged_by: str = Field(max_length=80)
    merged_at: datetime = Field(sa_type=UTCDateTime)


person_merge_t = PersonMerge.__table__


class HealthData(SQLModel, table=True):
    """The sealed health-class part of a case's data (seq 0) or of the audit row of step `seq`: AES-256-GCM
    ciphertext of a JSON object, under the health key `key_id` (store/sealed.py)."""

    __tablename__ = "health_data"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_health_data_case_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    seq: int  # 0: the case's current data; n: the audit row of step n
    key_id: str = Field(max_length=40)
    nonce: bytes = Field(sa_type=sa.LargeBinary)
    ciphertext: bytes = Field(sa_type=sa.LargeBinary)


health_data_t = HealthData.__table__


class DiaryEntry(SQLModel, table=True):
    """A case diary entry (domain/diary.py): append-only like the audit history (triggers refuse UPDATE and DELETE),
    chained per case by `hash` (domain.audit.DIARY_FIELDS). A health-class entry keeps its text and participants
    sealed in health_data under seq = -`seq` (store/diary.py), never here."""

    __tablename__ = "diary_entry"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_diary_entry_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id")
    seq: int  # the entry's number in its case's diary, from 1
    kind: str = Field(max_length=40)
    occurred_at: datetime = Field(sa_type=UTCDateTime)  # when the contact took place
    participants: list[str] = Field(default_factory=list, sa_type=JSONType)
    text: str | None = None  # None when sealed
    data_class: str = Field(max_length=20)  # domain.fields.FieldClass: social | health
    sealed: bool = False
    author: str = Field(max_length=80)
    author_role: str = Field(max_length=40)
    recorded_at: datetime = Field(sa_type=UTCDateTime, index=True)  # the digest reads the day's entries
    supersedes: int | None = None  # the seq of the entry this one corrects
    hash: str | None = Field(default=None, max_length=64)


diary_entry_t = DiaryEntry.__table__


# the casework tables (hand-over, documents, import, SIUSS) live in store/tables_casework.py; re-exported here
from store.tables_casework import (  # noqa: E402,F401
    CaseDocument, CaseImport, Deputyship, SiussFlow, SiussItem, SiussPending, case_document_t, case_import_t,
    deputyship_t, siuss_flow_t, siuss_item_t, siuss_pending_t,
)
from store.tables_jobs import (  # noqa: E402,F401
    AmbitoTallySnapshot, JobPartition, ambito_tally_snapshot_t, job_partition_t,
)
