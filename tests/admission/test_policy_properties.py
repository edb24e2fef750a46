"""Properties over random policies, not just the shipped one: any policy that loads gives a
better score a decision, limit and rate at least as good; and no application file content —
however wrong — does anything but decide or raise `ApplicationsRejected`."""

from __future__ import annotations

from dataclasses import replace

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.scoring.admission import (
    DECISIONS,
    ApplicationsRejected,
    PolicyError,
    admit,
    decide,
    default_policy,
    parse_policy,
    validate_applications,
)
from tests.admission.test_decide import app


@st.composite
def policies(draw: st.DrawFn) -> str:
    refer = draw(st.integers(300, 800))
    approve = draw(st.integers(refer, 900))
    count = draw(st.integers(1, 4))
    starts = sorted(draw(st.lists(st.integers(200, 900), min_size=count, max_size=count,
                                  unique=True)), reverse=True)  # fmt: skip
    starts[-1] = min(starts[-1], refer)  # the lowest band covers the refer cut-off
    if len(set(starts)) < len(starts):
        starts = sorted(set(starts), reverse=True)
    limits = sorted(draw(st.lists(st.integers(1, 10**7), min_size=len(starts),
                                  max_size=len(starts))), reverse=True)  # fmt: skip
    rates = sorted(draw(st.lists(st.integers(0, 9999), min_size=len(starts),
                                 max_size=len(starts))))  # fmt: skip
    bands = [
        {"band": f"B{i}", "min_score": s, "limit": f"{limit}.00", "annual_rate": f"0.{r:04d}"}
        for i, (s, limit, r) in enumerate(zip(starts, limits, rates, strict=True))
    ]
    doc = {
        "currency": "CNY",
        "hard_rules": {"age": {"min": 18, "max": 70}},
        "products": {"consumer": {"cutoffs": {"approve": approve, "refer": refer},
                                  "bands": bands}},
    }  # fmt: skip
    return yaml.safe_dump(doc)


@settings(max_examples=200, deadline=None)
@given(policies(), st.floats(100, 1000), st.floats(100, 1000), st.integers(1, 10**9))
def test_any_valid_policy_is_monotone_in_the_score(
    text: str, a: float, b: float, amount: int
) -> None:
    policy = parse_policy(text, "random.yaml")
    application = replace(app(), requested_amount=amount, monthly_income=10**12)
    low, high = sorted((a, b))
    worse, better = decide(application, low, policy), decide(application, high, policy)
    assert DECISIONS.index(worse.decision) <= DECISIONS.index(better.decision)
    if worse.limit is not None:
        assert better.limit is not None and better.limit >= worse.limit
        assert better.annual_rate is not None and worse.annual_rate is not None
        assert better.annual_rate <= worse.annual_rate
    if better.decision != "decline":
        assert better.band is not None  # every score that passes has a band


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_a_policy_loads_or_names_the_problem(text: str) -> None:
    try:
        parse_policy(text, "fuzz.yaml")
    except PolicyError as exc:
        assert str(exc).startswith("fuzz.yaml")


FIELDS = ["application_id", "product", "kind", "borrower_id", "currency", "requested_amount",
          "term_months", "age", "monthly_income", "score", "blacklist", "other"]  # fmt: skip
values = st.one_of(st.text(max_size=12), st.integers(-10, 10**6), st.none(), st.booleans(),
                   st.floats(allow_nan=True))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), values, max_size=len(FIELDS)),
                max_size=5))  # fmt: skip
def test_any_rows_decide_or_are_rejected_naming_the_row(rows: list[dict]) -> None:
    policy = default_policy()
    try:
        apps = validate_applications(list(enumerate(rows, start=1)), policy, "f.json")
    except ApplicationsRejected as exc:
        assert exc.issues and all(i.startswith("f.json:row ") for i in exc.issues)
        return
    assert len(admit(apps, policy)) == len(rows)
