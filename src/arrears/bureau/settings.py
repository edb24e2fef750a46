"""The bureau's settings from the environment, with their defaults (docs/bureau.md lists them).

Parsed here, beside the adapters that use them; the variables themselves come from
`arrears.config.bureau_environment`, so `arrears.config` stays the only reader of `os.environ`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from arrears.config import SettingsError, bureau_environment

DEFAULT_URL = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class BureauSettings:
    base_url: str = DEFAULT_URL
    timeout_s: float = 2.0  # per request: connect + read
    retries: int = 2  # further attempts after the first, on timeouts, 5xx and 429
    backoff_s: float = 0.2  # first wait; doubles each retry (0.2, 0.4, 0.8 …)
    backoff_max_s: float = 5.0
    ttl_s: int = 86_400  # a fetched report serves from the cache for a day
    breaker_failures: int = 5  # consecutive failed fetches that open the circuit
    breaker_reset_s: float = 30.0  # how long it stays open before one trial call
    consent_days: int = 365  # how long a recorded consent lasts by default
    api_key: str | None = None  # sent as `X-Api-Key` when set

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BureauSettings:
        env = bureau_environment() if env is None else env

        def number(name: str, default: float, kind: type = float) -> float:
            text = env.get(name)
            if text is None or text == "":
                return default
            try:
                value = kind(text)
            except ValueError:
                raise SettingsError(
                    f"{name}={text!r} is not a {kind.__name__} / 环境变量 {name} 格式不正确"
                ) from None
            if value < 0:
                raise SettingsError(f"{name}={text!r} must not be negative / 不能为负数")
            return value

        return cls(
            base_url=(env.get("ARREARS_BUREAU_URL") or DEFAULT_URL).rstrip("/"),
            timeout_s=number("ARREARS_BUREAU_TIMEOUT", cls.timeout_s),
            retries=int(number("ARREARS_BUREAU_RETRIES", cls.retries, int)),
            backoff_s=number("ARREARS_BUREAU_BACKOFF", cls.backoff_s),
            backoff_max_s=number("ARREARS_BUREAU_BACKOFF_MAX", cls.backoff_max_s),
            ttl_s=int(number("ARREARS_BUREAU_TTL", cls.ttl_s, int)),
            breaker_failures=max(1, int(number("ARREARS_BUREAU_BREAKER_FAILURES", 5, int))),
            breaker_reset_s=number("ARREARS_BUREAU_BREAKER_RESET", cls.breaker_reset_s),
            consent_days=max(1, int(number("ARREARS_BUREAU_CONSENT_DAYS", 365, int))),
            api_key=env.get("ARREARS_BUREAU_API_KEY") or None,
        )
