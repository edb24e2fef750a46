"""Signed session cookies and CSRF tokens for the web pages.

The cookie holds `{"u": username, "sid": random}` signed with itsdangerous (HMAC-SHA1 over a
key derived from the server secret) and timestamped; it is HttpOnly, SameSite=Lax, Secure when
asked, and expires after `SESSION_MAX_AGE`. The CSRF token of a session is an HMAC of its `sid`,
so it needs no storage and dies with the session.

The secret is read from `<data dir>/secret.key` (created with mode 0600 on first use): every
process of one installation that shares the data directory shares sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "arrears_session"
SESSION_MAX_AGE = 8 * 3600  # seconds: one working day
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    username: str
    sid: str


def load_secret(data_dir: Path) -> bytes:
    """The installation's signing secret, created on first use."""
    path = Path(data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    return path.read_bytes().strip()


_READ_KEY = "arrears.session.read"


class SessionSigner:
    """Makes and reads session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: bytes, *, max_age: int = SESSION_MAX_AGE, secure: bool = False):
        self._serializer = URLSafeTimedSerializer(secret, salt="arrears.session")
        self._csrf_key = hashlib.sha256(b"arrears.csrf" + secret).digest()
        self.max_age = max_age
        self.secure = secure

    def new_session(self, username: str) -> Session:
        return Session(username, secrets.token_urlsafe(16))

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps({"u": session.username, "sid": session.sid})

    def loads(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None when missing, forged or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        return Session(data["u"], str(data.get("sid", "")))

    def login(self, response: Response, username: str) -> Session:
        """Start a session: set the cookie on `response` and return the session."""
        session = self.new_session(username)
        response.set_cookie(
            SESSION_COOKIE,
            self.dumps(session),
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )
        return session

    def logout(self, response: Response) -> None:
        """End the session in the browser (the cookie is deleted)."""
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure
        )

    def read(self, request: Request) -> Session | None:
        # A page asks several times per request (who is it, which CSRF token): the signature is
        # checked once and the answer kept with the request.
        scope = request.scope
        if _READ_KEY not in scope:
            scope[_READ_KEY] = self.loads(request.cookies.get(SESSION_COOKIE))
        return scope[_READ_KEY]  # type: ignore[no-any-return]

    def csrf_token(self, session: Session) -> str:
        """The CSRF token to put in the session's forms (hidden `csrf_token`) or the
        `X-CSRF-Token` header of htmx requests."""
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")
