"""`Idempotency-Key`: a retried payment is recorded once."""

from __future__ import annotations

from tests.api.conftest import OWN_LOAN, OWN_PAYMENT, Api

V1 = "/api/v1"
BODY = {"loan_id": OWN_LOAN, "amount": "25.00", "paid_on": "2026-11-30"}


def _payments(api: Api) -> int:
    return len(api.get(f"{V1}/loans/{OWN_LOAN}/payments").json())


def test_same_key_same_body_returns_the_first_answer(api: Api) -> None:
    before = _payments(api)
    first = api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-1"})
    again = api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _payments(api) == before + 1


def test_same_key_different_body_is_409(api: Api) -> None:
    api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-2"})
    other = api.post(f"{V1}/payments", {**BODY, "amount": "26.00"}, **{"Idempotency-Key": "k-2"})
    assert other.status_code == 409 and "different request" in other.json()["detail"]


def test_keys_are_per_user_and_a_new_key_is_a_new_payment(api: Api) -> None:
    before = _payments(api)
    api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-3"})
    api.post(f"{V1}/payments", BODY, role="risk", **{"Idempotency-Key": "k-3"})
    api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-4"})
    assert _payments(api) == before + 3


def test_a_refused_request_releases_its_key(api: Api) -> None:
    future = {**BODY, "paid_on": "2026-12-05"}
    assert api.post(f"{V1}/payments", future, **{"Idempotency-Key": "k-5"}).status_code == 409
    assert api.post(f"{V1}/payments", future, **{"Idempotency-Key": "k-5"}).status_code == 409
    fixed = api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-5"})
    assert fixed.status_code == 201


def test_reversal_with_a_key_is_replayed(api: Api) -> None:
    path = f"{V1}/payments/{OWN_PAYMENT}/reverse"
    first = api.post(path, {"reason": "bounced"}, **{"Idempotency-Key": "r-1"})
    again = api.post(path, {"reason": "bounced"}, **{"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert api.post(path, {"reason": "bounced"}).status_code == 409  # no key: really again


def test_a_bad_key_is_422(api: Api) -> None:
    response = api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "x" * 201})
    assert response.status_code == 422


def test_a_key_whose_first_request_died_is_taken_over(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from arrears.api.idempotency import request_hash
    from arrears.store.tables import IdempotencyKey

    digest = request_hash("POST", f"{V1}/payments", {**BODY, "reference": None, "payment_id": None})
    with api.engine.begin() as conn:
        conn.execute(
            insert(IdempotencyKey).values(
                username="admin",
                key="k-dead",
                request_hash=digest,
                created_at=datetime.now(UTC) - timedelta(minutes=1),
            )
        )
    assert api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-dead"}).status_code == 409
    with api.engine.begin() as conn:
        conn.execute(
            IdempotencyKey.__table__.update().values(
                created_at=datetime.now(UTC) - timedelta(minutes=6)
            )
        )
    assert api.post(f"{V1}/payments", BODY, **{"Idempotency-Key": "k-dead"}).status_code == 201
