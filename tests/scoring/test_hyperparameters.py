"""How the models' hyperparameters are chosen: the scorecard's `C` by a stratified inner
cross-validation of the rows given to `fit` (with a fixed seed, WoE of each fold from its training
part alone), the GBM's rounds by early stopping on a held-out part of those rows — and both
recorded in the model directory."""

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.scoring import scorecard as scorecard_module
from arrears.scoring import service
from arrears.scoring.binning import fold_woe, woe_and_iv
from arrears.scoring.gbm import GbmChallenger
from arrears.scoring.scorecard import C_GRID, Scorecard, ScorecardError, inner_folds


@pytest.fixture(scope="module")
def halves(credit_data):
    """The first 6000 rows to fit on, the other 6000 as the 'test' rows fit must never see."""
    frame, y, _ = credit_data
    return frame[:6000], y[:6000], frame[6000:], y[6000:]


@pytest.fixture(scope="module")
def cv_card(halves):
    X, y, *_ = halves
    return Scorecard(special_codes={"monthly_income": [-1]}).fit(X, y)


def test_c_is_chosen_by_inner_cross_validation_by_default(cv_card):
    assert Scorecard().C == "cv"
    assert cv_card.C_ in C_GRID
    chosen = cv_card.chosen()
    assert chosen["by"] == "cv" and chosen["cv_folds"] == 5 and chosen["cv_seed"] == 0
    assert [e["C"] for e in chosen["cv_auc"]] == list(C_GRID)
    # the chosen C is the (first) best of the fold AUCs it reports
    best = max(e["auc"] for e in chosen["cv_auc"])
    assert chosen["C"] == next(e["C"] for e in chosen["cv_auc"] if e["auc"] == best)
    assert 0.6 < best < 1.0


def test_the_choice_depends_on_the_rows_given_to_fit_alone(halves, cv_card):
    """Whatever happens to the rows outside X — labels flipped, values scrambled — a fit on X
    chooses the same C from the same fold AUCs and learns the same card."""
    X, y, X_out, y_out = halves
    rng = np.random.default_rng(3)
    scrambled = X_out.select(pl.all().shuffle(seed=5))
    everything = pl.concat([X, scrambled])
    labels = np.concatenate([y, 1 - y_out[rng.permutation(y_out.size)]])
    again = Scorecard(special_codes={"monthly_income": [-1]}).fit(everything[:6000], labels[:6000])
    assert again.chosen() == cv_card.chosen()
    assert again.coef_ == pytest.approx(cv_card.coef_)


def test_each_inner_fold_gets_woe_and_iv_from_its_training_part_only(halves, monkeypatch):
    """A direct check inside fit: every WoE table of the inner cross-validation is computed from
    exactly one fold's training part (its rows' targets, in its rows' order) — never from a row
    of that fold's held-out part, and never from a row outside X."""
    X, y, *_ = halves
    folds = inner_folds(y, 5, 0)
    calls = []
    real = scorecard_module.fold_woe

    def spy(index, targets, n_bins):
        calls.append(np.asarray(targets).copy())
        return real(index, targets, n_bins)

    monkeypatch.setattr(scorecard_module, "fold_woe", spy)
    card = Scorecard(special_codes={"monthly_income": [-1]}).fit(X, y)
    n_features = len([n for n in card.feature_names_in_ if card.binnings_[n].iv >= card.min_iv])
    assert len(calls) == 5 * n_features
    for k, (fit_rows, held_rows) in enumerate(folds):
        assert np.intersect1d(fit_rows, held_rows).size == 0
        for targets in calls[k * n_features : (k + 1) * n_features]:
            assert targets.size == fit_rows.size < y.size
            assert np.array_equal(targets, y[fit_rows])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 1), min_size=30, max_size=300).filter(
        lambda v: min(sum(v), len(v) - sum(v)) >= 5
    ),
    st.integers(2, 5),
    st.integers(0, 2**16),
)
def test_inner_folds_are_a_stratified_repeatable_partition(labels, folds, seed):
    y = np.array(labels)
    split = inner_folds(y, folds, seed)
    assert len(split) == folds
    held = np.concatenate([h for _, h in split])
    assert np.array_equal(np.sort(held), np.arange(y.size))  # every row held out exactly once
    for fit_rows, held_rows in split:
        assert np.array_equal(np.sort(np.concatenate([fit_rows, held_rows])), np.arange(y.size))
        # stratified: each held-out part has its share of the bads, to within one row
        assert abs(y[held_rows].sum() - y.sum() * held_rows.size / y.size) <= 1.0 + 1e-9
    again = inner_folds(y, folds, seed)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(split, again, strict=True))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_fold_woe_counts_only_the_rows_it_is_given(data):
    n_bins = data.draw(st.integers(1, 6))
    n = data.draw(st.integers(4, 80))
    index = np.array(data.draw(st.lists(st.integers(0, n_bins - 1), min_size=n, max_size=n)))
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    part = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=2))))
    if y[part].min() == y[part].max():
        return  # WoE needs a bad and a good among the rows given
    woe, iv = fold_woe(index[part], y[part], n_bins)
    rows = np.bincount(index[part], minlength=n_bins)
    bads = np.bincount(index[part], weights=y[part], minlength=n_bins)
    expected_woe, expected_iv = woe_and_iv(rows, bads)
    assert woe == pytest.approx(expected_woe) and iv == pytest.approx(expected_iv)
    # changing every target outside the part changes nothing
    flipped = y.copy()
    outside = np.setdiff1d(np.arange(n), part)
    flipped[outside] = 1 - flipped[outside]
    assert fold_woe(index[part], flipped[part], n_bins)[0] == pytest.approx(woe)


def test_a_given_c_is_used_as_given(halves):
    X, y, *_ = halves
    card = Scorecard(C=0.3).fit(X, y)
    assert card.C_ == 0.3
    assert card.chosen() == {
        "C": 0.3,
        "by": "given",
        "cv_folds": None,
        "cv_seed": None,
        "cv_auc": None,
    }


@pytest.mark.parametrize("bad_c", ["auto", 0, -1.0])
def test_a_bad_c_is_refused_by_name(halves, bad_c):
    X, y, *_ = halves
    with pytest.raises(ScorecardError, match="C must be a positive number"):
        Scorecard(C=bad_c).fit(X, y)


def test_cross_validation_with_too_few_bads_says_so(halves):
    X, y, *_ = halves
    few = np.zeros_like(y)
    few[:3] = 1
    with pytest.raises(ScorecardError, match='C="cv" needs at least 5 bads'):
        Scorecard().fit(X, few)


def test_saved_card_keeps_what_fit_chose(cv_card):
    again = Scorecard.from_dict(json.loads(json.dumps(cv_card.to_dict())))
    assert again.chosen() == cv_card.chosen()


def test_the_model_directory_records_the_chosen_c_and_gbm_rounds(credit_data, tmp_path):
    frame, y, _ = credit_data
    data = frame[:4000].with_columns(bad=pl.Series(y[:4000]))
    for method in ("scorecard", "gbm"):
        result = service.train_model(
            data,
            kind="application",
            method=method,
            target="bad",
            out=tmp_path / method,
            source="test",
        )
        saved = json.loads((result.path / "estimator.json").read_text(encoding="utf-8"))
        if method == "scorecard":
            assert saved["chosen"]["by"] == "cv" and saved["chosen"]["C"] in C_GRID
            assert len(saved["chosen"]["cv_auc"]) == len(C_GRID)
        else:
            assert 1 <= saved["stopped_at"] <= saved["params"]["n_estimators"]


def test_gbm_rounds_come_from_early_stopping_on_a_held_out_part_of_its_rows(halves):
    X, y, *_ = halves
    model = GbmChallenger(n_estimators=400, early_stopping_rounds=30).fit(X, y)
    chosen = model.chosen()
    assert 1 <= chosen["rounds_early_stopping"] <= 400
    # refitted on all rows with the rounds scaled from the 75% the trees were grown on
    assert chosen["rounds"] == max(round(chosen["rounds_early_stopping"] / 0.75), 1)
    assert chosen["held_out_fraction"] == 0.25 and chosen["seed"] == 0
    assert chosen["monotone"]["inquiries_6m"] == 1 and chosen["monotone"]["monthly_income"] == -1
    again = GbmChallenger.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.chosen() == chosen


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(C_GRID))
def test_the_inner_regressions_solve_scikit_learns_objective(seed, c):
    """The inner cross-validation's own Newton path lands where scikit-learn's
    `LogisticRegression(C=…)` does, collinear columns included."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(800, 6))
    X[:, 1] = X[:, 0] + 0.05 * rng.normal(size=800)
    y = (rng.random(800) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - X[:, 2] - 1.2)))).astype(int)
    grid = tuple(g for g in C_GRID if g <= c)
    intercept, coef = scorecard_module.logistic_path(X, y, grid)[-1]
    reference = LogisticRegression(C=c, solver="newton-cholesky", tol=1e-10, max_iter=500)
    reference.fit(X, y)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-6)
    assert coef == pytest.approx(reference.coef_[0], abs=1e-6)


def test_the_inner_fits_drop_wrong_signed_columns_as_fit_does():
    """y depends on x alone; the columns are x + e and e, so the unpruned fit cancels e with a
    negative weight on the second column — which goes (the least IV), and the rest refits."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=3000)
    e = rng.normal(size=3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
    X = np.column_stack([x + e, e])
    _, unpruned = scorecard_module.logistic_path(X, y, (10.0,))[0]
    assert unpruned[0] > 0 > unpruned[1]
    keep, (_, coef), _ = scorecard_module.signed_fit(X, y, 10.0, [0.5, 0.1])
    assert keep == [0] and coef.shape == (1,) and coef[0] > 0
