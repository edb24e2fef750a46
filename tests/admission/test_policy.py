"""The admission policy file: the shipped one loads; a broken one is refused with the file, the
line and the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from arrears.scoring.admission import DEFAULT_POLICY, PolicyError, load_policy, parse_policy

GOOD = """\
currency: CNY
hard_rules:
  age: {min: 18, max: 65}
  debt_to_income: {max: "0.5", stress_rate: "0.12"}
  delinquency: {max_current_dpd: 0, max_dpd_12m: 30}
  concentration: {max_exposure: "100000.00"}
products:
  consumer:
    cutoffs: {approve: 650, refer: 600}
    bands:
      - {band: A, min_score: 700, limit: "50000.00", annual_rate: "0.10"}
      - {band: B, min_score: 600, limit: "20000.00", annual_rate: "0.15"}
  sme:
    hard_rules:
      debt_to_income: null
      concentration: {max_exposure: "900000.00"}
    cutoffs: {approve: 620, refer: 620}
    bands:
      - {band: A, min_score: 500, limit: "800000.00", annual_rate: "0.08"}
"""


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert set(policy.products) == {"consumer", "card", "sme", "supply_chain", "project"}
    consumer = policy.products["consumer"]
    assert consumer.rules.max_debt_to_income == Decimal("0.55")
    assert consumer.bands[0].limit == 200_000_00  # minor units
    assert policy.products["project"].rules.max_debt_to_income is None  # switched off


def test_product_rules_override_the_general_ones() -> None:
    policy = parse_policy(GOOD, "p.yaml")
    consumer, sme = policy.products["consumer"].rules, policy.products["sme"].rules
    assert consumer.max_exposure == 100_000_00 and sme.max_exposure == 900_000_00
    assert consumer.max_debt_to_income == Decimal("0.5") and sme.max_debt_to_income is None
    assert sme.age == (18, 65) and sme.max_dpd_12m == 30  # kept from the general rules


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "approve: 650, refer: 600",
            'approve: "high", refer: 600',
            r"p\.yaml:9: products\.consumer\.cutoffs\.approve: .*'high'",
        ),
        (
            "approve: 650, refer: 600",
            "approve: 600, refer: 650",
            r"p\.yaml:9: products\.consumer\.cutoffs: .*refer 650\.0 is above approve",
        ),
        (
            'limit: "20000.00"',
            'limit: "20000.001"',
            r"p\.yaml:12: products\.consumer\.bands\.1\.limit: .*decimals",
        ),
        (
            'min_score: 600, limit: "20000.00"',
            'min_score: 710, limit: "20000.00"',
            r"p\.yaml:12: products\.consumer\.bands\.1\.min_score: bands must go",
        ),
        (
            'annual_rate: "0.15"',
            'annual_rate: "0.05"',
            r"p\.yaml:12: products\.consumer\.bands\.1: band B offers",
        ),
        (
            "{band: B, min_score: 600,",
            "{band: B, min_score: 640,",
            r"p\.yaml:10: products\.consumer\.bands: the lowest band starts at 640",
        ),
        (
            "  age: {min: 18, max: 65}",
            "  age: {min: 70, max: 65}",
            r"p\.yaml:3: hard_rules\.age: .*min 70 is above max 65",
        ),
        (
            "  age: {min: 18, max: 65}",
            "  age: {min: 18, max: 65, maxx: 3}",
            r"p\.yaml:3: hard_rules\.age\.maxx: Extra inputs",
        ),
        ("currency: CNY", "currency: yuan", r"p\.yaml:1: currency: .*'yuan'"),
        ("products:", "products: []\nx:", r"p\.yaml"),
    ],
)
def test_errors_name_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    with pytest.raises(PolicyError, match=expected):
        parse_policy(GOOD.replace(old, new, 1), "p.yaml")


def test_not_yaml_and_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"p\.yaml:2: not valid YAML"):
        parse_policy("a: 1\n  - b: [\n", "p.yaml")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
