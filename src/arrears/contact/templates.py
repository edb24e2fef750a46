"""Message templates: Chinese and English, sandboxed Jinja2, versioned (a save is a new version;
old versions stay for the messages that used them), checked by the content rules at save time,
previewed with a real loan from the database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from arrears.contact.content import check_text
from arrears.contact.policy import CHANNELS
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower, Loan, MessageTemplate, StatusSnapshot

LANGUAGES = ("zh", "en")
AUDIENCES = ("debtor", "contact_person")
_ENV = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)


class TemplateProblem(ValueError):
    """A template that cannot be saved or rendered (syntax, unknown name, missing variable)."""


def _compile(text: str, field: str) -> Any:
    try:
        return _ENV.from_string(text)
    except TemplateError as exc:
        raise TemplateProblem(f"{field}: template error 模板错误: {exc}") from None


def save_template(
    engine: Engine,
    name: str,
    language: str,
    channel: str,
    body: str,
    *,
    by: str,
    subject: str | None = None,
    audience: str = "debtor",
) -> int:
    """Validate and store a new version; returns the version number."""
    if language not in LANGUAGES:
        raise TemplateProblem(f"language {language!r} is not one of zh, en (语言无效)")
    if channel not in CHANNELS:
        raise TemplateProblem(f"channel {channel!r} is not one of {', '.join(CHANNELS)} (渠道无效)")
    if audience not in AUDIENCES:
        raise TemplateProblem(
            f"audience {audience!r} is not one of {', '.join(AUDIENCES)} (对象无效)"
        )
    if not body.strip():
        raise TemplateProblem("body: a template needs a text (模板内容为空)")
    _compile(body, "body")
    check_text(body, audience=audience, field="body")
    if subject:
        _compile(subject, "subject")
        check_text(subject, audience=audience, field="subject")
    with unit_of_work(engine) as session:
        version = (
            session.scalar(
                select(func.max(MessageTemplate.version)).where(
                    MessageTemplate.name == name, MessageTemplate.language == language
                )
            )
            or 0
        ) + 1
        session.add(
            MessageTemplate(
                name=name,
                language=language,
                version=version,
                channel=channel,
                audience=audience,
                subject=subject,
                body=body,
                saved_at=datetime.now(UTC),
                saved_by=by,
            )
        )
        return version


def latest(
    session: Session, name: str, language: str, version: int | None = None
) -> MessageTemplate:
    q = select(MessageTemplate).where(
        MessageTemplate.name == name, MessageTemplate.language == language
    )
    if version is not None:
        q = q.where(MessageTemplate.version == version)
    row = session.scalars(q.order_by(MessageTemplate.version.desc()).limit(1)).first()
    if row is None and language != "zh" and version is None:
        return latest(session, name, "zh")  # a borrower's language without a text falls back
    if row is None:
        raise TemplateProblem(f"template {name!r} ({language}) not found (模板不存在)")
    return row


def render(template: MessageTemplate, context: dict[str, Any]) -> tuple[str | None, str]:
    try:
        body = _compile(template.body, "body").render(context)
        subject = (
            None if not template.subject else _compile(template.subject, "subject").render(context)
        )
    except TemplateError as exc:
        raise TemplateProblem(
            f"template {template.name} v{template.version}: {exc} (模板渲染失败)"
        ) from None
    return subject, body


def loan_context(session: Session, loan_id: str, as_of: date | None = None) -> dict[str, Any]:
    """The variables a template may use, from the loan, its borrower and its latest snapshot."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise TemplateProblem(f"loan {loan_id} not found (贷款不存在)")
    borrower = session.get(Borrower, loan.borrower_id)
    q = select(StatusSnapshot).where(StatusSnapshot.loan_id == loan_id)
    if as_of is not None:
        q = q.where(StatusSnapshot.as_of <= as_of)
    snap = session.scalars(q.order_by(StatusSnapshot.as_of.desc()).limit(1)).first()
    overdue = (
        0
        if snap is None
        else (
            snap.overdue_principal + snap.overdue_interest + snap.overdue_fee + snap.overdue_penalty
        )
    )
    return {
        "name": borrower.name if borrower else "",
        "loan_id": loan_id,
        "currency": loan.currency,
        "amount_due": format_amount(
            (snap.next_due_amount or 0) if snap is not None else 0, loan.currency
        ),
        "overdue": format_amount(overdue, loan.currency),
        "days_past_due": 0 if snap is None else snap.days_past_due,
        "due_on": "" if snap is None or snap.next_due_on is None else snap.next_due_on.isoformat(),
    }


def preview(
    engine: Engine, name: str, language: str, loan_id: str, version: int | None = None
) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        template = latest(session, name, language, version)
        subject, body = render(template, loan_context(session, loan_id))
        return {
            "name": name,
            "language": template.language,
            "version": template.version,
            "subject": subject,
            "body": body,
        }


def seed_templates(engine: Engine, *, by: str = "system") -> int:
    """Store the shipped templates (`templates.yaml`) that are not in the database yet."""
    data = yaml.safe_load(
        resources.files("arrears.contact").joinpath("templates.yaml").read_text("utf-8")
    )
    added = 0
    with unit_of_work(engine) as session:
        present = {
            (r.name, r.language)
            for r in session.execute(select(MessageTemplate.name, MessageTemplate.language))
        }
    for t in data["templates"]:
        if (t["name"], t["language"]) in present:
            continue
        save_template(
            engine,
            t["name"],
            t["language"],
            t["channel"],
            t["body"],
            by=by,
            subject=t.get("subject"),
            audience=t.get("audience", "debtor"),
        )
        added += 1
    return added
