"""An API client on the example book: `create_app` on the `engine` fixture (SQLite and
PostgreSQL) with one user and token per role. The business date is 2026-11-30; loan L00005 of
borrower B0006 is 159 days past due, L00001 (B0002) is current."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from arrears.api.app import create_app
from arrears.auth import add_user, create_token
from arrears.catalog import load_catalog
from arrears.config import Settings
from arrears.imports import import_book

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BOOK = Path(__file__).resolve().parents[2] / "examples" / "book"
TODAY = date(2026, 11, 30)
ROLES = ("admin", "risk", "collector", "legal", "auditor", "borrower")
OWN_BORROWER, OWN_LOAN, OWN_PAYMENT = "B0006", "L00005", "L00005-P001"
CURRENT_BORROWER, CURRENT_LOAN = "B0002", "L00001"


@dataclass
class Api:
    client: TestClient
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None, **extra: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return {**auth, **extra}

    def get(self, path: str, role: str | None = "admin", **kw):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self.headers(role), **kw)

    def post(self, path: str, json=None, role: str | None = "admin", **headers: str):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=json, headers=self.headers(role, **headers))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="unused://", products_file=None, business_date=TODAY, data_dir=tmp_path
    )


@pytest.fixture
def api(engine: Engine, settings: Settings) -> Api:
    catalog = load_catalog()
    import_book(engine, BOOK, catalog)
    app = create_app(settings, engine=engine, catalog=catalog)
    result = Api(TestClient(app, raise_server_exceptions=False), engine)
    for role in ROLES:
        add_user(engine, role, role, None, borrower_id=OWN_BORROWER if role == "borrower" else None)
        result.tokens[role] = create_token(engine, role)[0]
    return result


@pytest.fixture
def closed(api: Api) -> Api:
    """`api` after a close of business on the business date (snapshots for every loan)."""
    response = api.post("/api/v1/cob/runs", {"as_of": TODAY.isoformat()})
    assert response.status_code == 201, response.text
    return api
