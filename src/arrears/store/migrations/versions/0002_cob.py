"""Close of business: the day's penalty accrual on snapshots, status transitions, COB runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_snapshots") as batch:
        batch.add_column(
            sa.Column("penalty_accrued", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index("ix_status_snapshots_as_of", "status_snapshots", ["as_of"])
    op.create_table(
        "status_transitions",
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("previous_as_of", sa.Date(), nullable=True),
        sa.Column("from_bucket", sa.String(length=16), nullable=True),
        sa.Column("to_bucket", sa.String(length=16), nullable=False),
        sa.Column("from_classification", sa.String(length=32), nullable=True),
        sa.Column("to_classification", sa.String(length=32), nullable=False),
        sa.Column("from_days_past_due", sa.Integer(), nullable=True),
        sa.Column("to_days_past_due", sa.Integer(), nullable=False),
        sa.Column("balance_before", sa.BigInteger(), nullable=True),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_status_transitions_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "as_of", name=op.f("pk_status_transitions")),
    )
    op.create_index("ix_status_transitions_as_of", "status_transitions", ["as_of"])
    op.create_table(
        "cob_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules_version", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loans", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("snapshots", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("transitions", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_cob_runs")),
    )
    op.create_index("ix_cob_runs_as_of", "cob_runs", ["as_of"])


def downgrade() -> None:
    op.drop_index("ix_cob_runs_as_of", table_name="cob_runs")
    op.drop_table("cob_runs")
    op.drop_index("ix_status_transitions_as_of", table_name="status_transitions")
    op.drop_table("status_transitions")
    op.drop_index("ix_status_snapshots_as_of", table_name="status_snapshots")
    with op.batch_alter_table("status_snapshots") as batch:
        batch.drop_column("penalty_accrued")
