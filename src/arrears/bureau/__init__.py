"""Third-party data (第三方数据整合): external sources behind one adapter interface — the credit
bureau report, the judicial enforcement list (失信被执行人), the business registry and tax — with
consent, timeouts, retries, a circuit breaker, a time-to-live cache and a log of every pull; a
local fake bureau (a real HTTP server) for tests and the demo; and the borrower credit profile
that merges internal history with what the sources said. See docs/bureau.md."""

from arrears.bureau.sources import (
    PURPOSES,
    SOURCES,
    BureauError,
    CircuitOpen,
    ConsentMissing,
    SourceUnavailable,
)

__all__ = [
    "PURPOSES",
    "SOURCES",
    "BureauError",
    "CircuitOpen",
    "ConsentMissing",
    "SourceUnavailable",
]
