"""The API fixtures of `tests/api` (an app on the example book, one token per role), reused."""

from tests.api.conftest import api, closed, settings  # noqa: F401
