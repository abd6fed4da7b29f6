"""Several Ambiti in one instance: the district table holds one row per Ambito (one of them the default); each
Ambito's distretti (distretto) and managing bodies (ente_gestore); comune, sub_ambito and provider carry their
Ambito; each comune its distretto and managing body; popolazione may be unknown; each user belongs to an Ambito
(NULL: the default one).

Revision ID: 0017_ambiti
Revises: 0011_case_diary
Create Date: 2026-12-07

Upgrade marks the Ambito already loaded as the default and places every existing row in it (one distretto named
like the Ambito, one managing body from its managing_company). Downgrade drops the new tables and columns (an
instance holding several Ambiti keeps only their rows, unmarked: load one Ambito per instance before going back).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017_ambiti"
down_revision: Union[str, None] = "0016_siuss"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString
_PLACED = ("comune", "sub_ambito", "provider")
_FLAGS = ("is_default", "distretti_provisional", "enti_gestori_provisional", "popolazione_mancante")


def upgrade() -> None:
    for flag in _FLAGS:
        op.add_column("district", sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("district", sa.Column("notes", _S(), nullable=False, server_default=""))
    op.add_column("district", sa.Column("source_dir", _S(length=500), nullable=True))
    op.create_table(
        "distretto",
        sa.Column("ambito_code", _S(length=40), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("nome", _S(length=120), nullable=False),
        sa.PrimaryKeyConstraint("ambito_code", "nome"),
    )
    op.create_table(
        "ente_gestore",
        sa.Column("codice", _S(length=20), nullable=False),
        sa.Column("ambito_code", _S(length=40), sa.ForeignKey("district.code"), nullable=False),
        sa.Column("nome", _S(length=200), nullable=False),
        sa.Column("tipo", _S(length=40), nullable=False),
        sa.Column("email", _S(length=200), nullable=False),
        sa.PrimaryKeyConstraint("codice"),
    )
    op.create_index("ix_ente_gestore_ambito_code", "ente_gestore", ["ambito_code"])
    for table in _PLACED:
        op.add_column(table, sa.Column("ambito_code", _S(length=40), nullable=True))
        op.create_index(f"ix_{table}_ambito_code", table, ["ambito_code"])
    op.add_column("comune", sa.Column("distretto", _S(length=120), nullable=True))
    op.add_column("comune", sa.Column("ente_gestore", _S(length=20), nullable=True))
    op.create_index("ix_comune_ente_gestore", "comune", ["ente_gestore"])
    op.add_column("app_user", sa.Column("ambito_code", _S(length=40), nullable=True))
    _place_the_existing_ambito()


def _place_the_existing_ambito() -> None:
    conn = op.get_bind()
    row = conn.execute(sa.text("SELECT code, name, managing_company, managing_company_email FROM district "
                               "ORDER BY code")).first()
    if row is None:
        return
    code = row.code
    gestore = "".join(ch if ch.isalnum() else "_" for ch in code.upper())[:20]
    conn.execute(sa.text("UPDATE district SET is_default = :yes WHERE code = :code"), {"yes": True, "code": code})
    conn.execute(sa.text("INSERT INTO distretto (ambito_code, nome) VALUES (:code, :nome)"),
                 {"code": code, "nome": row.name})
    conn.execute(sa.text("INSERT INTO ente_gestore (codice, ambito_code, nome, tipo, email) "
                         "VALUES (:g, :code, :nome, 'azienda_speciale', :email)"),
                 {"g": gestore, "code": code, "nome": row.managing_company, "email": row.managing_company_email})
    for table in _PLACED:
        conn.execute(sa.text(f"UPDATE {table} SET ambito_code = :code"), {"code": code})
    conn.execute(sa.text("UPDATE comune SET distretto = :nome, ente_gestore = :g"), {"nome": row.name, "g": gestore})


def downgrade() -> None:
    op.drop_column("app_user", "ambito_code")
    op.drop_index("ix_comune_ente_gestore", table_name="comune")
    op.drop_column("comune", "ente_gestore")
    op.drop_column("comune", "distretto")
    for table in _PLACED:
        op.drop_index(f"ix_{table}_ambito_code", table_name=table)
        op.drop_column(table, "ambito_code")
    op.drop_index("ix_ente_gestore_ambito_code", table_name="ente_gestore")
    op.drop_table("ente_gestore")
    op.drop_table("distretto")
    for column in ("source_dir", "notes", *_FLAGS):
        op.drop_column("district", column)
