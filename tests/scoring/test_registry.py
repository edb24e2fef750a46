"""The registry on SQLite and PostgreSQL: versions per kind, one champion, who promoted it, and
the events written with each change; monitoring records its runs and alerts."""

import numpy as np
import pytest
from sqlalchemy import select

from arrears.scoring import registry, service
from arrears.scoring.modeldir import load
from arrears.scoring.monitor import stability
from arrears.store.db import session_factory
from arrears.store.tables import Event


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory, credit_data):
    frame, y, _ = credit_data
    data = frame.head(4000).with_columns(bad=y[:4000])
    root = tmp_path_factory.mktemp("models")
    first = service.train_model(
        data, kind="application", method="scorecard", target="bad", out=root / "a1", source="test"
    )
    second = service.train_model(
        data, kind="application", method="gbm", target="bad", out=root / "a2", source="test"
    )
    return first.path, second.path


def _events(engine, type_):
    with session_factory(engine)() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.seq)))


def test_versions_count_up_and_the_latest_promotion_is_champion(engine, model_dirs):
    first = registry.register(engine, model_dirs[0], "alice")
    second = registry.register(engine, model_dirs[1], "alice")
    models = registry.list_models(engine)
    assert [(m.kind, m.version, m.method) for m in models] == [
        ("application", 1, "scorecard"),
        ("application", 2, "gbm"),
    ]
    assert not any(m.champion for m in models)
    with pytest.raises(registry.RegistryError, match="no champion application"):
        registry.champion(engine, "application")

    registry.promote(engine, first, "bob", "first card")
    assert registry.champion(engine, "application").model_id == first
    info = registry.promote(engine, second, "carol", "challenger won")
    assert info.champion and info.promoted_by == "carol"
    assert registry.champion(engine, "application").model_id == second
    assert [m.champion for m in registry.list_models(engine)] == [False, True]

    promoted = _events(engine, "model.promoted")
    assert [e.payload["by"] for e in promoted] == ["bob", "carol"]
    assert promoted[1].payload["previous_champion"] == first
    assert len(_events(engine, "model.registered")) == 2


def test_unknown_model_is_refused(engine):
    with pytest.raises(registry.RegistryError, match="no model with id 99"):
        registry.promote(engine, 99, "bob")


def test_stability_of_the_training_population_is_near_zero_and_a_shift_is_seen(
    model_dirs, credit_data
):
    frame, _, _ = credit_data
    saved = load(model_dirs[0])
    psi, csi = stability(saved, frame.head(4000))
    assert psi < 0.02
    assert max(csi.values()) < 0.02
    # a population with many more bureau inquiries scores lower and shifts
    shifted = frame.head(4000).with_columns(inquiries_6m=frame.head(4000)["inquiries_6m"] + 4)
    psi_shifted, csi_shifted = stability(saved, shifted)
    assert psi_shifted > 0.25
    assert max(csi_shifted, key=csi_shifted.get) == "inquiries_6m"
    assert np.isfinite(psi_shifted)


def test_a_saved_gbm_scores_a_file_with_reasons(model_dirs, credit_data, tmp_path):
    frame, _, _ = credit_data
    data = tmp_path / "rows.parquet"
    frame.tail(500).with_columns(application_id=np.arange(500).astype(str)).write_parquet(data)
    result = service.score_file(model_dirs[1], data, tmp_path / "out.csv")
    assert result["rows"] == 500
    import polars as pl

    scored = pl.read_csv(tmp_path / "out.csv")
    assert scored.columns[:3] == ["application_id", "score", "probability"]
    riskiest = scored.sort("probability", descending=True).row(0, named=True)
    assert riskiest["reason_1"] in {"monthly_income", "inquiries_6m", "employment"}
    assert riskiest["reason_1_zh"] in {"月收入", "近6个月征信查询次数", "就业状况"}
