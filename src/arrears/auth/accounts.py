"""Users, roles, API tokens and password sign-in with lockout.

Passwords are argon2 hashes (`argon2-cffi`); an API token is shown once and stored as its SHA-256.
A password sign-in is refused for a while after too many failures for the account or from the
address (`MAX_FAILURES_PER_ACCOUNT` / `MAX_FAILURES_PER_ADDRESS` within `LOCKOUT_WINDOW`), so a
guesser gets a handful of tries per quarter of an hour.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from arrears.store.db import single_read, unit_of_work
from arrears.store.tables import ApiToken, Borrower, LoginAttempt, User, WebSession

ROLES = ("admin", "risk", "collector", "legal", "auditor", "borrower")
TOKEN_PREFIX = "arr_"
LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class AccountError(ValueError):
    """A request about accounts the rules refuse (bad role, taken name, short password…)."""


class UserNotFound(LookupError):
    def __init__(self, username: str) -> None:
        super().__init__(username)
        self.username = username

    def __str__(self) -> str:
        return f"user {self.username!r} not found"


class TokenNotFound(LookupError):
    def __init__(self, token_id: int) -> None:
        super().__init__(token_id)
        self.token_id = token_id

    def __str__(self) -> str:
        return f"token {self.token_id} not found"


class LoginLocked(PermissionError):
    """Too many failed sign-ins for the account or from the address: try again later."""


@dataclass(frozen=True)
class CurrentUser:
    """Who is asking: what every authorisation decision reads."""

    username: str
    role: str
    borrower_id: str | None = None
    token_id: int | None = None  # the token used, when the request came with one

    def to_dict(self) -> dict[str, object]:
        return {"username": self.username, "role": self.role, "borrower_id": self.borrower_id}


def now() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current(row: User, token_id: int | None = None) -> CurrentUser:
    return CurrentUser(row.username, row.role, row.borrower_id, token_id)


def _check_new_user(session: Session, username: str, role: str, borrower_id: str | None) -> None:
    if not re.match(USERNAME_PATTERN, username):
        raise AccountError(
            f"username {username!r} must be 1-64 letters, digits or . _ @ - (starting with a letter or digit)"
        )
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "borrower":
        if not borrower_id:
            raise AccountError("a borrower user needs --borrower-id")
        if session.get(Borrower, borrower_id) is None:
            raise AccountError(f"borrower {borrower_id!r} not found")
    elif borrower_id:
        raise AccountError("only a borrower user is linked to a borrower")
    if session.get(User, username) is not None:
        raise AccountError(f"user {username!r} already exists")


def add_user(
    engine: Engine,
    username: str,
    role: str,
    password: str | None,
    *,
    borrower_id: str | None = None,
) -> CurrentUser:
    """Create an active user (`password` None: token-only, no password sign-in)."""
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    with unit_of_work(engine) as session:
        _check_new_user(session, username, role, borrower_id)
        row = User(
            username=username,
            role=role,
            password_hash=hash_password(password) if password is not None else None,
            borrower_id=borrower_id,
            active=True,
            created_at=now(),
        )
        session.add(row)
        session.flush()
        return _current(row)


def get_user(session: Session, username: str) -> User:
    row = session.get(User, username)
    if row is None:
        raise UserNotFound(username)
    return row


def set_user(
    engine: Engine,
    username: str,
    *,
    active: bool | None = None,
    password: str | None = None,
    role: str | None = None,
) -> User:
    """Change a user's state: deactivate/reactivate, new password, new role."""
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if role is not None and role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    with unit_of_work(engine) as session:
        row = get_user(session, username)
        if role is not None and role != row.role:
            if role == "borrower" or row.role == "borrower":
                raise AccountError("a borrower user cannot change role; create another user")
            row.role = role
        if active is not None:
            row.active = active
        if password is not None:
            row.password_hash = hash_password(password)
        if active is False or password is not None:
            # A new password or a deactivation signs the user out everywhere; a later
            # reactivation does not bring old sessions back.
            session.execute(
                update(WebSession)
                .where(WebSession.username == username, WebSession.ended_at.is_(None))
                .values(ended_at=now())
            )
        session.flush()
        return row


def create_token(engine: Engine, username: str) -> tuple[str, ApiToken]:
    """A new bearer token for `username`: the secret (shown once) and its stored row."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(engine) as session:
        user = get_user(session, username)
        if not user.active:
            raise AccountError(f"user {username!r} is not active")
        row = ApiToken(
            token_hash=hash_token(secret),
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            username=username,
            created_at=now(),
        )
        session.add(row)
        session.flush()
    return secret, row


def revoke_token(engine: Engine, token_id: int) -> ApiToken:
    with unit_of_work(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise TokenNotFound(token_id)
        if row.revoked_at is None:
            row.revoked_at = now()
        session.flush()
        return row


def list_tokens(session: Session, username: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.username == username).order_by(ApiToken.token_id)
        )
    )


# A token's `last_used_at` is written at most this often: a write (and a commit) on every API
# call would cost more than the call itself; to the minute is what an administrator reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


_TOKEN_USER = (
    select(
        ApiToken.token_id,
        ApiToken.revoked_at,
        ApiToken.last_used_at,
        User.username,
        User.role,
        User.borrower_id,
        User.active,
    )
    .join(User, User.username == ApiToken.username)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def user_for_token(engine: Engine, token: str) -> CurrentUser | None:
    """The active user a bearer token belongs to (None: unknown, revoked or inactive); records
    when the token was last used (to `LAST_USED_RESOLUTION`)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with single_read(engine) as conn:
        found = conn.execute(_TOKEN_USER, {"token_hash": hash_token(token)}).first()
    if found is None or found.revoked_at is not None or not found.active:
        return None
    at = now()
    last = found.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite keeps no zone; we store UTC
        last = last.replace(tzinfo=UTC)
    if last is None or at - last >= LAST_USED_RESOLUTION:
        with engine.begin() as conn:
            conn.execute(
                update(ApiToken).where(ApiToken.token_id == found.token_id).values(last_used_at=at)
            )
    return CurrentUser(found.username, found.role, found.borrower_id, found.token_id)


def active_user(engine: Engine, username: str) -> CurrentUser | None:
    """The user `username`, if still active."""
    with single_read(engine) as conn:
        found = conn.execute(_ACTIVE_USER, {"username": username}).first()
    if found is None or not found.active:
        return None
    return CurrentUser(found.username, found.role, found.borrower_id)


_ACTIVE_USER = select(User.username, User.role, User.borrower_id, User.active).where(
    User.username == bindparam("username")
)
_SESSION_USER = (
    select(User.username, User.role, User.borrower_id, User.active, WebSession.expires_at)
    .join(WebSession, WebSession.username == User.username)
    .where(
        WebSession.sid_hash == bindparam("sid_hash"),
        WebSession.username == bindparam("username"),
        WebSession.ended_at.is_(None),
    )
)


def start_session(
    engine: Engine, username: str, sid: str, lifetime: timedelta, address: str | None
) -> None:
    """Record a new page session (its id is kept only as a hash)."""
    at = now()
    with unit_of_work(engine) as session:
        session.add(
            WebSession(
                sid_hash=hash_token(sid),
                username=username,
                address=(address or None) and address[:64],
                started_at=at,
                expires_at=at + lifetime,
            )
        )


def end_session(engine: Engine, sid: str) -> None:
    """Sign a page session out on the server: its cookie is worthless from now on."""
    with engine.begin() as conn:
        conn.execute(
            update(WebSession)
            .where(WebSession.sid_hash == hash_token(sid), WebSession.ended_at.is_(None))
            .values(ended_at=now())
        )


def session_user(engine: Engine, username: str, sid: str) -> CurrentUser | None:
    """The user of a page session, if the session is open and unexpired on the server and the
    user still active (the cookie's own signature and age were checked by the caller)."""
    with single_read(engine) as conn:
        found = conn.execute(
            _SESSION_USER, {"sid_hash": hash_token(sid), "username": username}
        ).first()
    if found is None or not found.active:
        return None
    expires = found.expires_at
    if expires.tzinfo is None:  # SQLite keeps no zone; we store UTC
        expires = expires.replace(tzinfo=UTC)
    if expires <= now():
        return None
    return CurrentUser(found.username, found.role, found.borrower_id)


def _failures(session: Session, column, value: str, since: datetime) -> int:  # type: ignore[no-untyped-def]
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(column == value, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
        )
        or 0
    )


def authenticate(engine: Engine, username: str, password: str, address: str) -> CurrentUser | None:
    """Check a password sign-in from `address` (the client's IP). Returns the user, or None for
    a wrong name or password; raises `LoginLocked` after too many recent failures for the
    account or the address (the attempt is not even checked then). Every attempt is recorded."""
    username, address = username[:64], (address or "unknown")[:64]
    at = now()
    since = at - LOCKOUT_WINDOW
    with unit_of_work(engine) as session:
        if (
            _failures(session, LoginAttempt.username, username, since) >= MAX_FAILURES_PER_ACCOUNT
            or _failures(session, LoginAttempt.address, address, since) >= MAX_FAILURES_PER_ADDRESS
        ):
            raise LoginLocked(
                f"too many failed sign-ins; try again in {int(LOCKOUT_WINDOW.total_seconds() // 60)} minutes"
            )
        user = session.get(User, username)
        ok = verify_password(user.password_hash if user else None, password)
        ok = ok and user is not None and user.active
        session.add(LoginAttempt(username=username, address=address, at=at, succeeded=ok))
        if ok and user is not None and _hasher.check_needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
        return _current(user) if ok and user is not None else None


DEMO_USERS = ("admin", "risk", "collector", "legal", "auditor")
DEMO_PASSWORD = "arrears-demo"


def add_demo_accounts(engine: Engine) -> list[str]:
    """Create the demo users (one per staff role, password `arrears-demo`); existing ones are
    left alone. Returns the names created."""
    created = []
    with unit_of_work(engine) as session:
        existing = set(session.scalars(select(User.username).where(User.username.in_(DEMO_USERS))))
    for name in DEMO_USERS:
        if name not in existing:
            add_user(engine, name, name, DEMO_PASSWORD)
            created.append(name)
    return created
