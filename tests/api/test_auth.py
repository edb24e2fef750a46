"""Sign-in and credentials: argon2 passwords with lockout, token revocation, session cookies with
CSRF (the primitives the pages use), and the `arrears user` / `arrears token` commands."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import select, update
from typer.testing import CliRunner

from arrears.api.app import create_app
from arrears.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    LoginLocked,
    add_user,
    authenticate,
    create_token,
    end_session,
    set_user,
    start_session,
)
from arrears.auth.accounts import LOCKOUT_WINDOW, MAX_FAILURES_PER_ACCOUNT
from arrears.catalog import load_catalog
from arrears.cli import app as cli
from arrears.config import Settings, SettingsError
from arrears.store.tables import LoginAttempt, User, WebSession
from tests.api.conftest import Api, TestClient

V1 = "/api/v1"


class Credentials(BaseModel):
    username: str
    password: str


def test_password_is_stored_as_argon2_and_checked(api: Api) -> None:
    add_user(api.engine, "ann", "risk", "correct horse")
    with api.engine.connect() as conn:
        stored = conn.scalar(select(User.password_hash).where(User.username == "ann"))
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert authenticate(api.engine, "ann", "correct horse", "10.0.0.1").username == "ann"
    assert authenticate(api.engine, "ann", "wrong", "10.0.0.1") is None
    assert authenticate(api.engine, "nobody", "correct horse", "10.0.0.1") is None


def test_five_failures_lock_the_account_for_a_quarter_hour(api: Api) -> None:
    add_user(api.engine, "ann", "risk", "correct horse")
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        assert authenticate(api.engine, "ann", f"guess {n}", f"10.0.0.{n}") is None
    with pytest.raises(LoginLocked):
        authenticate(api.engine, "ann", "correct horse", "10.0.9.9")  # even the right one
    add_user(api.engine, "bob", "risk", "correct horse")
    assert authenticate(api.engine, "bob", "correct horse", "10.0.0.1") is not None
    with api.engine.begin() as conn:  # the window passes
        conn.execute(
            update(LoginAttempt).values(
                at=datetime.now(UTC) - LOCKOUT_WINDOW - timedelta(seconds=1)
            )
        )
    assert authenticate(api.engine, "ann", "correct horse", "10.0.9.9") is not None


def test_one_address_guessing_many_accounts_is_locked(api: Api) -> None:
    for n in range(20):
        authenticate(api.engine, f"user{n}", "guess", "10.6.6.6")
    with pytest.raises(LoginLocked):
        authenticate(api.engine, "someone", "guess", "10.6.6.6")
    assert authenticate(api.engine, "someone", "guess", "10.7.7.7") is None


def test_a_deactivated_user_cannot_sign_in(api: Api) -> None:
    add_user(api.engine, "ann", "risk", "correct horse")
    with api.engine.begin() as conn:
        conn.execute(update(User).where(User.username == "ann").values(active=False))
    assert authenticate(api.engine, "ann", "correct horse", "10.0.0.1") is None


def test_a_revoked_token_is_refused_at_once(api: Api) -> None:
    secret, row = create_token(api.engine, "risk")
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get(f"{V1}/me", headers=headers).status_code == 200
    revoked = api.client.delete(f"{V1}/tokens/{row.token_id}", headers=api.headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api.client.get(f"{V1}/me", headers=headers).status_code == 401
    assert api.get(f"{V1}/me", role="risk").status_code == 200  # the other token still works
    assert api.client.delete(f"{V1}/tokens/99999", headers=api.headers("admin")).status_code == 404


# ------------------------------------------------------------------ session cookies (pages)


def _pages_app(api: Api, settings) -> TestClient:  # type: ignore[no-untyped-def]
    """The app with a login/logout router like the pages will add (`extra_routers`)."""
    pages = APIRouter()

    @pages.post("/login")
    def login(request: Request, response: Response, body: Credentials):
        user = authenticate(
            request.app.state.engine, body.username, body.password, request.client.host
        )
        if user is None:
            response.status_code = 401
            return {"ok": False}
        signer = request.app.state.sessions
        session = signer.login(response, user.username)
        start_session(
            request.app.state.engine,
            user.username,
            session.sid,
            timedelta(seconds=signer.max_age),
            request.client.host,
        )
        return {"csrf": signer.csrf_token(session)}

    @pages.post("/logout")
    def logout(request: Request, response: Response):
        session = request.app.state.sessions.read(request)
        if session is not None:
            end_session(request.app.state.engine, session.sid)
        request.app.state.sessions.logout(response)
        return {"ok": True}

    app = create_app(settings, engine=api.engine, catalog=load_catalog(), extra_routers=[pages])
    return TestClient(app, raise_server_exceptions=False)


def test_session_cookie_signs_in_the_pages_and_the_api(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    add_user(api.engine, "ann", "admin", "correct horse")
    client = _pages_app(api, settings)
    assert client.post("/login", json={"username": "ann", "password": "nope"}).status_code == 401
    response = client.post("/login", json={"username": "ann", "password": "correct horse"})
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie
    csrf = response.json()["csrf"]
    assert client.get(f"{V1}/me").json()["username"] == "ann"
    body = {"username": "newbie", "role": "risk"}
    assert client.post(f"{V1}/users", json=body).status_code == 403  # no CSRF token
    assert client.post(f"{V1}/users", json=body, headers={CSRF_HEADER: "x"}).status_code == 403
    assert client.post(f"{V1}/users", json=body, headers={CSRF_HEADER: csrf}).status_code == 201
    stolen = client.cookies.get(SESSION_COOKIE)
    client.post("/logout", headers={CSRF_HEADER: csrf})
    assert client.get(f"{V1}/me").status_code == 401
    # Signing out ends the session on the server: a copy of the cookie is worthless too.
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get(f"{V1}/me").status_code == 401


def _signed_in(api: Api, settings, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = _pages_app(api, settings)
    answer = client.post("/login", json={"username": username, "password": "correct horse"})
    assert answer.status_code == 200
    return client


def test_a_new_password_or_deactivation_ends_open_sessions(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    add_user(api.engine, "ann", "admin", "correct horse")
    add_user(api.engine, "bob", "admin", "correct horse")
    ann, bob = _signed_in(api, settings, "ann"), _signed_in(api, settings, "bob")
    assert ann.get(f"{V1}/me").status_code == bob.get(f"{V1}/me").status_code == 200
    set_user(api.engine, "ann", password="another horse")
    assert ann.get(f"{V1}/me").status_code == 401
    set_user(api.engine, "bob", active=False)
    set_user(api.engine, "bob", active=True)  # reactivation does not revive the old session
    assert bob.get(f"{V1}/me").status_code == 401
    assert _signed_in(api, settings, "bob").get(f"{V1}/me").status_code == 200


def test_a_session_past_its_server_expiry_is_refused(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    add_user(api.engine, "ann", "admin", "correct horse")
    client = _signed_in(api, settings, "ann")
    assert client.get(f"{V1}/me").status_code == 200
    with api.engine.begin() as conn:
        conn.execute(update(WebSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert client.get(f"{V1}/me").status_code == 401


def test_the_secret_key_setting_signs_sessions_for_every_process(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    add_user(api.engine, "ann", "admin", "correct horse")
    keyed = replace(settings, secret_key="k" * 40)
    one = _pages_app(api, keyed)
    assert (
        one.post("/login", json={"username": "ann", "password": "correct horse"}).status_code == 200
    )
    other = _pages_app(api, replace(keyed))  # a second process with the same key
    other.cookies.set(SESSION_COOKIE, one.cookies.get(SESSION_COOKIE))
    assert other.get(f"{V1}/me").status_code == 200
    stranger = _pages_app(api, settings)  # the data directory's generated key: not the same
    stranger.cookies.set(SESSION_COOKIE, one.cookies.get(SESSION_COOKIE))
    assert stranger.get(f"{V1}/me").status_code == 401


def test_a_short_secret_key_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARREARS_SECRET_KEY", "too-short")
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env()


def test_a_forged_or_expired_cookie_is_refused(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    add_user(api.engine, "ann", "admin", "correct horse")
    client = _pages_app(api, settings)
    signer = client.app.state.sessions  # type: ignore[attr-defined]
    session = signer.new_session("ann")
    start_session(api.engine, "ann", session.sid, timedelta(hours=1), None)
    good = signer.dumps(session)
    client.cookies.set(SESSION_COOKIE, good[:-2] + "xx")
    assert client.get(f"{V1}/me").status_code == 401
    client.cookies.set(SESSION_COOKIE, good)
    assert client.get(f"{V1}/me").status_code == 200
    signer.max_age = -1
    assert client.get(f"{V1}/me").status_code == 401


# ------------------------------------------------------------------ the commands


@pytest.fixture
def cli_db(tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert CliRunner().invoke(cli, ["--db", url, "db", "upgrade"]).exit_code == 0
    return url


def test_user_add_and_token_create(cli_db: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["--db", cli_db, "user", "add", "--role", "risk", "ann", "--password-stdin"],
        input="correct horse\n",
    )
    assert added.exit_code == 0, added.output
    made = runner.invoke(cli, ["--db", cli_db, "token", "create", "ann", "--json"])
    assert made.exit_code == 0, made.output
    token = json.loads(made.stdout)
    assert token["token"].startswith("arr_") and token["username"] == "ann"
    bad = runner.invoke(
        cli,
        ["--db", cli_db, "user", "add", "--role", "king", "bob", "--password-stdin"],
        input="correct horse\n",
    )
    assert bad.exit_code == 2 and "king" in bad.output


def test_demo_accounts_only_on_the_demo_database(cli_db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    refused = runner.invoke(cli, ["--db", cli_db, "user", "demo-accounts"])
    assert refused.exit_code == 2 and "--i-know-this-is-not-production" in refused.output
    forced = runner.invoke(
        cli, ["--db", cli_db, "user", "demo-accounts", "--i-know-this-is-not-production"]
    )
    assert forced.exit_code == 0
    assert "admin, risk, collector, legal, auditor" in " ".join(forced.output.split())
    listed = json.loads(runner.invoke(cli, ["--db", cli_db, "user", "list", "--json"]).stdout)
    assert {u["username"]: u["role"] for u in listed}["collector"] == "collector"
    demo = f"sqlite:///{tmp_path / 'arrears-demo.db'}"
    assert runner.invoke(cli, ["--db", demo, "db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["--db", demo, "user", "demo-accounts"]).exit_code == 0
