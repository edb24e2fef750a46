"""Personal data by role: what is masked for whom, and the access log of every read.

Collectors see a borrower's national id and phone with all but the last four characters masked;
every read of a borrower's personal data (masked or not) is written to `access_log` in the same
transaction as the read, which auditors page through.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from arrears.api import policy
from arrears.auth.accounts import CurrentUser, now
from arrears.store.tables import AccessLog, Borrower

PERSONAL_FIELDS = ("national_id", "phone", "email")
MASKED_FIELDS = ("national_id", "phone")


def mask(value: str | None, keep: int = 4) -> str | None:
    """`**************1234`: every character but the last `keep` replaced by `*`."""
    if value is None:
        return None
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def masked_for(user: CurrentUser, borrower_id: str) -> bool:
    if user.role == policy.COLLECTOR:
        return True
    return user.role == policy.BORROWER and user.borrower_id != borrower_id


def borrower_view(
    session: Session, user: CurrentUser, row: Borrower, route: str, loan_id: str | None = None
) -> dict[str, object]:
    """The borrower as `user` may see it; the read is logged in `session`'s transaction."""
    hidden = masked_for(user, row.borrower_id)
    view: dict[str, object] = {
        "borrower_id": row.borrower_id,
        "kind": row.kind,
        "name": row.name,
        "national_id": row.national_id,
        "phone": row.phone,
        "email": row.email,
        "timezone": row.timezone,
        "language": row.language,
        "country": row.country,
        "region": row.region,
        "masked": hidden,
    }
    if hidden:
        for name in MASKED_FIELDS:
            view[name] = mask(view[name])  # type: ignore[arg-type]
    shown = [name for name in PERSONAL_FIELDS if getattr(row, name) is not None]
    if shown:
        session.add(
            AccessLog(
                username=user.username,
                at=now(),
                fields=",".join(shown),
                borrower_id=row.borrower_id,
                loan_id=loan_id,
                unmasked=not hidden,
                route=route[:200],
            )
        )
    return view
