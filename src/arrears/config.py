"""Settings from the environment, in one place: nothing else reads `os.environ`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./arrears.db"


@dataclass(frozen=True)
class Settings:
    database_url: str
    products_file: Path | None

    @classmethod
    def from_env(
        cls, database_url: str | None = None, products_file: str | None = None
    ) -> Settings:
        url = database_url or os.environ.get("ARREARS_DATABASE_URL") or DEFAULT_DATABASE_URL
        products = products_file or os.environ.get("ARREARS_PRODUCTS") or None
        return cls(database_url=url, products_file=Path(products) if products else None)
