"""Users and their API tokens (admin only), and who am I (everyone)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from arrears.api.deps import CurrentUserDep, EngineDep, Limit, Offset
from arrears.api.errors import Conflict
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import (
    Me,
    Page,
    TokenCreated,
    TokenOut,
    UserIn,
    Username,
    UserOut,
    UserPatch,
)
from arrears.auth import accounts
from arrears.store.db import unit_of_work
from arrears.store.tables import ApiToken, User

router = APIRouter(prefix=API_PREFIX, tags=["users"])


def _user(row: User) -> dict[str, Any]:
    return {
        "username": row.username,
        "role": row.role,
        "borrower_id": row.borrower_id,
        "active": row.active,
        "created_at": row.created_at,
        "has_password": row.password_hash is not None,
    }


def _token(row: ApiToken) -> dict[str, Any]:
    return {
        "token_id": row.token_id,
        "username": row.username,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@router.get("/me", response_model=Me)
def me(user: CurrentUserDep) -> dict[str, Any]:
    return user.to_dict()


@router.get("/users", response_model=Page[UserOut])
def list_users(engine: EngineDep, offset: Offset = 0, limit: Limit = 50) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(User)) or 0
        rows = session.scalars(select(User).order_by(User.username).offset(offset).limit(limit))
        items = [_user(row) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.post("/users", status_code=201, response_model=UserOut)
def add_user(body: UserIn, engine: EngineDep) -> dict[str, Any]:
    """Create a user; a `borrower` user needs `borrower_id`."""
    accounts.add_user(engine, body.username, body.role, body.password, borrower_id=body.borrower_id)
    return get_user(body.username, engine)


@router.get("/users/{username}", response_model=UserOut)
def get_user(username: Username, engine: EngineDep) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        return _user(accounts.get_user(session, username))


@router.patch("/users/{username}", response_model=UserOut)
def change_user(
    username: Username, body: UserPatch, user: CurrentUserDep, engine: EngineDep
) -> dict[str, Any]:
    """Deactivate or reactivate a user, set a new password or role. You cannot deactivate or
    demote yourself (so one admin always remains able to manage users)."""
    if username == user.username and (body.active is False or body.role not in (None, user.role)):
        raise Conflict("you cannot deactivate or demote yourself")
    return _user(
        accounts.set_user(
            engine, username, active=body.active, password=body.password, role=body.role
        )
    )


@router.get("/users/{username}/tokens", response_model=list[TokenOut])
def list_tokens(username: Username, engine: EngineDep) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        accounts.get_user(session, username)
        return [_token(row) for row in accounts.list_tokens(session, username)]


@router.post("/users/{username}/tokens", status_code=201, response_model=TokenCreated)
def create_token(username: Username, engine: EngineDep) -> dict[str, Any]:
    """A new API token for the user; the secret is in this answer only."""
    secret, row = accounts.create_token(engine, username)
    return {**_token(row), "token": secret}


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int, engine: EngineDep) -> dict[str, Any]:
    """Revoke a token at once (idempotent)."""
    if not 0 < token_id < 2**31:
        raise accounts.TokenNotFound(token_id)
    return _token(accounts.revoke_token(engine, token_id))
