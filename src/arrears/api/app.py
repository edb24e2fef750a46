"""The application factory: `create_app(settings)` builds the FastAPI app that `arrears serve`
runs — the REST API under `/api/v1` (OpenAPI at `/openapi.json`, Swagger UI at `/docs`).

The web pages mount themselves on the same app: `create_app(settings, extra_routers=[router])`,
or `app.include_router(...)` / `app.mount("/static", ...)` on the returned app. `app.state`
carries `settings`, `engine`, `catalog` and `sessions` (the `SessionSigner` for cookies).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.engine import Engine
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from arrears.api import errors, policy
from arrears.api.deps import authorise
from arrears.api.policy import API_PREFIX
from arrears.api.routes import access_log, borrowers, cob, loans, payments, portfolio, users
from arrears.api.routes import admission as admission_routes
from arrears.api.routes import bureau as bureau_routes
from arrears.auth.sessions import SessionSigner, load_secret
from arrears.catalog import Catalog, load_catalog
from arrears.config import Settings

ROUTERS = (
    users.router,
    borrowers.router,
    loans.router,
    payments.router,
    portfolio.router,
    cob.router,
    access_log.router,
    admission_routes.router,
    bureau_routes.router,
    bureau_routes.pulls_router,
)
from arrears.api.routes import collection as _collection  # noqa: E402  (issue 5: collection)

ROUTERS = (*ROUTERS, _collection.router)
from arrears.api.routes import models as _models  # noqa: E402  (issue 7: the model registry)

ROUTERS = (*ROUTERS, _models.router)
from arrears.api.routes import contact as _contact  # noqa: E402  (issue 6: contact compliance)

ROUTERS = (*ROUTERS, _contact.router)


# Threads per server process for the sync routes, and as many pooled database connections.
# Under overload, requests must queue cheaply in the event loop, not as 40 threads (anyio's
# default) fighting for the GIL, nor as connections beyond the pool that are opened and closed
# per request: a PostgreSQL connection costs a process fork, and the churn made an overloaded
# server slower still, so that it never recovered while the load lasted.
SERVER_THREADS = 16


def server_engine(settings: Settings) -> Engine:
    """The engine of a server process: a pool as large as its thread pool, never more."""
    from arrears.store.db import make_engine

    if settings.database_url.startswith("sqlite"):
        return make_engine(settings.database_url)
    return make_engine(settings.database_url, pool_size=SERVER_THREADS, max_overflow=0)


class _PrefixRoutes(APIRouter):
    """Routes under one path prefix, refusing any other path with one string test. A router
    tries its routes' patterns one by one: every page request used to try the API's ~70 patterns
    first (0.3 ms, twice per request, a tenth of a loan page's time), and an API request all the
    patterns of the routers before its own."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.guard = prefix

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if path != self.guard and not path.startswith(self.guard + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def _api_routes() -> APIRouter:
    """`ROUTERS` behind prefix tests: `/api/v1`, then each router's own prefix."""
    api = _PrefixRoutes(API_PREFIX)
    for router in ROUTERS:  # each router carries the full /api/v1/… prefix (see policy.py)
        part = _PrefixRoutes(router.prefix)
        part.include_router(router)
        api.include_router(part)
    return api


@asynccontextmanager
async def _server_threads(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = SERVER_THREADS
    yield


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    catalog: Catalog | None = None,
    extra_routers: Iterable[APIRouter] = (),
    secure_cookies: bool = False,
) -> FastAPI:
    """The Arrears web application. `engine` and `catalog` default to those the settings name;
    `extra_routers` (the pages) are included after the API, outside its policy table."""
    from arrears.store.db import make_engine

    app = FastAPI(
        lifespan=_server_threads,
        title="Arrears API",
        version="1",
        summary="Post-loan risk management and collection 贷后管理与催收",
        description=(
            "Send `Authorization: Bearer <token>` (from `arrears token create NAME`). Money is "
            "decimal text in the loan's currency; dates are ISO. Errors: 401 no or bad token, "
            "403 role not allowed, 404 unknown id, 409 refused by a business rule, 422 bad input."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.state.catalog = catalog if catalog is not None else load_catalog(settings.products_file)
    secret = settings.secret_key.encode() if settings.secret_key else load_secret(settings.data_dir)
    app.state.sessions = SessionSigner(secret, secure=secure_cookies)
    errors.install(app)
    app.include_router(_api_routes(), dependencies=[Depends(authorise)])
    _check_policy(app)
    for router in extra_routers:
        app.include_router(router)
    return app


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every API route of `app`."""
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(API_PREFIX)
        for method in operations
    )


def _check_policy(app: FastAPI) -> None:
    known = {policy.route_key(m, p) for m, p in api_routes(app)}
    missing, stale = known - set(policy.POLICY), set(policy.POLICY) - known
    if missing or stale:
        raise RuntimeError(
            f"api.policy.POLICY out of step with the routes: missing {sorted(missing)}, "
            f"unknown {sorted(stale)}"
        )


def with_pages(app: FastAPI) -> FastAPI:
    """Mount the web pages on the app (when the `web` package is present)."""
    try:
        from arrears.web import mount  # type: ignore[attr-defined]
    except ImportError:
        return app
    mount(app)
    return app


def app_from_env() -> FastAPI:
    """The app with pages, from the environment's settings: the factory each worker process of
    `arrears serve --workers N` calls."""
    settings = Settings.from_env()
    return with_pages(create_app(settings, engine=server_engine(settings)))
