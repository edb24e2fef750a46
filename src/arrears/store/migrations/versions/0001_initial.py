"""The initial schema: the tables of `arrears.store.tables` as of the first release.

Types are spelled out here rather than imported (`ExactDecimal` is text, `UtcDateTime` a
timezone-aware timestamp) so that later edits to tables.py never change what this revision did.
Auto-incrementing big-integer keys use INTEGER on SQLite, where only INTEGER PRIMARY KEY counts.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "borrowers",
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("national_id", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("borrower_id", name=op.f("pk_borrowers")),
    )
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("borrower_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_borrower_id"), "events", ["borrower_id"], unique=False)
    op.create_index("ix_events_loan_seq", "events", ["loan_id", "seq"], unique=False)
    op.create_index(op.f("ix_events_type"), "events", ["type"], unique=False)
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("borrowers", sa.Integer(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("instalments", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "products",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_products")),
    )
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.String(length=40), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(length=32), nullable=False),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("first_due_on", sa.Date(), nullable=True),
        sa.Column("interest_basis", sa.String(length=16), nullable=True),
        sa.Column("penalty_rate", sa.String(length=40), nullable=True),
        sa.Column("restructured_on", sa.Date(), nullable=True),
        sa.Column("written_off_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.borrower_id"], name=op.f("fk_loans_borrower_id_borrowers")
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loans")),
    )
    op.create_index(op.f("ix_loans_borrower_id"), "loans", ["borrower_id"], unique=False)
    op.create_index(op.f("ix_loans_product"), "loans", ["product"], unique=False)
    op.create_table(
        "instalments",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_instalments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "seq", name=op.f("pk_instalments")),
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_overrides_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overrides")),
    )
    op.create_index(op.f("ix_overrides_loan_id"), "overrides", ["loan_id"], unique=False)
    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_pauses_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pauses")),
    )
    op.create_index(op.f("ix_pauses_loan_id"), "pauses", ["loan_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_payments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_loan_id"), "payments", ["loan_id"], unique=False)
    op.create_table(
        "status_snapshots",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("ifrs9_stage", sa.Integer(), nullable=False),
        sa.Column("outstanding_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_interest", sa.BigInteger(), nullable=False),
        sa.Column("overdue_fee", sa.BigInteger(), nullable=False),
        sa.Column("overdue_penalty", sa.BigInteger(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("next_due_amount", sa.BigInteger(), nullable=True),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_status_snapshots_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "as_of", name=op.f("pk_status_snapshots")),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_allocations_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.payment_id"], name=op.f("fk_allocations_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    op.create_index(op.f("ix_allocations_loan_id"), "allocations", ["loan_id"], unique=False)
    op.create_index(op.f("ix_allocations_payment_id"), "allocations", ["payment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_allocations_payment_id"), table_name="allocations")
    op.drop_index(op.f("ix_allocations_loan_id"), table_name="allocations")
    op.drop_table("allocations")
    op.drop_table("status_snapshots")
    op.drop_index(op.f("ix_payments_loan_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_pauses_loan_id"), table_name="pauses")
    op.drop_table("pauses")
    op.drop_index(op.f("ix_overrides_loan_id"), table_name="overrides")
    op.drop_table("overrides")
    op.drop_table("instalments")
    op.drop_index(op.f("ix_loans_product"), table_name="loans")
    op.drop_index(op.f("ix_loans_borrower_id"), table_name="loans")
    op.drop_table("loans")
    op.drop_table("products")
    op.drop_table("import_batches")
    op.drop_index(op.f("ix_events_type"), table_name="events")
    op.drop_index("ix_events_loan_seq", table_name="events")
    op.drop_index(op.f("ix_events_borrower_id"), table_name="events")
    op.drop_table("events")
    op.drop_table("borrowers")
