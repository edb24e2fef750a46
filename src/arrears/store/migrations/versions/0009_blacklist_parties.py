"""The internal blacklist, and third-party data keyed on the party (a borrower, or an applicant
known by national id before any loan exists).

`blacklist_entries` keeps every entry with who added it and why, and who removed it and why (an
entry is never deleted). `bureau_consents`, `bureau_reports` and `bureau_pulls` gain `party`
(`borrower:<id>` or `applicant:<national id>`; existing rows are borrowers'), their `borrower_id`
becomes optional, and a consent carries the applicant's national id and name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUREAU = ("bureau_consents", "bureau_reports", "bureau_pulls")
_PARTY_INDEX = {
    "bureau_consents": ("ix_bureau_consents_party_purpose", ["party", "purpose"]),
    "bureau_reports": ("ix_bureau_reports_party_source", ["party", "source", "fetched_at"]),
    "bureau_pulls": ("ix_bureau_pulls_party_at", ["party", "requested_at"]),
}


def upgrade() -> None:
    op.create_table(
        "blacklist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "national_id IS NOT NULL OR phone IS NOT NULL",
            name=op.f("ck_blacklist_entries_identified"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entries")),
    )
    op.create_index("ix_blacklist_entries_national_id", "blacklist_entries", ["national_id"])
    op.create_index("ix_blacklist_entries_phone", "blacklist_entries", ["phone"])

    for table in _BUREAU:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("party", sa.String(length=80), nullable=True))
            if table == "bureau_consents":
                batch.add_column(sa.Column("national_id", sa.String(length=64), nullable=True))
                batch.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        op.execute(f"UPDATE {table} SET party = 'borrower:' || borrower_id")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("party", existing_type=sa.String(length=80), nullable=False)
            batch.alter_column("borrower_id", existing_type=sa.String(length=64), nullable=True)
        name, columns = _PARTY_INDEX[table]
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table in _BUREAU:
        op.drop_index(_PARTY_INDEX[table][0], table_name=table)
        op.execute(f"DELETE FROM {table} WHERE borrower_id IS NULL")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("borrower_id", existing_type=sa.String(length=64), nullable=False)
            batch.drop_column("party")
            if table == "bureau_consents":
                batch.drop_column("national_id")
                batch.drop_column("name")
    op.drop_index("ix_blacklist_entries_phone", table_name="blacklist_entries")
    op.drop_index("ix_blacklist_entries_national_id", table_name="blacklist_entries")
    op.drop_table("blacklist_entries")
