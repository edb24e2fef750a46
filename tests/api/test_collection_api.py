"""The collection API on the example book after a real close of business and the real daily case
update (2026-11-30): a collector takes the next case and works it, maker-checker on a
settlement, a lawsuit's steps, an agency placement, performance; the errors 404 / 409 / 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from arrears.auth import add_user, create_token
from arrears.collection.queues import set_collector
from arrears.collection.update import update_cases
from tests.api.conftest import TODAY, Api

LEGAL_BORROWER = "B0028"  # DPD 231, 62 256.36 overdue: legal by the shipped rule


@pytest.fixture
def work(closed: Api) -> Api:
    update_cases(closed.engine, TODAY)
    add_user(closed.engine, "cole", "collector", None)
    closed.tokens["cole"] = create_token(closed.engine, "cole")[0]
    for name in ("collector", "cole"):
        set_collector(
            closed.engine, name, "admin", max_open_cases=5, stages=["reminder", "early", "mid"]
        )
    return closed


@pytest.fixture
def any_hour():  # type: ignore[no-untyped-def]
    """The API logs a contact at the wall-clock time, and the real guard (rightly) blocks calls at
    night in the borrower's zone: where the rules are not what a test is about, allow all."""
    from arrears.contact import guard

    previous = guard.install(guard.PermissiveGuard())
    yield
    guard.install(previous)


def _legal_case(api: Api) -> str:
    rows = api.get("/api/v1/cases?stage=legal").json()
    return next(r["case_id"] for r in rows if r["borrower_id"] == LEGAL_BORROWER)


def test_cases_list_filters_and_money_as_text(work: Api) -> None:
    rows = work.get("/api/v1/cases?status=open").json()
    assert rows and {r["status"] for r in rows} == {"open"}
    assert set(rows[0]) == {
        "case_id",
        "borrower_id",
        "stage",
        "status",
        "days_past_due",
        "amount_overdue",
        "assigned_to",
    }
    assert all(isinstance(r["amount_overdue"], str) and "." in r["amount_overdue"] for r in rows)
    legal = work.get("/api/v1/cases?stage=legal").json()
    assert legal and {r["stage"] for r in legal} == {"legal"}
    assert work.get("/api/v1/cases?stage=nowhere").status_code == 422
    # before taking any case the collector's list is empty, and others' lists are refused
    assert work.get("/api/v1/cases", role="collector").json() == []
    assert work.get("/api/v1/cases?assigned_to=cole", role="collector").status_code == 403


def test_collector_takes_next_case_and_sees_only_their_own(work: Api) -> None:
    taken = work.post("/api/v1/cases/next", role="collector")
    assert taken.status_code == 200, taken.text
    case = taken.json()["case"]
    assert case["assigned_to"] == "collector" and case["stage"] in ("reminder", "early", "mid")
    mine = work.get("/api/v1/cases", role="collector").json()
    assert [r["case_id"] for r in mine] == [case["case_id"]]

    shown = work.get(f"/api/v1/cases/{case['case_id']}", role="collector")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["borrower"]["masked"] is True
    assert body["borrower"]["national_id"].startswith("****")
    assert body["loans"] and "call" in body["actions"]
    # the admin sees the same case unmasked
    assert work.get(f"/api/v1/cases/{case['case_id']}").json()["borrower"]["masked"] is False
    # another collector may not open or work it
    assert work.get(f"/api/v1/cases/{case['case_id']}", role="cole").status_code == 403
    contact = {"action": "call", "outcome": "no_answer"}
    refused = work.post(f"/api/v1/cases/{case['case_id']}/contacts", contact, role="cole")
    assert refused.status_code == 403
    assert work.get("/api/v1/cases/C99999999").status_code == 404


def test_contact_promise_and_their_errors(work: Api, any_hour) -> None:  # type: ignore[no-untyped-def]
    case_id = work.post("/api/v1/cases/next", role="collector").json()["case"]["case_id"]
    url = f"/api/v1/cases/{case_id}"
    logged = work.post(f"{url}/contacts", {"action": "call", "outcome": "promise"}, "collector")
    assert logged.status_code == 201, logged.text
    assert logged.json()["sent"] is True and logged.json()["blocked_reasons"] == []

    bad = work.post(f"{url}/contacts", {"action": "pigeon"}, "collector")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "action"]
    # a letter is not allowed in the early stages: refused by the stage policy
    stage = work.get(url).json()["stage"]
    if stage in ("reminder", "early"):
        letter = work.post(f"{url}/contacts", {"action": "letter"}, "collector")
        assert letter.status_code == 409 and "not allowed in stage" in letter.json()["detail"]

    promise = {
        "instalments": [
            {"amount": "100.00", "due_on": "2026-12-04"},
            {"amount": "50.50", "due_on": "2026-12-18"},
        ]
    }
    made = work.post(f"{url}/promises", promise, "collector")
    assert made.status_code == 201, made.text
    assert [(p["amount"], p["state"]) for p in made.json()] == [
        ("100.00", "pending"),
        ("50.50", "pending"),
    ]
    pending = work.get("/api/v1/promises?state=pending", role="collector").json()
    assert {p["case_id"] for p in pending} == {case_id} and len(pending) == 2
    assert work.get("/api/v1/promises?state=pending", role="cole").json() == []

    late = {"instalments": [{"amount": "10.00", "due_on": "2026-11-01"}]}
    assert work.post(f"{url}/promises", late, "collector").status_code == 409
    money = {"instalments": [{"amount": "ten", "due_on": "2026-12-04"}]}
    wrong = work.post(f"{url}/promises", money, "collector")
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"][:2] == ["body", "instalments"]

    dispute = work.post(f"{url}/disputes", {"reason": "not my loan 非本人借款"}, "collector")
    assert dispute.status_code == 201, dispute.text
    blocked = work.post(f"{url}/contacts", {"action": "call"}, "collector").json()
    assert blocked["sent"] is False and blocked["rule_ids"] == ["dispute-open"]
    dispute_id = dispute.json()["dispute_id"]
    resolved = work.post(f"/api/v1/disputes/{dispute_id}/resolve", {"resolution": "ok"}, "risk")
    assert resolved.status_code == 200 and resolved.json()["resolved_on"] == TODAY.isoformat()
    assert work.post("/api/v1/disputes/999999/resolve", {"resolution": "x"}).status_code == 404


def test_escalation_roles_follow_the_policy(work: Api) -> None:
    case = work.post("/api/v1/cases/next", role="collector").json()["case"]
    url = f"/api/v1/cases/{case['case_id']}"
    up = work.post(f"{url}/escalate", {"to_stage": "late", "reason": "no contact"}, "collector")
    assert up.status_code == 200, up.text
    assert up.json()["stage"] == "late"
    down = {"to_stage": "early", "reason": "paid part"}
    assert work.post(f"{url}/de-escalate", down, "collector").status_code == 403
    wrong_way = work.post(f"{url}/escalate", {"to_stage": "reminder", "reason": "x"}, "risk")
    assert wrong_way.status_code == 409
    back = work.post(f"{url}/de-escalate", down, "risk")
    assert back.status_code == 200 and back.json()["stage"] == "early"
    missing_reason = work.post(f"{url}/escalate", {"to_stage": "late"}, "risk")
    assert missing_reason.status_code == 422
    assert missing_reason.json()["detail"][0]["loc"] == ["body", "reason"]


def test_settlement_needs_a_checker_who_is_not_the_maker(work: Api) -> None:
    case_id = _legal_case(work)
    proposed = work.post(
        f"/api/v1/cases/{case_id}/settlements",
        {"amount": "1000.00", "pay_by": "2026-12-31"},
        "risk",
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["state"] == "proposed"
    approval_id = proposed.json()["approval_id"]
    pending = work.get("/api/v1/approvals", role="auditor").json()
    assert [a["approval_id"] for a in pending] == [approval_id]
    decision = {"approve": True, "reason": "agreed"}
    url = f"/api/v1/approvals/{approval_id}/decision"
    own = work.post(url, decision, "risk")
    assert own.status_code == 409 and "cannot also approve" in own.json()["detail"]
    assert work.post(url, decision, "collector").status_code == 403
    granted = work.post(url, decision, "admin")
    assert granted.status_code == 200, granted.text
    assert granted.json()["state"] == "approved" and granted.json()["checker"] == "admin"
    assert work.post(url, decision, "admin").status_code == 409
    assert work.post("/api/v1/approvals/424242/decision", decision).status_code == 404


def test_lawsuit_lifecycle_by_the_legal_officer(work: Api) -> None:
    case_id = _legal_case(work)
    assert work.post(f"/api/v1/cases/{case_id}/legal-cases", role="collector").status_code == 403
    opened = work.post(f"/api/v1/cases/{case_id}/legal-cases", role="legal")
    assert opened.status_code == 201, opened.text
    legal_id = opened.json()["legal_id"]
    assert opened.json()["state"] == "prepare"
    url = f"/api/v1/legal-cases/{legal_id}/advance"
    skipped = work.post(url, {"to_state": "hearing"}, "legal")
    assert skipped.status_code == 409
    filed = work.post(
        url, {"to_state": "filed", "court": "Shanghai Pudong court", "fees": "500.00"}, "legal"
    )
    assert filed.status_code == 200, filed.text
    assert (filed.json()["state"], filed.json()["fees_paid"]) == ("filed", "500.00")
    assert work.post(url, {"to_state": "hearing"}, "risk").status_code == 403
    shown = work.get(f"/api/v1/legal-cases/{legal_id}", role="legal").json()
    assert shown["case"]["case_id"] == case_id and "ends_on" in shown["limitation"]
    assert [r["legal_id"] for r in work.get("/api/v1/legal-cases?state=filed").json()] == [legal_id]
    assert work.get("/api/v1/legal-cases", role="collector").status_code == 403
    assert work.get("/api/v1/legal-cases/99999").status_code == 404
    assert work.post("/api/v1/legal-cases/99999/advance", {"to_state": "filed"}).status_code == 404


def test_agency_placement_result_and_recall(work: Api) -> None:
    late = work.get("/api/v1/cases?stage=late").json()[0]["case_id"]
    stale = {"agency_id": "AG2", "name": "Old Agency", "commission_rate": "0.20"}
    assert work.post("/api/v1/agencies", stale, "risk").status_code == 201
    refused = work.post(f"/api/v1/cases/{late}/placements", {"agency_id": "AG2"}, "risk")
    assert refused.status_code == 409  # no evaluation within 12 months
    agency = {**stale, "agency_id": "AG1", "evaluated_on": "2026-06-30"}
    assert work.post("/api/v1/agencies", agency, "risk").status_code == 201
    assert work.post("/api/v1/agencies", agency, "risk").status_code == 409
    bad_rate = work.post("/api/v1/agencies", {**agency, "commission_rate": "1.5"}, "risk")
    assert bad_rate.status_code == 422
    placed = work.post(f"/api/v1/cases/{late}/placements", {"agency_id": "AG1"}, "risk")
    assert placed.status_code == 201, placed.text
    pid = placed.json()["placement_id"]
    result = work.post(f"/api/v1/placements/{pid}/results", {"recovered": "1000.00"}, "risk")
    assert result.status_code == 200 and result.json()["commission"] == "200.00"
    recalled = work.post(f"/api/v1/placements/{pid}/recall", {"result": "done"}, "admin")
    assert recalled.status_code == 200 and recalled.json()["recalled_on"] == TODAY.isoformat()
    assert work.post("/api/v1/placements/9999/recall", {"result": "x"}).status_code == 404
    assert work.post("/api/v1/agencies/NOPE/evaluations", {"notes": "x"}).status_code == 404


def test_queues_assignment_and_performance(work: Api, any_hour) -> None:  # type: ignore[no-untyped-def]
    volumes = work.get("/api/v1/queues").json()
    assert sum(q["cases"] for q in volumes) == len(work.get("/api/v1/cases?limit=500").json())
    eligible = sum(
        q["cases"] for q in volumes if q["stage"] in ("reminder", "early", "mid")
    )  # the collectors' skills
    assigned = work.post("/api/v1/cases/assign", {"reassign": False}, "risk")
    assert assigned.status_code == 200 and assigned.json()["assigned"] == min(eligible, 10)
    case_id = work.get("/api/v1/cases", role="cole").json()[0]["case_id"]
    work.post(f"/api/v1/cases/{case_id}/contacts", {"action": "call", "outcome": "promise"}, "cole")
    work.post(f"/api/v1/cases/{case_id}/contacts", {"action": "sms"}, "cole")
    # The contacts carry the wall-clock time (the API logs them as they happen), so the period
    # is around now, whatever the business date: a fixed month stopped matching on Dec 1st.
    near = datetime.now(UTC).date()
    period = f"from={near - timedelta(days=7)}&to={near + timedelta(days=1)}"
    rows = work.get(f"/api/v1/collectors/performance?{period}").json()
    cole = next(r for r in rows if r["collector"] == "cole")
    assert (cole["attempts"], cole["right_party_contacts"], cole["rpc_rate"]) == (2, 1, 0.5)
    own = work.get("/api/v1/collectors/performance", role="cole").json()
    assert [r["collector"] for r in own] == ["cole"]
    backwards = work.get("/api/v1/collectors/performance?from=2026-12-01&to=2026-11-01")
    assert backwards.status_code == 422
    # a collector without a profile is refused "next case" (409), not failed
    add_user(work.engine, "nobody", "collector", None)
    work.tokens["nobody"] = create_token(work.engine, "nobody")[0]
    assert work.post("/api/v1/cases/next", role="nobody").status_code == 409


def test_an_outbound_contact_asks_the_contact_guard(work: Api) -> None:
    from arrears.contact import guard

    asked: list[tuple[str, str, str]] = []

    class NoSmsAtNight:
        def check(self, party, channel, purpose, at):  # type: ignore[no-untyped-def]
            asked.append((party.borrower_id, channel, purpose))
            if channel == "sms":
                return guard.Decision(False, ("no SMS now (禁止短信)",), ("test-no-sms",))
            return guard.Decision(True)

    case = work.post("/api/v1/cases/next", role="collector").json()["case"]
    url = f"/api/v1/cases/{case['case_id']}/contacts"
    previous = guard.install(NoSmsAtNight())
    try:
        sms = work.post(url, {"action": "sms", "outcome": "no_answer"}, "collector").json()
        call = work.post(url, {"action": "call", "outcome": "no_answer"}, "collector").json()
        inbound = work.post(url, {"action": "sms", "direction": "inbound"}, "collector").json()
    finally:
        guard.install(previous)
    assert (sms["sent"], sms["rule_ids"], sms["blocked_reasons"]) == (
        False,
        ["test-no-sms"],
        ["no SMS now (禁止短信)"],
    )
    assert call["sent"] is True and inbound["sent"] is True
    # the guard was asked for the two outbound contacts only, with the case's borrower
    assert asked == [
        (case["borrower_id"], "sms", "collection"),
        (case["borrower_id"], "call", "collection"),
    ]
    contacts = work.get(f"/api/v1/cases/{case['case_id']}").json()["contacts"]
    assert [c["sent"] for c in contacts] == [False, True, True]
