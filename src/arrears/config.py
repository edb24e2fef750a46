"""Settings from the environment, in one place: nothing else reads `os.environ`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./arrears.db"
DEFAULT_LENDER_TIMEZONE = "Asia/Shanghai"


class SettingsError(ValueError):
    """A setting from the environment that cannot be used."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    products_file: Path | None
    # The lender's business date: "today" for every command that does not name a date. Unset, it
    # is the machine's calendar date; set, a back office can work on (or replay) a chosen day.
    business_date: date | None = None
    # Where the close of business keeps its columnar state (Parquet), next to the database.
    data_dir: Path = Path("arrears-data")
    # The key that signs page sessions and CSRF tokens (ARREARS_SECRET_KEY). Every process of one
    # installation needs the same key; unset, one is generated into `<data_dir>/secret.key`.
    secret_key: str | None = field(default=None, repr=False)
    # The lender's own time zone (ARREARS_LENDER_TIMEZONE, an IANA name): the calendar of the
    # report's periods. Borrowers' local times come from their own zones, not from this.
    lender_timezone: str = DEFAULT_LENDER_TIMEZONE

    @classmethod
    def from_env(
        cls,
        database_url: str | None = None,
        products_file: str | None = None,
        business_date: str | None = None,
    ) -> Settings:
        url = database_url or os.environ.get("ARREARS_DATABASE_URL") or DEFAULT_DATABASE_URL
        products = products_file or os.environ.get("ARREARS_PRODUCTS") or None
        day_text = business_date or os.environ.get("ARREARS_BUSINESS_DATE") or None
        try:
            day = date.fromisoformat(day_text) if day_text else None
        except ValueError:
            raise SettingsError(
                f"business date {day_text!r} is not a date (YYYY-MM-DD expected)"
            ) from None
        return cls(
            database_url=url,
            products_file=Path(products) if products else None,
            business_date=day,
            data_dir=Path(os.environ.get("ARREARS_DATA_DIR") or "arrears-data"),
            secret_key=_secret_key(os.environ.get("ARREARS_SECRET_KEY")),
            lender_timezone=_timezone(os.environ.get("ARREARS_LENDER_TIMEZONE")),
        )

    def today(self) -> date:
        return self.business_date or date.today()

    def to_env(self) -> dict[str, str]:
        """These settings as the environment variables `from_env` reads (for worker processes)."""
        env = {"ARREARS_DATABASE_URL": self.database_url, "ARREARS_DATA_DIR": str(self.data_dir)}
        if self.products_file is not None:
            env["ARREARS_PRODUCTS"] = str(self.products_file)
        if self.business_date is not None:
            env["ARREARS_BUSINESS_DATE"] = self.business_date.isoformat()
        if self.secret_key is not None:
            env["ARREARS_SECRET_KEY"] = self.secret_key
        if self.lender_timezone != DEFAULT_LENDER_TIMEZONE:
            env["ARREARS_LENDER_TIMEZONE"] = self.lender_timezone
        return env


MIN_SECRET_KEY_LENGTH = 32


def _secret_key(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise SettingsError(
            f"ARREARS_SECRET_KEY is {len(value)} characters; use at least {MIN_SECRET_KEY_LENGTH}"
            " random ones (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return value


def _timezone(value: str | None) -> str:
    if not value:
        return DEFAULT_LENDER_TIMEZONE
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"ARREARS_LENDER_TIMEZONE {value!r} is not a time zone (an IANA name such as "
            "Asia/Shanghai or America/New_York expected)"
        ) from None
    return value


def bureau_environment() -> dict[str, str]:
    """The `ARREARS_BUREAU_*` variables, for `arrears.bureau.settings.BureauSettings`, which
    parses them (this module stays the only reader of `os.environ`)."""
    return {k: v for k, v in os.environ.items() if k.startswith("ARREARS_BUREAU_")}
