"""What AUC, KS, Gini, calibration and PSI mean, on numbers small enough to check by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from arrears.scoring import metrics


def test_auc_counts_the_pairs_a_bad_outranks_a_good():
    # bads at 0.35 and 0.8, goods at 0.1 and 0.4: 3 of the 4 (bad, good) pairs are in order
    y = np.array([0, 0, 1, 1])
    risk = np.array([0.1, 0.4, 0.35, 0.8])
    assert metrics.auc(y, risk) == pytest.approx(0.75)
    assert metrics.gini(y, risk) == pytest.approx(0.5)


def test_ties_count_one_half():
    assert metrics.auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert metrics.auc(np.array([0, 1, 1]), np.array([0.2, 0.2, 0.9])) == pytest.approx(0.75)


def test_ks_is_the_widest_gap_between_cumulative_bads_and_goods():
    # riskiest first: bad, good, bad, good → cum bads .5 .5 1 1, cum goods 0 .5 .5 1
    y = np.array([0, 0, 1, 1])
    risk = np.array([0.1, 0.4, 0.35, 0.8])
    assert metrics.ks(y, risk) == pytest.approx(0.5)
    assert metrics.ks(np.array([0, 0, 1, 1]), np.array([1, 2, 3, 4])) == pytest.approx(1.0)


def test_ks_steps_ties_together():
    # one value shared by a bad and a good cannot separate them
    assert metrics.ks(np.array([0, 1]), np.array([0.3, 0.3])) == pytest.approx(0.0)


def test_calibration_table_compares_mean_prediction_with_the_observed_rate():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    rows = metrics.calibration_table(y, p, bins=2)
    assert [r.rows for r in rows] == [3, 3]
    assert rows[0].mean_predicted == pytest.approx(0.2)
    assert rows[0].observed_bad_rate == pytest.approx(1 / 3)
    assert rows[1].mean_predicted == pytest.approx(0.5)
    assert rows[1].observed_bad_rate == pytest.approx(2 / 3)


def test_psi_by_hand():
    # (0.25-0.5)·ln(0.25/0.5) + (0.75-0.5)·ln(0.75/0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert metrics.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    assert metrics.psi(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == 0.0


def test_bin_shares_put_missing_values_in_their_own_bin():
    edges = np.array([1.0, 2.0])
    shares = metrics.bin_shares(np.array([0.5, 1.0, 1.5, 2.5, np.nan]), edges)
    # (-inf,1) [1,2) [2,inf) NaN
    assert shares.tolist() == pytest.approx([0.2, 0.4, 0.2, 0.2])


def test_single_class_is_refused():
    with pytest.raises(ValueError, match="at least one bad"):
        metrics.auc(np.array([0, 0]), np.array([0.1, 0.2]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=60).filter(
        lambda rows: 0 < sum(r[0] for r in rows) < len(rows)
    )
)
def test_auc_agrees_with_scikit_learn_and_is_symmetric(rows):
    y = np.array([r[0] for r in rows])
    risk = np.array([r[1] for r in rows], dtype=float)
    assert metrics.auc(y, risk) == pytest.approx(roc_auc_score(y, risk))
    assert metrics.auc(y, -risk) == pytest.approx(1 - metrics.auc(y, risk))
    assert 0.0 <= metrics.ks(y, risk) <= 1.0


shares = st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12).filter(lambda v: sum(v) > 0)


@settings(max_examples=80, deadline=None)
@given(shares, shares)
def test_psi_is_never_negative_and_zero_only_for_the_same_population(a, b):
    n = min(len(a), len(b))
    e = np.array(a[:n]) / sum(a[:n]) if sum(a[:n]) else np.full(n, 1 / n)
    x = np.array(b[:n]) / sum(b[:n]) if sum(b[:n]) else np.full(n, 1 / n)
    assert metrics.psi(e, x) >= 0
    assert metrics.psi(e, e) == pytest.approx(0.0)
    assert metrics.psi(e, x) == pytest.approx(metrics.psi(x, e))  # symmetric by construction


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50), st.integers(1, 12))
def test_bin_shares_sum_to_one(values, bins):
    v = np.array(values)
    edges = metrics.quantile_edges(v, bins)
    assert metrics.bin_shares(v, edges).sum() == pytest.approx(1.0)
