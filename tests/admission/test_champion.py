"""Admission with the registry's champion application model (SQLite and PostgreSQL): a tiny
scorecard is trained, registered and promoted; an application without a score is then scored by
it (API and CLI), a characteristic it needs and the application lacks is a 422 / a CLI error
naming it, and with no champion the application is referred as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from arrears.cli import app
from arrears.scoring import modeldir, registry
from arrears.scoring.champion import MissingFeatures, model_frame
from arrears.scoring.service import train_model
from arrears.store.db import make_engine, upgrade
from tests.api.conftest import Api

URL = "/api/v1/admissions"
BODY = {
    "application_id": "M1",
    "product": "consumer",
    "requested_amount": "30000.00",
    "term_months": 24,
    "age": 35,
    "monthly_income": "20000.00",
}


def tiny_applications(n: int = 3000) -> pl.DataFrame:
    """Risk rises with inquiries and falls with income (in currency units, as the simulator's
    book holds them)."""
    rng = np.random.default_rng(3)
    income = rng.lognormal(9.3, 0.5, n).round()
    inquiries = rng.poisson(1.5, n).astype(float)
    z = -2.2 + 0.6 * inquiries - 1.0 * np.log(income / 11000)
    bad = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int8)
    return pl.DataFrame(
        {
            "age": rng.integers(21, 65, n),
            "monthly_income": income,
            "inquiries_6m": inquiries,
            "bad": bad,
        }
    )


def promote_tiny_model(engine: Engine, out: Path) -> modeldir.SavedModel:
    result = train_model(
        tiny_applications(), kind="application", method="scorecard", target="bad", out=out,
        source="tiny test applications",
    )  # fmt: skip
    model_id = registry.register(engine, result.path, "tester")
    registry.promote(engine, model_id, "tester", reason="test")
    saved = modeldir.load(result.path)
    assert {"monthly_income", "inquiries_6m"} <= set(saved.features)
    return saved


def expected_points(saved: modeldir.SavedModel, income: float, inquiries: float) -> float:
    row = {"age": 35.0, "monthly_income": income, "inquiries_6m": inquiries}
    frame = pl.DataFrame({n: [float(row[n])] for n in saved.features})
    return round(float(saved.estimator.points(frame)[0]), 2)


def test_the_api_scores_with_the_champion(api: Api, tmp_path: Path) -> None:
    body = {**BODY, "features": {"inquiries_6m": 0}}
    before = api.post(URL, body, role="risk").json()
    assert before["reason_codes"] == ["NO_CHAMPION"] and before["score"] is None
    assert before["model"] is None and "no champion" in before["reasons"][0]["en"]
    assert "冠军模型" in before["reasons"][0]["zh"]
    saved = promote_tiny_model(api.engine, tmp_path / "model")
    low_risk = api.post(URL, body, role="risk")
    assert low_risk.status_code == 200, low_risk.text
    assert low_risk.json()["score"] == expected_points(saved, 20000.0, 0)
    assert low_risk.json()["model"]["version"] == 1
    high_risk = api.post(URL, {**body, "features": {"inquiries_6m": 9}}, role="risk").json()
    assert high_risk["score"] < low_risk.json()["score"]
    # the model's reason codes: many inquiries cost the most points, named in both languages
    top = high_risk["score_reasons"][0]
    assert top == {
        "code": "inquiries_6m",
        "en": "Credit inquiries in 6 months",
        "zh": "近6个月征信查询次数",
    }
    # a given score still wins over the champion
    assert api.post(URL, {**BODY, "score": 650}, role="risk").json()["score"] == 650


def test_a_characteristic_the_champion_needs_is_a_422_naming_it(api: Api, tmp_path: Path) -> None:
    promote_tiny_model(api.engine, tmp_path / "model")
    response = api.post(URL, BODY, role="risk")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(d["loc"][-1] == "inquiries_6m" for d in detail), detail
    assert "inquiries_6m" in response.text
    wrong = api.post(URL, {**BODY, "features": {"inquiries_6m": "many"}}, role="risk")
    assert wrong.status_code == 422 and "many" in wrong.text
    clash = api.post(URL, {**BODY, "features": {"age": 3}}, role="risk")
    assert clash.status_code == 422


def test_a_null_characteristic_is_scored_as_missing(api: Api, tmp_path: Path) -> None:
    saved = promote_tiny_model(api.engine, tmp_path / "model")
    response = api.post(URL, {**BODY, "features": {"inquiries_6m": None}}, role="risk")
    assert response.status_code == 200, response.text
    frame = pl.DataFrame(
        {"age": [35.0], "monthly_income": [20000.0], "inquiries_6m": [None]},
        schema={"age": pl.Float64, "monthly_income": pl.Float64, "inquiries_6m": pl.Float64},
    )
    assert response.json()["score"] == round(
        float(saved.estimator.points(frame.select(list(saved.features)))[0]), 2
    )


def test_amounts_reach_the_model_in_currency_units(tmp_path: Path, engine: Engine) -> None:
    from arrears.scoring.admission import (
        ApplicationIn,
        applications_frame,
        default_policy,
        to_application,
    )

    saved = promote_tiny_model(engine, tmp_path / "model")
    application = to_application(
        ApplicationIn.model_validate({**BODY, "features": {"inquiries_6m": "2"}}),
        default_policy(),
    )
    X = model_frame(saved, applications_frame([application]), "test")
    assert X.get_column("monthly_income").to_list() == [20000.0]
    assert X.get_column("inquiries_6m").to_list() == [2.0]


runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'champion.db'}"
    upgrade(url)
    return url


def admit(db: str, path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["--db", db, "--business-date", "2026-11-30", "admit", "--application", str(path),
              "--json"],
    )  # fmt: skip


def test_the_cli_scores_with_the_champion(tmp_path: Path, cli_db: str) -> None:
    csv_file = tmp_path / "apps.csv"
    csv_file.write_text(
        "application_id,product,requested_amount,term_months,age,monthly_income,"
        "features.inquiries_6m\n"
        "C1,consumer,30000.00,24,35,20000.00,0\n"
        "C2,consumer,30000.00,24,35,20000.00,\n"
    )
    before = admit(cli_db, csv_file)
    assert before.exit_code == 0, before.output
    assert [d["reason_codes"] for d in json.loads(before.stdout)] == [["NO_CHAMPION"]] * 2
    engine = make_engine(cli_db)
    saved = promote_tiny_model(engine, tmp_path / "model")
    engine.dispose()
    after = admit(cli_db, csv_file)
    assert after.exit_code == 0, after.output
    c1, c2 = json.loads(after.stdout)
    assert c1["score"] == expected_points(saved, 20000.0, 0)
    assert c2["score"] is not None  # an empty cell: given, missing, binned apart
    lacking = tmp_path / "lacking.json"
    lacking.write_text(json.dumps([{**BODY, "application_id": "C3"}]))
    refused = admit(cli_db, lacking)
    assert refused.exit_code == 2
    assert "inquiries_6m" in refused.stderr and "C3" in refused.stderr


# ------------------------------------------------------------------ property: what reaches the model


NAMES = ("inquiries_6m", "past_delinquencies", "leverage")
feature_maps = st.dictionaries(
    st.sampled_from(NAMES),
    st.none() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False),
    max_size=len(NAMES),
)


@settings(max_examples=60, deadline=None)
@given(maps=st.lists(feature_maps, min_size=1, max_size=6), needed=st.sets(st.sampled_from(NAMES)))
def test_a_model_gets_exactly_what_each_application_gave(maps, needed) -> None:
    """For any applications and any characteristics a model needs: an error naming exactly the
    characteristics some application did not give (and those applications), else each value as
    given (null stays missing) in the model's numerical type."""
    from arrears.scoring.admission import (
        ApplicationIn,
        applications_frame,
        default_policy,
        to_application,
    )

    apps = [
        to_application(
            ApplicationIn.model_validate({**BODY, "application_id": f"P{i}", "features": m}),
            default_policy(),
        )
        for i, m in enumerate(maps)
    ]
    saved = modeldir.SavedModel(
        Path("."), {"features": [{"name": n, "dtype": "numerical"} for n in sorted(needed)]}, None
    )  # type: ignore[arg-type]
    lacking = {n: [f"P{i}" for i, m in enumerate(maps) if n not in m] for n in sorted(needed)}
    lacking = {n: ids for n, ids in lacking.items() if ids}
    frame = applications_frame(apps)
    if lacking:
        with pytest.raises(MissingFeatures) as caught:
            model_frame(saved, frame, "m")
        assert caught.value.missing == lacking
        return
    X = model_frame(saved, frame, "m")
    for name in sorted(needed):
        expected = [None if m[name] is None else float(m[name]) for m in maps]
        assert X.get_column(name).to_list() == expected  # text round trip of a float is exact
