"""The admission decision, as the rulebook: hard rules decline whatever the score, the cut-offs
give approve / refer / decline, the band gives the limit and the rate — and, as properties over
random applications, a hard-rule hit always declines and a better score never gets a worse
decision, a lower limit or a higher rate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.scoring.admission import (
    DECISIONS,
    Application,
    admit,
    decide,
    default_policy,
    hard_rule_hits,
    monthly_instalment,
)

POLICY = default_policy()


def app(**changes: object) -> Application:
    """A clean consumer application: 35 years old, earns 20,000.00 a month, asks 50,000.00 over
    24 months, no other debt, no delinquency."""
    base = Application(
        application_id="A1", product="consumer", kind="individual", borrower_id=None,
        currency="CNY", requested_amount=50_000_00, term_months=24, age=35,
        monthly_income=20_000_00, existing_monthly_debt=0, existing_exposure=0,
        current_dpd=0, max_dpd_12m=0, blacklist=False, enforcement_listed=False, score=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_good_score_is_approved_with_its_band() -> None:
    d = decide(app(), 730, POLICY)
    assert d.decision == "approve" and d.band == "A"
    assert d.limit == 200_000_00 and d.approved_amount == 50_000_00
    assert d.annual_rate == Decimal("0.0880") and d.reason_codes == ["SCORE_APPROVE"]


def test_an_amount_above_the_band_limit_is_reduced() -> None:
    d = decide(app(requested_amount=60_000_00), 650, POLICY)  # band C: limit 30,000.00
    assert d.decision == "approve" and d.band == "C" and d.approved_amount == 30_000_00
    assert d.reason_codes == ["SCORE_APPROVE", "LIMIT_REDUCED"]
    assert "30000.00" in d.reasons[1].en and "下调" in d.reasons[1].zh


def test_the_grey_zone_is_referred_and_below_it_declined() -> None:
    refer = decide(app(), 620, POLICY)
    assert refer.decision == "refer" and refer.reason_codes == ["SCORE_REFER"]
    assert refer.band == "C" and refer.approved_amount is None
    decline = decide(app(), 599.5, POLICY)
    assert decline.decision == "decline" and decline.reason_codes == ["SCORE_BELOW_CUTOFF"]
    assert "评分" in decline.reasons[0].zh
    missing = decide(app(), None, POLICY)
    assert missing.decision == "refer" and missing.reason_codes == ["SCORE_MISSING"]


def test_each_hard_rule_declines_with_its_reason() -> None:
    cases = {
        "AGE_OUT_OF_RANGE": app(age=17),
        "BLACKLISTED": app(blacklist=True),
        "ENFORCEMENT_LISTED": app(enforcement_listed=True),
        "DEBT_TO_INCOME": app(monthly_income=5_000_00, existing_monthly_debt=2_000_00),
        "DELINQUENT_NOW": app(current_dpd=3),
        "DELINQUENT_12M": app(max_dpd_12m=61),
        "CONCENTRATION": app(existing_exposure=1_990_000_00),
    }
    for code, application in cases.items():
        d = decide(application, 800, POLICY)
        assert d.decision == "decline" and d.reason_codes == [code], code
        assert d.reasons[0].en and d.reasons[0].zh != d.reasons[0].en


def test_debt_to_income_counts_the_new_instalment_at_the_stress_rate() -> None:
    # 50,000.00 over 24 months at 18%: 2,496.21 a month (rounded up); income 20,000.00.
    assert monthly_instalment(50_000_00, Decimal("0.18"), 24) == 2_496_21
    assert decide(app(), 730, POLICY).debt_to_income == Decimal("0.1248")
    assert monthly_instalment(1200, Decimal(0), 12) == 100
    edge = app(monthly_income=10_000_00, existing_monthly_debt=5_500_00 - 2_496_21)
    assert decide(edge, 730, POLICY).decision == "approve"  # exactly 0.55 passes
    over = replace(edge, existing_monthly_debt=edge.existing_monthly_debt + 1)
    assert decide(over, 730, POLICY).reason_codes == ["DEBT_TO_INCOME"]


def test_enterprises_have_no_age_and_project_finance_no_dti() -> None:
    firm = app(
        product="project",
        kind="enterprise",
        age=None,
        monthly_income=0,
        requested_amount=10_000_000_00,
    )
    d = decide(firm, 650, POLICY)
    assert d.decision == "approve" and d.debt_to_income is None and d.band == "B"


def test_the_scorer_fills_only_missing_scores_and_sees_the_applications() -> None:
    seen: list[pl.DataFrame] = []

    def scorer(frame: pl.DataFrame) -> list[float]:
        seen.append(frame)
        return [700.0 if amount < 40_000_00 else 550.0 for amount in frame["requested_amount"]]

    apps = [
        app(application_id="own", score=610.0),
        app(application_id="s1", requested_amount=10_000_00),
        app(application_id="s2"),
    ]
    decisions = admit(apps, POLICY, scorer)
    assert [d.score for d in decisions] == [610.0, 700.0, 550.0]
    assert [d.decision for d in decisions] == ["refer", "approve", "decline"]
    assert seen[0]["application_id"].to_list() == ["s1", "s2"]


# ------------------------------------------------------------------ properties

products = st.sampled_from(sorted(POLICY.products))
scores = st.floats(min_value=300, max_value=900, allow_nan=False)


@st.composite
def applications(draw: st.DrawFn) -> Application:
    product = draw(products)
    kind = "individual" if product in ("consumer", "card") else "enterprise"
    return app(
        product=product,
        kind=kind,
        age=draw(st.integers(10, 90)) if kind == "individual" else None,
        requested_amount=draw(st.integers(1, 60_000_000_00)),
        term_months=draw(st.integers(1, 120)),
        monthly_income=draw(st.integers(0, 10_000_000_00)),
        existing_monthly_debt=draw(st.integers(0, 1_000_000_00)),
        existing_exposure=draw(st.integers(0, 60_000_000_00)),
        current_dpd=draw(st.sampled_from([0, 0, 0, 1, 45])),
        max_dpd_12m=draw(st.sampled_from([0, 0, 30, 61, 120])),
        blacklist=draw(st.booleans()),
        enforcement_listed=draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(applications(), scores)
def test_a_hard_rule_hit_always_declines(application: Application, score: float) -> None:
    hits = hard_rule_hits(application, POLICY.products[application.product].rules)
    d = decide(application, score, POLICY)
    if hits:
        assert d.decision == "decline"
        assert d.reason_codes == [h.code for h in hits]
        assert d.approved_amount is None and d.limit is None
    assert d.reasons, "every decision says why"


@settings(max_examples=400, deadline=None)
@given(applications(), scores, scores)
def test_a_higher_score_never_gets_a_worse_decision(
    application: Application, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    worse, better = decide(application, low, POLICY), decide(application, high, POLICY)
    assert DECISIONS.index(worse.decision) <= DECISIONS.index(better.decision)
    if worse.limit is not None:
        assert better.limit is not None and better.limit >= worse.limit
        assert better.annual_rate is not None and worse.annual_rate is not None
        assert better.annual_rate <= worse.annual_rate


@settings(max_examples=300, deadline=None)
@given(applications(), scores)
def test_an_approval_never_lends_more_than_asked_or_the_limit(
    application: Application, score: float
) -> None:
    d = decide(application, score, POLICY)
    if d.decision == "approve":
        assert d.approved_amount is not None and d.limit is not None
        assert 0 < d.approved_amount <= min(application.requested_amount, d.limit)
    else:
        assert d.approved_amount is None


@settings(max_examples=300, deadline=None)
@given(applications(), st.one_of(st.none(), scores))
def test_a_blacklisted_phone_refers_an_approval_and_changes_nothing_else(
    application: Application, score: float | None
) -> None:
    """A phone-only blacklist hit is weaker than a national id's: it never declines by itself,
    never improves a decision, and turns exactly the approvals into referrals."""
    from dataclasses import replace

    plain = decide(application, score, POLICY)
    flagged = decide(replace(application, blacklist_phone=True), score, POLICY)
    if plain.decision == "approve":
        assert flagged.decision == "refer" and flagged.approved_amount is None
        assert flagged.reason_codes == ["BLACKLIST_PHONE"]
    elif plain.decision == "refer":
        assert flagged.decision == "refer" and flagged.reason_codes[0] == "BLACKLIST_PHONE"
    else:
        assert flagged == plain
