"""SQLModel tables of daily casework and data in and out: deputyships (§13), a case's documents (§14), imported
rows and the SIUSS flows to INPS (§15). Re-exported by `store.tables`, whose column types they share.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from store.tables import JSONType, UTCDateTime  # noqa: F401


class Deputyship(SQLModel, table=True):
    """A deputy (sostituto) named by the coordinator for a social worker over [dal, al] (domain/handover.py): while
    it lasts the deputy acts on the worker's cases, each act recording both names. Ended early by moving `al`
    (the naming and every change are kept in `ended_by`/`ended_at`; a deputyship is never deleted)."""

    __tablename__ = "deputyship"
    __table_args__ = (sa.Index("ix_deputyship_deputy_period", "deputy", "dal", "al"),)
    id: int | None = Field(default=None, primary_key=True)
    worker: str = Field(max_length=80, index=True)
    deputy: str = Field(max_length=80)
    dal: date
    al: date
    reason: str | None = None
    named_by: str = Field(max_length=80)
    named_at: datetime = Field(sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=80)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


deputyship_t = Deputyship.__table__


class CaseDocument(SQLModel, table=True):
    """A document of a case (domain/documents.py): uploaded or generated, its bytes kept content-addressed by
    `sha256` under LEGAMI_DOCUMENTS_DIR (store/documents.py), never in the database; never changed nor deleted.
    The signature columns record what the verification found on upload (None: not signed)."""

    __tablename__ = "case_document"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    origin: str = Field(max_length=20)  # caricato | generato
    doc_type: str = Field(max_length=40)  # domain.documents.DOC_TYPES
    act_name: str | None = Field(default=None, max_length=80)  # the declared act a generated document is
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=80)
    size: int
    sha256: str = Field(max_length=64)
    data_class: str = Field(max_length=20)  # sociale | sanitario
    protocollo_numero: str | None = Field(default=None, max_length=40)
    protocollo_data: date | None = None
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
    firma_formato: str | None = Field(default=None, max_length=20)  # PAdES | CAdES
    firma_integra: bool | None = None
    firmatario_nome: str | None = Field(default=None, max_length=200)
    firmatario_cf: str | None = Field(default=None, max_length=16)
    firma_data: datetime | None = Field(default=None, sa_type=UTCDateTime)
    firma_fiducia: str | None = Field(default=None, max_length=40)  # e.g. «non verificata»
    firma_dettaglio: str | None = Field(default=None, max_length=2000)


case_document_t = CaseDocument.__table__


class CaseImport(SQLModel, table=True):
    """A case loaded from a spreadsheet (`legami import`, services/importing.py): its external id (or protocol
    number) is unique per case type, so a second import of the same row adds nothing."""

    __tablename__ = "case_import"
    __table_args__ = (sa.UniqueConstraint("case_type", "external_id", name="uq_case_import_external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_type: str = Field(max_length=60)
    external_id: str = Field(max_length=120)
    case_id: int = Field(foreign_key="case_file.id")
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64)
    row_number: int
    imported_by: str = Field(max_length=80)
    imported_at: datetime = Field(sa_type=UTCDateTime)


case_import_t = CaseImport.__table__


class SiussFlow(SQLModel, table=True):
    """A flow written for INPS's Casellario dell'Assistenza (domain/siuss.py): its name as INPS names flows, the
    period it covers, the XML as written (validated against the shipped XSD) and who produced it."""

    __tablename__ = "siuss_flow"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=50)
    kind: str = Field(max_length=12)  # PS_PSA_SINA (SINBA not produced yet)
    period: str = Field(max_length=7, index=True)  # AAAA-MM
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=80)
    operator_cf: str = Field(max_length=16)
    xml: str
    sha256: str = Field(max_length=64)


siuss_flow_t = SiussFlow.__table__


class SiussItem(SQLModel, table=True):
    """One benefit in a flow: the case, the beneficiary, the operation (I insert / C cancel), the attributes sent
    (what the next flow compares with) and INPS's outcome once `legami siuss esiti` records it."""

    __tablename__ = "siuss_item"
    id: int | None = Field(default=None, primary_key=True)
    flow_id: int = Field(foreign_key="siuss_flow.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    codice_fiscale: str = Field(max_length=16)
    codice_prestazione: str = Field(max_length=10)
    operation: str = Field(max_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    outcome: str | None = Field(default=None, max_length=20)
    outcome_detail: str | None = None
    siuss_id: str | None = Field(default=None, max_length=40)
    outcome_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


siuss_item_t = SiussItem.__table__


class SiussPending(SQLModel, table=True):
    """The benefits INPS does not know yet as of `up_to` (the month before the SIUSS obligation's due date), for
    one Ambito ('' : the whole instance), as a full computation found them: the cases to send, and what it had
    seen (the last step, flow item and person merge ids, the digest of the Ambito's CodicePrestazione table).
    A reader adds only what changed since those marks (services/siuss.pending_cases): never a stale answer.
    Written by the nightly obligations check; can be dropped at any time (the next reader computes in full)."""

    __tablename__ = "siuss_pending"
    __table_args__ = (sa.UniqueConstraint("ambito_code", "up_to", name="uq_siuss_pending"),)
    id: int | None = Field(default=None, primary_key=True)
    ambito_code: str = Field(max_length=40)
    up_to: date
    computed_at: datetime = Field(sa_type=UTCDateTime)
    transition_mark: int
    item_mark: int
    merge_mark: int
    codes_digest: str = Field(max_length=64)
    case_ids: list[int] = Field(default_factory=list, sa_type=JSONType)


siuss_pending_t = SiussPending.__table__
