"""`Idempotency-Key`: a client may retry a POST safely. The first request with a key runs and its
answer is stored; a repeat with the same key and the same body gets that answer again (with
`Idempotent-Replayed: true`); the same key with a different body is a 409. Keys are per user.
A request that fails (4xx) releases its key, so a corrected retry may reuse it."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from arrears.api.errors import Conflict
from arrears.auth.accounts import now
from arrears.store.db import unit_of_work
from arrears.store.tables import IdempotencyKey

HEADER = "Idempotency-Key"
# A key reserved this long ago without an answer belongs to a request that died with its process.
ABANDONED_AFTER = timedelta(minutes=5)


def request_hash(method: str, path: str, body: Any) -> str:
    text = json.dumps([method, path, body], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def begin(engine: Engine, username: str, key: str, digest: str) -> tuple[int, Any] | None:
    """Reserve `key` for this request; or return the stored (status, body) of its first run."""
    for _attempt in range(2):
        with unit_of_work(engine) as session:
            row = session.get(IdempotencyKey, (username, key))
            if row is not None:
                if row.request_hash != digest:
                    raise Conflict(
                        f"Idempotency-Key {key!r} was used for a different request; use a new key"
                    )
                if row.status_code is None and row.created_at < now() - ABANDONED_AFTER:
                    row.created_at = now()  # its first run died with its process: run again
                    return None
                if row.status_code is None:
                    raise Conflict(f"a request with Idempotency-Key {key!r} is still running")
                return row.status_code, row.response
        try:
            with unit_of_work(engine) as session:
                session.add(
                    IdempotencyKey(
                        username=username, key=key, request_hash=digest, created_at=now()
                    )
                )
            return None
        except IntegrityError:
            continue  # another request took the key at the same moment: read what it stored
    raise Conflict(f"a request with Idempotency-Key {key!r} is still running")


def finish(engine: Engine, username: str, key: str, status_code: int, body: Any) -> None:
    with unit_of_work(engine) as session:
        row = session.get(IdempotencyKey, (username, key))
        if row is not None:
            row.status_code, row.response = status_code, body


def release(engine: Engine, username: str, key: str) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.username == username, IdempotencyKey.key == key
            )
        )
