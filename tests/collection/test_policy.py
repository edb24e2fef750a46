"""The stage policy as a rulebook: DPD ranges, amount and segment conditions, escalation rules,
and file errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.collection.policy import CaseFigures, PolicyError, load_policy, parse_policy, stage_for

POLICY = load_policy()


def figures(dpd, amount=100_00, segment="individual", broken=0, product="consumer"):
    return CaseFigures(dpd, amount, "CNY", product, segment, broken)


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [
        (1, "reminder"),
        (7, "reminder"),
        (8, "early"),
        (30, "early"),
        (31, "mid"),
        (90, "mid"),
        (91, "late"),
        (180, "late"),
        (400, "late"),
    ],
)
def test_dpd_ranges_of_the_shipped_policy(dpd, stage):
    assert stage_for(POLICY, figures(dpd)) == stage


def test_legal_only_by_rule_large_and_long():
    assert stage_for(POLICY, figures(181, amount=49_999_99)) == "late"
    assert stage_for(POLICY, figures(181, amount=50_000_00)) == "legal"


def test_two_broken_promises_escalate_one_stage():
    assert stage_for(POLICY, figures(10, broken=1)) == "early"
    assert stage_for(POLICY, figures(10, broken=2)) == "mid"


def test_enterprise_skips_reminder():
    assert stage_for(POLICY, figures(3, segment="enterprise")) == "early"
    assert stage_for(POLICY, figures(40, segment="enterprise")) == "mid"


@given(st.integers(1, 5000), st.integers(0, 10**9), st.integers(0, 5))
def test_stage_never_falls_as_dpd_or_broken_promises_grow(dpd, amount, broken):
    rank = POLICY.rank
    here = rank(stage_for(POLICY, figures(dpd, amount, broken=broken)))
    assert rank(stage_for(POLICY, figures(dpd + 1, amount, broken=broken))) >= here
    assert rank(stage_for(POLICY, figures(dpd, amount, broken=broken + 1))) >= here


def test_actions_and_permissions():
    assert "sms" in POLICY.stage("reminder").actions
    assert "visit" not in POLICY.stage("reminder").actions
    assert POLICY.allows("de_escalate", "risk") and not POLICY.allows("de_escalate", "collector")
    assert POLICY.approval_limit("plan", "collector", "CNY") == 5000_00
    assert POLICY.approval_limit("write_off", "collector", "CNY") is None


SHIPPED = (Path(__file__).resolve().parents[2] / "src/arrears/collection/policy.yaml").read_text()


def test_bad_field_names_file_line_and_field():
    bad = SHIPPED.replace("max_dpd: 30", "max_dpd: thirty")
    with pytest.raises(PolicyError) as err:
        parse_policy(bad, "lender.yaml")
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "thirty" in t)
    assert f"lender.yaml:{line}" in str(err.value)
    assert "stages.1.max_dpd" in str(err.value) and "'thirty'" in str(err.value)


def test_unknown_action_and_unknown_rule_target_are_refused():
    with pytest.raises(PolicyError, match="action 'fax'"):
        parse_policy(SHIPPED.replace("[sms, email, robot_call, call]", "[sms, fax]"), "p.yaml")
    with pytest.raises(PolicyError, match="'to' 'court'"):
        parse_policy(SHIPPED.replace("to: legal", "to: court"), "p.yaml")
    with pytest.raises(PolicyError, match=r"p.yaml:18: field 字段 stages.0.mindpd .*Extra inputs"):
        parse_policy(SHIPPED.replace("min_dpd: 1\n", "min_dpd: 1\n    mindpd: 3\n", 1), "p.yaml")


def test_unreadable_file(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
