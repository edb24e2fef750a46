"""The contact rules as pure functions: windows (and their intersection across zones), the
Chinese daily cap on effective calls, Reg F's 7-in-7 and conversation lockout, the
Massachusetts overlay, contact persons, opt-outs, disputes, legal stage, caps, holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from arrears.contact.policy import (
    ContactPolicyError,
    applicable,
    load_policies,
    parse_contact_policy,
)
from arrears.contact.rules import Attempt, Facts, decide

POLICIES = load_policies()
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def ask(facts, at, channel="voice", history=(), party="debtor", purpose="collection", loan=None):
    return decide(
        applicable(POLICIES, facts.country, facts.region),
        facts,
        list(history),
        party,
        loan,
        channel,
        purpose,
        at,
    )


CN = Facts("B-1")
US = Facts("B-2", country="US", region="US-NY", timezones=(NY,))
MA = Facts("B-3", country="US", region="US-MA", timezones=(NY,))


def test_cn_window_blocks_at_night_and_says_when_it_opens():
    d = ask(CN, datetime(2026, 11, 28, 23, 30, tzinfo=SH), "sms")
    assert not d.allowed and d.rule_ids == ("CN-C1",)
    assert d.next_allowed_at == datetime(2026, 11, 29, 8, 0, tzinfo=SH)
    assert ask(CN, datetime(2026, 11, 28, 21, 59, tzinfo=SH), "sms").allowed
    assert not ask(CN, datetime(2026, 11, 28, 22, 0, tzinfo=SH), "sms").allowed
    assert not ask(CN, datetime(2026, 11, 28, 7, 59, tzinfo=SH), "sms").allowed


def test_letters_are_not_held_to_the_window():
    assert ask(CN, datetime(2026, 11, 28, 3, 0, tzinfo=SH), "letter").allowed


def test_allowed_decision_names_the_rules_it_checked():
    d = ask(CN, datetime(2026, 11, 28, 10, 0, tzinfo=SH), "voice")
    assert d.allowed and "CN-C1" in d.rule_ids and "CN-C2" in d.rule_ids


def test_us_window_is_the_intersection_of_two_possible_zones():
    tn = Facts("B-4", country="US", region="US-TN", timezones=(NY,))
    # 08:30 in New York is 07:30 in Chicago: not yet convenient in both
    at = datetime(2026, 11, 30, 8, 30, tzinfo=NY)
    d = ask(tn, at)
    assert not d.allowed and d.rule_ids == ("US-C1",)
    assert d.next_allowed_at == datetime(2026, 11, 30, 9, 0, tzinfo=NY)  # 08:00 Chicago
    # 20:30 New York is fine alone but 21:00 closes New York first
    assert ask(tn, datetime(2026, 11, 30, 20, 30, tzinfo=NY)).allowed
    assert not ask(tn, datetime(2026, 11, 30, 21, 0, tzinfo=NY)).allowed


def at_sh(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_cn_three_effective_calls_a_day_across_agencies():
    made = [
        Attempt(at_sh(28, 9).astimezone(UTC), "voice", outcome="conversation"),
        Attempt(at_sh(28, 10).astimezone(UTC), "robot", outcome="refused"),  # AI voice counts
        Attempt(at_sh(28, 11).astimezone(UTC), "voice", outcome="no_answer"),  # not effective
    ]
    assert ask(CN, at_sh(28, 12), history=made).allowed
    made.append(Attempt(at_sh(28, 12).astimezone(UTC), "voice", outcome="conversation"))
    d = ask(CN, at_sh(28, 13), history=made)
    assert not d.allowed and d.rule_ids == ("CN-C2",)
    assert d.next_allowed_at == at_sh(29, 8)  # midnight, then the window opens
    assert ask(CN, at_sh(29, 8), history=made).allowed


def test_us_seven_attempts_in_seven_days_per_debt():
    start = datetime(2026, 11, 1, 10, 0, tzinfo=NY)
    made = [
        Attempt(
            (start + timedelta(days=i)).astimezone(UTC), "voice", loan_id="L-1", outcome="no_answer"
        )
        for i in range(7)
    ]
    d = ask(US, start + timedelta(days=6, hours=2), history=made, loan="L-1")
    assert not d.allowed and d.rule_ids == ("US-C2",)
    assert d.next_allowed_at == start + timedelta(days=7)
    # another debt is counted on its own
    assert ask(US, start + timedelta(days=6, hours=2), history=made, loan="L-2").allowed


def test_us_conversation_starts_a_seven_day_lockout():
    talk = datetime(2026, 11, 2, 10, 0, tzinfo=NY)
    made = [Attempt(talk.astimezone(UTC), "voice", loan_id="L-1", outcome="conversation")]
    d = ask(US, talk + timedelta(days=3), history=made, loan="L-1")
    assert not d.allowed and d.rule_ids == ("US-C2-CONVERSATION",)
    assert d.next_allowed_at == talk + timedelta(days=7)
    assert ask(US, talk + timedelta(days=3), "email", history=made, loan="L-1").allowed


def test_massachusetts_overlay_two_per_seven_days_including_texts():
    t = datetime(2026, 11, 2, 10, 0, tzinfo=NY)
    made = [
        Attempt(t.astimezone(UTC), "sms", loan_id="L-1"),
        Attempt(
            (t + timedelta(days=1)).astimezone(UTC), "voice", loan_id="L-1", outcome="no_answer"
        ),
    ]
    d = ask(MA, t + timedelta(days=2), history=made, loan="L-1")
    assert not d.allowed and "US-MA-C3" in d.rule_ids
    assert ask(US, t + timedelta(days=2), history=made, loan="L-1").allowed


def test_cn_contact_persons_only_when_unreachable_and_a_refusal_is_final():
    at = at_sh(28, 10)
    d = ask(CN, at, party="contact:P1")
    assert not d.allowed and d.rule_ids == ("CN-C5",)
    unreachable = Facts("B-1", flags=frozenset({"unreachable"}))
    assert ask(unreachable, at, party="contact:P1").allowed
    refused = Facts("B-1", flags=frozenset({"unreachable"}), contact_refused=True)
    d = ask(refused, at, party="contact:P1")
    assert not d.allowed and d.next_allowed_at is None


def test_third_parties_never():
    d = ask(CN, at_sh(28, 10), party="third_party")
    assert not d.allowed and d.rule_ids == ("ALL-THIRD-PARTY",)


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        (Facts("B", opt_outs=frozenset({"sms"})), "ALL-OPT-OUT"),
        (Facts("B", opt_outs=frozenset({"all"})), "ALL-OPT-OUT"),
        (Facts("B", flags=frozenset({"do_not_contact"})), "ALL-DNC"),
        (Facts("B", flags=frozenset({"deceased"})), "ALL-DECEASED"),
        (Facts("B", flags=frozenset({"hardship"})), "ALL-HARDSHIP"),
        (Facts("B", disputed=True), "ALL-DISPUTE"),
        (Facts("B", stage="legal"), "ALL-LEGAL-STAGE"),
    ],
)
def test_standing_facts_block_with_their_rule_and_no_time(facts, rule):
    d = ask(facts, at_sh(28, 10), "sms")
    assert not d.allowed and rule in d.rule_ids and d.next_allowed_at is None


def test_legal_stage_still_allows_letters_and_cease_allows_permitted_notices():
    assert ask(Facts("B", stage="legal"), at_sh(28, 10), "letter").allowed
    ceased = Facts(
        "B", country="US", region="US-NY", timezones=(NY,), flags=frozenset({"cease_written"})
    )
    at = datetime(2026, 11, 30, 10, 0, tzinfo=NY)
    assert not ask(ceased, at, "email").allowed
    assert ask(ceased, at, "email", purpose="legal_notice").allowed


def test_daily_sms_cap_counts_the_local_day():
    made = [Attempt(at_sh(28, h).astimezone(UTC), "sms") for h in (8, 9, 10)]
    d = ask(CN, at_sh(28, 11), "sms", history=made)
    assert not d.allowed and d.rule_ids == ("ALL-CAP-SMS",)
    assert d.next_allowed_at == at_sh(29, 8)


def test_holidays_when_enabled():
    text = (
        "jurisdiction: CN\napplies_to: {country: CN}\n"
        "holidays: {id: H, enabled: true, dates: ['2026-10-01', '2026-10-02']}\n"
    )
    p = parse_contact_policy(text, "h.yaml")
    d = decide(
        (p,), CN, [], "debtor", None, "sms", "reminder", datetime(2026, 10, 1, 10, tzinfo=SH)
    )
    assert not d.allowed and d.next_allowed_at == datetime(2026, 10, 3, 0, 0, tzinfo=SH)


def test_policy_errors_name_file_line_and_field():
    text = "jurisdiction: CN\napplies_to: {country: CN}\nwindow:\n  id: W\n  start: '8 am'\n  end: '22:00'\n"
    with pytest.raises(ContactPolicyError, match=r"bad\.yaml:5: field 字段 window\.start"):
        parse_contact_policy(text, "bad.yaml")
    with pytest.raises(ContactPolicyError, match=r"x\.yaml:4: field 字段 rolling\.0\.channels"):
        parse_contact_policy(
            "jurisdiction: US\napplies_to: {}\nrolling:\n  - {id: R, max: 2, days: 7, channels: [fax]}\n",
            "x.yaml",
        )
    with pytest.raises(ContactPolicyError, match=r"y\.yaml:3: field 字段 surprise"):
        parse_contact_policy("jurisdiction: US\napplies_to: {}\nsurprise: 1\n", "y.yaml")


def test_jurisdictions_chosen_per_borrower():
    names = lambda c, r: [p.jurisdiction for p in applicable(POLICIES, c, r)]  # noqa: E731
    assert set(names("CN", None)) == {"ALL", "CN"}
    assert set(names("US", "US-MA")) == {"ALL", "US", "US-MA"}
    assert set(names("US", "US-NY")) == {"ALL", "US"}


def test_massachusetts_one_home_visit_per_thirty_days():
    t = datetime(2026, 11, 2, 10, 0, tzinfo=NY)
    made = [Attempt(t.astimezone(UTC), "visit", loan_id="L-1")]
    d = ask(MA, t + timedelta(days=29), "visit", history=made, loan="L-1")
    assert not d.allowed and d.rule_ids == ("US-MA-C3-VISIT",)
    assert d.next_allowed_at == t + timedelta(days=30)
    assert ask(US, t + timedelta(days=29), "visit", history=made, loan="L-1").allowed
