"""The model registry in the database: each trained model is a numbered version of its kind;
one version per kind is the champion (the latest promotion), and every promotion records who
made it and why. Registering and promoting are events, written in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from arrears.scoring import modeldir
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import ModelPromotion, ModelVersion


class RegistryError(ValueError):
    """A registry request that cannot be done (unknown model, bad kind)."""


@dataclass(frozen=True)
class ModelInfo:
    model_id: int
    kind: str
    version: int
    method: str
    path: str
    rows: int
    auc: float | None
    ks: float | None
    created_at: datetime
    created_by: str
    champion: bool
    promoted_by: str | None
    promoted_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "kind": self.kind,
            "version": self.version,
            "method": self.method,
            "path": self.path,
            "rows": self.rows,
            "auc": self.auc,
            "ks": self.ks,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "created_by": self.created_by,
            "champion": self.champion,
            "promoted_by": self.promoted_by,
            "promoted_at": self.promoted_at.isoformat(timespec="seconds")
            if self.promoted_at
            else None,
        }


def register(engine: Engine, path: Path, created_by: str) -> int:
    """Record the model in `path` as the next version of its kind; returns its id."""
    saved = modeldir.load(path)
    validation = saved.metrics().get("validation", {})
    with unit_of_work(engine) as session:
        latest = session.scalar(
            select(func.max(ModelVersion.version)).where(ModelVersion.kind == saved.kind)
        )
        row = ModelVersion(
            kind=saved.kind,
            version=(latest or 0) + 1,
            method=saved.meta["method"],
            path=str(Path(path).resolve()),
            target=saved.meta["target"],
            fingerprint=saved.meta["fingerprint"]["sha256"],
            rows=int(saved.meta["fingerprint"]["rows"]),
            metrics={k: validation.get(k) for k in ("rows", "bad_rate", "auc", "ks", "gini")},
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "model.registered",
            payload={
                "model_id": row.model_id,
                "kind": row.kind,
                "version": row.version,
                "method": row.method,
                "fingerprint": row.fingerprint,
                "by": created_by,
            },
        )
        return row.model_id


def promote(
    engine: Engine, model_id: int, promoted_by: str, reason: str | None = None
) -> ModelInfo:
    """Make the model the champion of its kind."""
    with unit_of_work(engine) as session:
        row = session.get(ModelVersion, model_id)
        if row is None:
            raise RegistryError(f"no model with id {model_id} (see `arrears model list`)")
        previous = _champion_id(session, row.kind)
        session.add(
            ModelPromotion(
                model_id=model_id,
                kind=row.kind,
                promoted_by=promoted_by,
                promoted_at=datetime.now(UTC),
                reason=reason,
            )
        )
        record_event(
            session,
            "model.promoted",
            payload={
                "model_id": model_id,
                "kind": row.kind,
                "version": row.version,
                "previous_champion": previous,
                "by": promoted_by,
                "reason": reason,
            },
        )
    return next(m for m in list_models(engine) if m.model_id == model_id)


def _champion_id(session: Any, kind: str) -> int | None:
    return session.scalar(
        select(ModelPromotion.model_id)
        .where(ModelPromotion.kind == kind)
        .order_by(ModelPromotion.promoted_at.desc(), ModelPromotion.id.desc())
        .limit(1)
    )


def list_models(engine: Engine, kind: str | None = None) -> list[ModelInfo]:
    with unit_of_work(engine) as session:
        query = select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.version)
        if kind is not None:
            query = query.where(ModelVersion.kind == kind)
        rows = list(session.scalars(query))
        champions = {k: _champion_id(session, k) for k in {r.kind for r in rows}}
        last_promotion: dict[int, ModelPromotion] = {}
        for p in session.scalars(select(ModelPromotion).order_by(ModelPromotion.id)):
            last_promotion[p.model_id] = p
        return [
            ModelInfo(
                model_id=r.model_id,
                kind=r.kind,
                version=r.version,
                method=r.method,
                path=r.path,
                rows=r.rows,
                auc=r.metrics.get("auc"),
                ks=r.metrics.get("ks"),
                created_at=r.created_at,
                created_by=r.created_by,
                champion=champions.get(r.kind) == r.model_id,
                promoted_by=last_promotion[r.model_id].promoted_by
                if r.model_id in last_promotion
                else None,
                promoted_at=last_promotion[r.model_id].promoted_at
                if r.model_id in last_promotion
                else None,
            )
            for r in rows
        ]


def champion(engine: Engine, kind: str) -> ModelInfo:
    """The champion of `kind`; an error naming the kind when none was promoted."""
    if kind not in modeldir.KINDS:
        raise RegistryError(f"kind must be one of {', '.join(modeldir.KINDS)}, not {kind!r}")
    for info in list_models(engine, kind):
        if info.champion:
            return info
    raise RegistryError(f"no champion {kind} model: train one and `arrears model promote ID`")
