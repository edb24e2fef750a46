"""Admission's default scorer: the registry's champion application model.

`champion_scorer(engine)` is an admission `Scorer` (docs/admission.md): given the applications
frame, it scores each row with whatever application model is champion when it is called, so
a promotion takes effect on the next decision, and gives each row the model's reason codes (the
characteristics that lowered the score most, in English and Chinese) and the model's identity.
With no champion it gives no scores and says so (`ModelScores.model` is None): the applications
are decided on the rules only and referred with `NO_CHAMPION`.

Where a characteristic comes from: the application's own field of the same name (`age`,
`product`, `term_months`, `monthly_income` …; `principal` is the `requested_amount`), else the
application's `features` (`features.NAME` columns in a CSV). Amounts are given to the model in
currency units, not minor units, as the training data (the simulator's book) holds them. A
characteristic the model needs that an application does not give is `MissingFeatures`, naming
it and the applications: the API answers 422, the CLI an error — never a silent missing value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Engine

from arrears.loans.money import minor_units
from arrears.scoring import modeldir, registry
from arrears.scoring.admission import FEATURE_PREFIX, ModelScores, Reason, Scorer
from arrears.scoring.scorecard import Scorecard

# Application fields that are amounts (minor units in the frame) and the model's name for each.
AMOUNT_FIELDS = {
    "monthly_income": "monthly_income",
    "requested_amount": "principal",
    "existing_monthly_debt": "existing_monthly_debt",
    "existing_exposure": "existing_exposure",
}
PLAIN_FIELDS = ("age", "product", "kind", "term_months", "current_dpd", "max_dpd_12m")


class MissingFeatures(ValueError):
    """Applications that do not give a characteristic the champion needs."""

    def __init__(self, model: str, missing: dict[str, list[str]]) -> None:
        shown = "; ".join(
            f"{name} (application {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''})"
            for name, ids in missing.items()
        )
        super().__init__(
            f"the champion application model {model} needs characteristics the application does "
            f"not give: {shown} — add them as features / 申请缺少冠军模型所需特征: "
            f"{', '.join(missing)}"
        )
        self.missing = missing


def _unit_amounts(column: pl.Series, currencies: pl.Series) -> pl.Series:
    exponents = [10 ** minor_units(c) for c in currencies.to_list()]
    return column.cast(pl.Float64) / pl.Series(exponents, dtype=pl.Float64)


def model_frame(saved: modeldir.SavedModel, frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """The characteristics `saved` scores, from the applications frame, in the model's types."""
    by_model_name = {model: app for app, model in AMOUNT_FIELDS.items()}
    given = frame.get_column("features_given").to_list() if "features_given" in frame else None
    ids = frame.get_column("application_id").to_list()
    columns: dict[str, pl.Series] = {}
    missing: dict[str, list[str]] = {}
    bad: list[str] = []
    for name, dtype in saved.features.items():
        if f"{FEATURE_PREFIX}{name}" in frame.columns and given is not None:
            lacking = [ids[i] for i, names in enumerate(given) if name not in (names or [])]
            if lacking:
                missing[name] = lacking
                continue
            series = frame.get_column(f"{FEATURE_PREFIX}{name}")
        elif name in by_model_name:
            series = _unit_amounts(frame.get_column(by_model_name[name]), frame["currency"])
        elif name in PLAIN_FIELDS:
            series = frame.get_column(name)
        else:
            missing[name] = ids
            continue
        if dtype == "numerical":
            cast = series.cast(pl.Float64, strict=False)
            wrong = series.is_not_null() & cast.is_null()
            if wrong.any():
                row = int(np.flatnonzero(wrong.to_numpy())[0])
                bad.append(f"application {ids[row]}: {name}: {series[row]!r} is not a number")
            series = cast
        else:
            series = series.cast(pl.String)
        columns[name] = series.alias(name)
    if missing:
        raise MissingFeatures(label, missing)
    if bad:
        raise ValueError("; ".join(bad) + " / 特征须为数值")
    return pl.DataFrame(list(columns.values()))


def champion_scorer(engine: Engine) -> Scorer:
    """A scorer using the application champion at call time (no champion: no scores)."""

    def score(frame: pl.DataFrame) -> ModelScores:
        try:
            info = registry.champion(engine, "application")
        except registry.RegistryError:
            return ModelScores([None] * frame.height, [() for _ in range(frame.height)], None)
        saved = modeldir.load(Path(info.path))
        X = model_frame(saved, frame, f"#{info.model_id} (version {info.version})")
        estimator = saved.estimator
        if isinstance(estimator, Scorecard):
            by_feature = estimator.points_by_feature(X)
            points = by_feature.sum(axis=1)
            reasons = estimator.reasons_from_points(by_feature, TOP_REASONS)
        else:
            points = estimator.points(X)
            reasons = estimator.reasons(X, TOP_REASONS)
        model = {
            "model_id": info.model_id,
            "version": info.version,
            "kind": "application",
            "method": saved.meta.get("method"),
        }
        return ModelScores([round(float(p), 2) for p in points], reason_tuples(reasons), model)

    return score


TOP_REASONS = 3


def reason_tuples(frame: pl.DataFrame) -> list[tuple[Reason, ...]]:
    """A model's reason columns (`reasons.reason_columns`) as each row's reason codes."""
    slots = sorted({int(c.split("_")[1]) for c in frame.columns if c.startswith("reason_")})
    out: list[tuple[Reason, ...]] = []
    for row in frame.iter_rows(named=True):
        out.append(
            tuple(
                Reason(
                    str(row[f"reason_{k}"]), str(row[f"reason_{k}_en"]), str(row[f"reason_{k}_zh"])
                )
                for k in slots
                if row[f"reason_{k}"] is not None
            )
        )
    return out
