"""The web pages (Jinja2 + htmx + ECharts, all served from the package): see docs/pages.md.

`mount(app)` adds them to the API's app (`arrears serve` does); `arrears.web.app` holds the pages
themselves, `arrears.web.security` the small interface they need from accounts and
`arrears.web.auth_adapter` that interface on top of `arrears.auth` / `arrears.api`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from arrears.web.app import Pages


def mount(app: FastAPI) -> Pages:
    """Add the pages to the API's app (after `create_app` filled `app.state`)."""
    from arrears.web.auth_adapter import mount as _mount

    return _mount(app)
