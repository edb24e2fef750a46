"""Where the close of business keeps its columnar state between runs: one folder of Parquet files
per business date, written to a temporary folder and renamed into place, so a run killed half-way
never leaves a half-written state behind — the previous complete one stays readable.

A state is only trusted when the database still holds the complete COB run that wrote it (same
run id and start time): a database rebuilt from scratch never picks up another book's state.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from arrears.cob.engine import State

FILES = ("open", "closed", "loans", "status")


@dataclass(frozen=True)
class Manifest:
    as_of: date
    run_id: int
    run_started_at: str
    last_event_seq: int
    rules_version: str

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "as_of": self.as_of.isoformat()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(**{**data, "as_of": date.fromisoformat(data["as_of"])})


@dataclass(frozen=True)
class StoredState:
    manifest: Manifest
    state: State
    status: pl.DataFrame


class StateStore:
    """The state folders of one database under the data directory."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        key = hashlib.sha256(database_url.encode()).hexdigest()[:12]
        self.root = data_dir / "cob" / key

    def folder(self, as_of: date) -> Path:
        return self.root / as_of.isoformat()

    def dates(self) -> list[date]:
        if not self.root.exists():
            return []
        found = []
        for child in self.root.iterdir():
            if child.is_dir() and (child / "manifest.json").exists():
                try:
                    found.append(date.fromisoformat(child.name))
                except ValueError:
                    continue
        return sorted(found)

    def manifest(self, as_of: date) -> Manifest:
        return Manifest.from_json((self.folder(as_of) / "manifest.json").read_text())

    def load(self, as_of: date) -> StoredState:
        folder = self.folder(as_of)
        frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in FILES}
        state = State(open=frames["open"], closed=frames["closed"], loans=frames["loans"])
        return StoredState(self.manifest(as_of), state, frames["status"])

    def save(self, manifest: Manifest, state: State, status: pl.DataFrame) -> Path:
        """Write atomically: a temporary sibling folder, then one rename."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.folder(manifest.as_of)
        stamp = datetime.now().strftime("%H%M%S%f")
        temp = self.root / f".tmp-{manifest.as_of.isoformat()}-{stamp}"
        temp.mkdir()
        frames = {
            "open": state.open,
            "closed": state.closed,
            "loans": state.loans,
            "status": status,
        }
        for name, frame in frames.items():
            frame.write_parquet(temp / f"{name}.parquet")
        (temp / "manifest.json").write_text(manifest.to_json())
        if final.exists():
            # Replace: move the old one aside first so there is never a moment without either.
            old = self.root / f".old-{manifest.as_of.isoformat()}-{stamp}"
            final.rename(old)
            temp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            temp.rename(final)
        return final

    def prune(self, keep: set[date]) -> None:
        """Remove states not in `keep`, and leftovers of killed runs."""
        if not self.root.exists():
            return
        for child in self.root.iterdir():
            if child.name.startswith((".tmp-", ".old-")):
                shutil.rmtree(child, ignore_errors=True)
        for day in self.dates():
            if day not in keep:
                shutil.rmtree(self.folder(day), ignore_errors=True)
