"""The GBM challenger: constrained to the scorecard's trends, calibrated on a held-out fold."""

import json

import numpy as np
import polars as pl
import pytest

from arrears.scoring import metrics
from arrears.scoring.gbm import GbmChallenger


@pytest.fixture(scope="module")
def split(credit_data):
    frame, y, z = credit_data
    return frame[:8000], y[:8000], frame[8000:], y[8000:], z[8000:]


@pytest.fixture(scope="module")
def model(split):
    X, y, *_ = split
    return GbmChallenger().fit(X, y)


def test_constraints_follow_the_binned_trends(model):
    assert model.monotone_["inquiries_6m"] == 1
    assert model.monotone_["monthly_income"] == -1
    assert model.monotone_["employment"] == 0  # categories are never constrained


def test_predictions_respect_the_constraint(model):
    grid = pl.DataFrame(
        {
            "monthly_income": [9000.0] * 10,
            "inquiries_6m": [float(i) for i in range(10)],
            "employment": ["salaried"] * 10,
            "noise": [0.0] * 10,
        }
    )
    p = model.predict_proba(grid)[:, 1]
    assert (np.diff(p) >= -1e-12).all()


def test_it_ranks_and_is_calibrated_out_of_sample(model, split):
    _, _, X_test, y_test, z_test = split
    p = model.predict_proba(X_test)[:, 1]
    assert metrics.auc(y_test, p) > metrics.auc(y_test, z_test) - 0.03
    # calibrated: the mean prediction is near the observed bad rate overall and by quintile
    assert p.mean() == pytest.approx(y_test.mean(), abs=0.02)
    for row in metrics.calibration_table(y_test, p, bins=5):
        assert row.mean_predicted == pytest.approx(row.observed_bad_rate, abs=0.06)


def test_isotonic_calibration_is_monotone(split):
    X, y, X_test, *_ = split
    iso = GbmChallenger(calibration="isotonic", n_estimators=200).fit(X, y)
    margin = iso.margin(X_test)
    p = iso.predict_proba(X_test)[:, 1]
    order = np.argsort(margin)
    assert (np.diff(p[order]) >= -1e-12).all()


def test_points_and_reasons(model, split):
    _, _, X_test, *_ = split
    head = X_test.head(200)
    points = model.points(head)
    p = model.predict_proba(head)[:, 1]
    assert np.corrcoef(points, p)[0, 1] < -0.8  # higher points, lower risk
    reasons = model.reasons(head)
    worst = int(np.argmin(points))
    assert reasons.row(worst, named=True)["reason_1"] in {
        "inquiries_6m",
        "monthly_income",
        "employment",
    }


def test_saved_model_predicts_the_same(model, split):
    _, _, X_test, *_ = split
    again = GbmChallenger.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.predict_proba(X_test) == pytest.approx(model.predict_proba(X_test))
