"""Collection: cases and the loans they group, daily case-update runs, collectors and agencies,
the contact log, promises to pay, disputes, maker-checker approvals, repayment plans and
settlements, lawsuits, agency placements and recoveries after write-off.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("commission_rate", sa.String(length=40), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "case_update_runs",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("stage_changes", sa.Integer(), nullable=False),
        sa.Column("promises_kept", sa.Integer(), nullable=False),
        sa.Column("promises_broken", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_case_update_runs")),
    )
    op.create_table(
        "collection_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("stage_override", sa.String(length=32), nullable=True),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("amount_overdue", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_principal", sa.BigInteger(), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("priority", sa.BigInteger(), nullable=False),
        sa.Column("broken_promises", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("stage_since", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("last_pulled_on", sa.Date(), nullable=True),
        sa.Column("last_rpc_on", sa.Date(), nullable=True),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_collection_cases_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_collection_cases")),
    )
    op.create_index(
        "ix_collection_cases_assigned_to", "collection_cases", ["assigned_to"], unique=False
    )
    op.create_index(
        "ix_collection_cases_borrower_id", "collection_cases", ["borrower_id"], unique=False
    )
    op.create_index(
        "ix_collection_cases_status_stage", "collection_cases", ["status", "stage"], unique=False
    )
    op.create_table(
        "agency_placements",
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("commission_rate", sa.String(length=40), nullable=False),
        sa.Column("amount_placed", sa.BigInteger(), nullable=False),
        sa.Column("recovered", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.agency_id"],
            name=op.f("fk_agency_placements_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_agency_placements_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("placement_id", name=op.f("pk_agency_placements")),
    )
    op.create_index(
        op.f("ix_agency_placements_agency_id"), "agency_placements", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_agency_placements_case_id"), "agency_placements", ["case_id"], unique=False
    )
    op.create_table(
        "approvals",
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("maker", sa.String(length=64), nullable=False),
        sa.Column("checker", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_approvals_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("approval_id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_case_id"), "approvals", ["case_id"], unique=False)
    op.create_table(
        "case_contacts",
        sa.Column("contact_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("by_user", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("blocked_reasons", sa.Text(), nullable=True),
        sa.Column("rule_ids", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_case_contacts_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_case_contacts")),
    )
    op.create_index("ix_case_contacts_case_id_at", "case_contacts", ["case_id", "at"], unique=False)
    op.create_table(
        "case_loans",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_case_loans_case_id_collection_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_case_loans_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("case_id", "loan_id", name=op.f("pk_case_loans")),
    )
    op.create_table(
        "collector_profiles",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("max_open_cases", sa.Integer(), nullable=False),
        sa.Column("stages", sa.String(length=200), nullable=False),
        sa.Column("segments", sa.String(length=100), nullable=False),
        sa.Column("languages", sa.String(length=100), nullable=False),
        sa.Column("products", sa.String(length=400), nullable=False),
        sa.Column("regions", sa.String(length=200), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.agency_id"],
            name=op.f("fk_collector_profiles_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_collector_profiles_username_users")
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_collector_profiles")),
    )
    op.create_table(
        "disputes",
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_disputes_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("dispute_id", name=op.f("pk_disputes")),
    )
    op.create_index(op.f("ix_disputes_case_id"), "disputes", ["case_id"], unique=False)
    op.create_table(
        "legal_cases",
        sa.Column("legal_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("court", sa.String(length=200), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("hearing_on", sa.Date(), nullable=True),
        sa.Column("judgment_on", sa.Date(), nullable=True),
        sa.Column("enforcement_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("claimed", sa.BigInteger(), nullable=False),
        sa.Column("fees_paid", sa.BigInteger(), nullable=False),
        sa.Column("awarded", sa.BigInteger(), nullable=True),
        sa.Column("recovered", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_legal_cases_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("legal_id", name=op.f("pk_legal_cases")),
    )
    op.create_index(op.f("ix_legal_cases_case_id"), "legal_cases", ["case_id"], unique=False)
    op.create_table(
        "promises",
        sa.Column("promise_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("paid", sa.BigInteger(), nullable=True),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_promises_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("promise_id", name=op.f("pk_promises")),
    )
    op.create_index(op.f("ix_promises_case_id"), "promises", ["case_id"], unique=False)
    op.create_index("ix_promises_state_due_on", "promises", ["state", "due_on"], unique=False)
    op.create_table(
        "write_off_recoveries",
        sa.Column("recovery_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_write_off_recoveries_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("recovery_id", name=op.f("pk_write_off_recoveries")),
    )
    op.create_index(
        op.f("ix_write_off_recoveries_loan_id"), "write_off_recoveries", ["loan_id"], unique=False
    )
    op.create_table(
        "arrangements",
        sa.Column("arrangement_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("waived", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.approval_id"],
            name=op.f("fk_arrangements_approval_id_approvals"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_cases.case_id"],
            name=op.f("fk_arrangements_case_id_collection_cases"),
        ),
        sa.PrimaryKeyConstraint("arrangement_id", name=op.f("pk_arrangements")),
    )
    op.create_index(op.f("ix_arrangements_case_id"), "arrangements", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_arrangements_case_id"), table_name="arrangements")
    op.drop_table("arrangements")
    op.drop_index(op.f("ix_write_off_recoveries_loan_id"), table_name="write_off_recoveries")
    op.drop_table("write_off_recoveries")
    op.drop_index("ix_promises_state_due_on", table_name="promises")
    op.drop_index(op.f("ix_promises_case_id"), table_name="promises")
    op.drop_table("promises")
    op.drop_index(op.f("ix_legal_cases_case_id"), table_name="legal_cases")
    op.drop_table("legal_cases")
    op.drop_index(op.f("ix_disputes_case_id"), table_name="disputes")
    op.drop_table("disputes")
    op.drop_table("collector_profiles")
    op.drop_table("case_loans")
    op.drop_index("ix_case_contacts_case_id_at", table_name="case_contacts")
    op.drop_table("case_contacts")
    op.drop_index(op.f("ix_approvals_case_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_index(op.f("ix_agency_placements_case_id"), table_name="agency_placements")
    op.drop_index(op.f("ix_agency_placements_agency_id"), table_name="agency_placements")
    op.drop_table("agency_placements")
    op.drop_index("ix_collection_cases_status_stage", table_name="collection_cases")
    op.drop_index("ix_collection_cases_borrower_id", table_name="collection_cases")
    op.drop_index("ix_collection_cases_assigned_to", table_name="collection_cases")
    op.drop_table("collection_cases")
    op.drop_table("case_update_runs")
    op.drop_table("agencies")
