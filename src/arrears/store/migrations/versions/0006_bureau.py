"""Third-party data: consents to query external sources, the reports fetched (the cache) and
the log of every pull.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bureau_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("sources", sa.String(length=200), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_bureau_consents_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_consents")),
    )
    op.create_index(
        "ix_bureau_consents_borrower_purpose", "bureau_consents", ["borrower_id", "purpose"]
    )
    op.create_table(
        "bureau_reports",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_bureau_reports_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_reports")),
    )
    op.create_index(
        "ix_bureau_reports_borrower_source",
        "bureau_reports",
        ["borrower_id", "source", "fetched_at"],
    )
    op.create_table(
        "bureau_pulls",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("report_id", _BIG_ID, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau_pulls")),
    )
    op.create_index("ix_bureau_pulls_borrower_at", "bureau_pulls", ["borrower_id", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_bureau_pulls_borrower_at", table_name="bureau_pulls")
    op.drop_table("bureau_pulls")
    op.drop_index("ix_bureau_reports_borrower_source", table_name="bureau_reports")
    op.drop_table("bureau_reports")
    op.drop_index("ix_bureau_consents_borrower_purpose", table_name="bureau_consents")
    op.drop_table("bureau_consents")
