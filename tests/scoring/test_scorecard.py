"""The scorecard: bins, WoE, points on the lender's scale, reason codes, and a saved card that
scores exactly like the fitted one."""

import json
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from arrears.scoring import metrics
from arrears.scoring.binning import FeatureBinning, woe_and_iv
from arrears.scoring.scorecard import Scorecard, ScorecardError, scaling


def test_scaling_puts_600_points_at_50_to_1_and_20_points_double_the_odds():
    offset, factor = scaling(600, 50, 20)
    assert offset + factor * math.log(50) == pytest.approx(600)
    assert offset + factor * math.log(100) == pytest.approx(620)


def test_woe_is_log_of_bad_share_over_good_share():
    # bin 0: 10 rows 1 bad; bin 1: 10 rows 5 bads; an empty bin has WoE 0
    woe, iv = woe_and_iv(np.array([10, 10, 0]), np.array([1, 5, 0]))
    bad0, good0 = 1.5 / 6.5, 9.5 / 14.5
    bad1, good1 = 5.5 / 6.5, 5.5 / 14.5
    assert woe[0] == pytest.approx(math.log(bad0 / good0))
    assert woe[1] == pytest.approx(math.log(bad1 / good1))
    assert woe[2] == 0.0
    assert iv == pytest.approx((1 / 6 - 9 / 14) * woe[0] + (5 / 6 - 5 / 14) * woe[1])


def test_numerical_bins_are_half_open_with_special_and_missing_apart():
    b = FeatureBinning(name="x", dtype="numerical", splits=[1.0, 5.0], special_codes=[-1.0])
    index = b.bin_index(pl.Series([0.5, 1.0, 4.9, 5.0, -1.0, None]))
    assert index.tolist() == [0, 1, 1, 2, 3, 4]
    assert b.labels() == ["[-inf, 1)", "[1, 5)", "[5, inf)", "Special", "Missing"]


def test_unseen_categories_score_as_missing():
    b = FeatureBinning(name="c", dtype="categorical", groups=[["a", "b"], ["c"]])
    assert b.bin_index(pl.Series(["a", "c", "zzz", None])).tolist() == [0, 1, 3, 3]


@pytest.fixture(scope="module")
def card(credit_data):
    frame, y, _ = credit_data
    return Scorecard(special_codes={"monthly_income": [-1]}).fit(frame, y)


def test_the_card_learns_the_true_ranking(card, credit_data):
    frame, y, z = credit_data
    p = card.predict_proba(frame)[:, 1]
    # close to the truth's own AUC, and the noise column is left out
    assert metrics.auc(y, p) > metrics.auc(y, z) - 0.02
    assert "noise" not in card.features_
    assert set(card.features_) == {"monthly_income", "inquiries_6m", "employment"}


def test_trends_are_monotonic_as_asked(card):
    inquiries = card.binnings_["inquiries_6m"]
    income = card.binnings_["monthly_income"]
    assert inquiries.trend == 1  # more inquiries, more bads
    assert income.trend == -1
    regular = card.points_["inquiries_6m"][: inquiries.n_regular]
    assert (np.diff(regular) <= 1e-9).all()  # more inquiries never earn points


def test_special_and_missing_values_have_their_own_bins(card):
    income = card.binnings_["monthly_income"]
    inquiries = card.binnings_["inquiries_6m"]
    assert income.rows[income.special_bin] == 100
    assert inquiries.rows[inquiries.missing_bin] == 300


def test_points_are_the_sum_of_the_table_and_map_back_to_the_probability(card, credit_data):
    frame, _, _ = credit_data
    head = frame.head(50)
    by_feature = card.points_by_feature(head)
    assert card.points(head) == pytest.approx(by_feature.sum(axis=1))
    p = card.predict_proba(head)[:, 1]
    odds = (1 - p) / p
    offset, factor = scaling(600, 50, 20)
    assert card.points(head) == pytest.approx(offset + factor * np.log(odds))
    table = card.table()
    assert set(table.columns) == {"feature", "bin", "rows", "bad_rate", "woe", "iv", "points"}
    assert (
        table.filter(pl.col("feature") == "employment").height
        == card.binnings_["employment"].n_regular + 2
    )


def test_a_different_scale_moves_points_not_probabilities(credit_data):
    frame, y, _ = credit_data
    a = Scorecard(special_codes={"monthly_income": [-1]}).fit(frame, y)
    b = Scorecard(
        special_codes={"monthly_income": [-1]}, base_points=500, base_odds=20, pdo=40
    ).fit(frame, y)
    head = frame.head(20)
    assert a.predict_proba(head) == pytest.approx(b.predict_proba(head))
    assert not np.allclose(a.points(head), b.points(head))


def test_reasons_name_what_cost_the_most_points(card, credit_data):
    _frame, _, _ = credit_data
    risky = pl.DataFrame(
        {
            "monthly_income": [2000.0],
            "inquiries_6m": [9.0],
            "employment": ["salaried"],
            "noise": [0.0],
        }
    )
    reasons = card.reasons(risky, top=3)
    row = reasons.row(0, named=True)
    assert {row["reason_1"], row["reason_2"]} == {"monthly_income", "inquiries_6m"}
    assert row["reason_1_zh"] in {"月收入", "近6个月征信查询次数"}
    assert row["reason_1_points"] >= row["reason_2_points"] > 0
    # a salaried borrower lost nothing on employment: no third reason
    assert row["reason_3"] is None


def test_saved_card_scores_exactly_like_the_fitted_one(card, credit_data):
    frame, _, _ = credit_data
    again = Scorecard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert again.points(frame) == pytest.approx(card.points(frame), abs=1e-9)


def test_it_is_a_scikit_learn_estimator(credit_data):
    frame, y, _ = credit_data
    card = clone(Scorecard(min_iv=0.05))
    scores = cross_val_score(card, frame.to_pandas(), y, cv=2, scoring="roc_auc")
    assert scores.mean() > 0.65


def test_a_target_with_one_class_is_refused(credit_data):
    frame, y, _ = credit_data
    with pytest.raises(ScorecardError, match="both bads"):
        Scorecard().fit(frame, np.zeros_like(y))


def test_a_missing_column_at_scoring_is_named(card, credit_data):
    frame, _, _ = credit_data
    with pytest.raises(ScorecardError, match="inquiries_6m"):
        card.points(frame.drop("inquiries_6m"))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 20, allow_nan=False), min_size=2, max_size=30))
def test_more_inquiries_never_raise_the_score(card, inquiries):
    """The card holds the business trend for any applicant: with everything else equal, more
    bureau inquiries never earn points."""
    values = sorted(inquiries)
    rows = pl.DataFrame(
        {
            "monthly_income": [9000.0] * len(values),
            "inquiries_6m": values,
            "employment": ["salaried"] * len(values),
            "noise": [0.0] * len(values),
        }
    )
    assert (np.diff(card.points(rows)) <= 1e-9).all()
