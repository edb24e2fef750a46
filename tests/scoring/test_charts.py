"""The data of a report's models section."""

import numpy as np
import pytest

from arrears.scoring import charts


def test_histogram_bins_are_aligned_and_count_every_score():
    h = charts.score_histogram(np.array([581.0, 589.9, 590.0, 604.2]))
    assert h["edges"] == [580.0, 590.0, 600.0, 610.0]
    assert h["counts"] == [2, 1, 1]


def test_ks_curve_starts_at_zero_ends_at_one_and_peaks_at_ks():
    y = np.array([0, 0, 1, 1])
    risk = np.array([0.1, 0.4, 0.35, 0.8])
    curve = charts.ks_points(y, risk, samples=5)
    assert curve["bads"][0] == 0 and curve["bads"][-1] == 1
    assert curve["goods"][0] == 0 and curve["goods"][-1] == 1
    assert curve["ks"] == pytest.approx(0.5)
    gaps = np.array(curve["bads"]) - np.array(curve["goods"])
    assert gaps.max() == pytest.approx(0.5)
