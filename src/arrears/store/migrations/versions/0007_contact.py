"""Contact compliance: borrower contact flags, opt-outs, contact persons, the shared contact
ledger, the guard's decision log, message templates, the outbox and inbound replies.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contact_flags",
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("flag", sa.String(length=32), nullable=False),
        sa.Column("set_at", _TS, nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_contact_flags_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("borrower_id", "flag", name=op.f("pk_contact_flags")),
    )
    op.create_table(
        "contact_opt_outs",
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_contact_opt_outs_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("borrower_id", "channel", name=op.f("pk_contact_opt_outs")),
    )
    op.create_table(
        "contact_persons",
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("refused_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_contact_persons_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_persons")),
    )
    op.create_index(
        op.f("ix_contact_persons_borrower_id"), "contact_persons", ["borrower_id"], unique=False
    )
    op.create_table(
        "contact_attempts",
        sa.Column("attempt_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=80), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("decision_id", _BIG_ID, nullable=False),
        sa.Column("by_user", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrowers.borrower_id"],
            name=op.f("fk_contact_attempts_borrower_id_borrowers"),
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_contact_attempts")),
    )
    op.create_index("ix_contact_attempts_borrower_id_at", "contact_attempts", ["borrower_id", "at"])
    op.create_table(
        "contact_decisions",
        sa.Column("decision_id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=80), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("next_allowed_at", _TS, nullable=True),
        sa.Column("jurisdictions", sa.String(length=100), nullable=False),
        sa.Column("decided_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_contact_decisions")),
    )
    op.create_index(
        "ix_contact_decisions_borrower_id_at", "contact_decisions", ["borrower_id", "at"]
    )
    op.create_table(
        "message_templates",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_at", _TS, nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", "language", "version", name=op.f("pk_message_templates")),
    )
    op.create_table(
        "outbox",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("reminder_key", sa.String(length=160), nullable=True),
        sa.Column("borrower_id", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=80), nullable=False),
        sa.Column("loan_id", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("decision_id", _BIG_ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("gateway_id", sa.String(length=80), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["borrowers.borrower_id"], name=op.f("fk_outbox_borrower_id_borrowers")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sa.UniqueConstraint("reminder_key", name=op.f("uq_outbox_reminder_key")),
    )
    op.create_index(op.f("ix_outbox_borrower_id"), "outbox", ["borrower_id"], unique=False)
    op.create_index("ix_outbox_status_not_before", "outbox", ["status", "not_before"])
    op.create_table(
        "inbound_replies",
        sa.Column("reply_id", sa.String(length=80), nullable=False),
        sa.Column("borrower_id", sa.String(length=64), nullable=True),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_inbound_replies")),
    )
    op.create_index(
        op.f("ix_inbound_replies_borrower_id"), "inbound_replies", ["borrower_id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "inbound_replies",
        "outbox",
        "message_templates",
        "contact_decisions",
        "contact_attempts",
        "contact_persons",
        "contact_opt_outs",
        "contact_flags",
    ):
        op.drop_table(table)
