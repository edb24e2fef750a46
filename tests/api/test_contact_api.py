"""Contact compliance over HTTP (issue 6 §5): the guard's decision for a borrower, channel and
time (the same JSON as `arrears contact check`), the effective policy, message logs per borrower
and per case, the auditors' decision log, templates (content rules → 422 naming the phrase,
preview with a real loan) and opt-outs — on SQLite and PostgreSQL, through the real guard."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from arrears.contact import guard, service, templates
from arrears.contact.outbox import enqueue
from arrears.store.db import unit_of_work
from tests.api.conftest import OWN_BORROWER, OWN_LOAN, Api

SH = ZoneInfo("Asia/Shanghai")
NIGHT = "2026-11-28T23:30:00+08:00"
DAY = "2026-11-29T10:00:00+08:00"


def _check(api: Api, at: str, channel: str = "sms", role: str = "admin", **extra):  # type: ignore[no-untyped-def]
    body = {"borrower_id": OWN_BORROWER, "channel": channel, "at": at, **extra}
    return api.post("/api/v1/contact/checks", body, role=role)


def test_check_answers_the_cli_decision_json(api: Api) -> None:
    night = _check(api, NIGHT)
    assert night.status_code == 200, night.text
    d = night.json()
    assert set(d) == {"allowed", "reasons", "rule_ids", "next_allowed_at", "decision_id"}
    assert d["allowed"] is False and d["rule_ids"] == ["CN-C1"]
    assert d["next_allowed_at"] == "2026-11-29T08:00:00+08:00"
    # the very same question through the service (the CLI's verb) answers the same
    same = service.check_contact(
        api.engine, OWN_BORROWER, "sms", datetime(2026, 11, 28, 23, 30, tzinfo=SH)
    ).to_dict()
    assert {k: v for k, v in same.items() if k != "decision_id"} == {
        k: v for k, v in d.items() if k != "decision_id"
    }
    day = _check(api, DAY, role="collector").json()
    assert day["allowed"] is True and day["decision_id"] > d["decision_id"]


def test_check_refuses_bad_input_and_unknown_borrowers(api: Api) -> None:
    assert _check(api, "2026-11-28T23:30:00").status_code == 422  # no offset: whose clock?
    assert _check(api, DAY, channel="pigeon").status_code == 422
    assert _check(api, DAY, party="neighbour").status_code == 422
    assert _check(api, "9999-12-31T23:59:59+14:00").status_code == 422
    body = {"borrower_id": "B9999", "channel": "sms", "at": DAY}
    assert api.post("/api/v1/contact/checks", body).status_code == 404


def test_decision_log_is_paged_filtered_and_for_auditors(api: Api) -> None:
    for at in (NIGHT, DAY, NIGHT):
        _check(api, at)
    log = api.get("/api/v1/contact/decisions?limit=2", role="auditor").json()
    assert log["total"] == 3 and len(log["decisions"]) == 2
    assert log["decisions"][0]["decision_id"] > log["decisions"][1]["decision_id"]
    rest = api.get("/api/v1/contact/decisions?limit=2&offset=2", role="auditor").json()
    assert len(rest["decisions"]) == 1
    blocked = api.get("/api/v1/contact/decisions?allowed=false&rule_id=CN-C1").json()
    assert blocked["total"] == 2
    assert all(r["rule_ids"] == ["CN-C1"] and r["jurisdictions"] for r in blocked["decisions"])
    assert api.get("/api/v1/contact/decisions?rule_id=CN-C").json()["total"] == 0  # whole ids
    assert api.get("/api/v1/contact/decisions?rule_id=CN_C1").json()["total"] == 0  # no wildcard
    assert api.get("/api/v1/contact/decisions", role="collector").status_code == 403


def test_effective_policy_names_every_applicable_jurisdiction(api: Api) -> None:
    cn = api.get(f"/api/v1/borrowers/{OWN_BORROWER}/contact-policy").json()
    assert cn["jurisdictions"] == ["CN", "ALL"]  # file-name order: cn.yaml, everywhere.yaml
    windows = [p["window"] for p in cn["policies"] if "window" in p]
    assert [(w["start"], w["end"]) for w in windows] == [("08:00:00", "22:00:00")]
    ma = api.get("/api/v1/borrowers/B0019/contact-policy").json()
    assert ma["jurisdictions"] == ["ALL", "US-MA", "US"]
    api.post(f"/api/v1/borrowers/{OWN_BORROWER}/opt-outs", {"channel": "sms"})
    after = api.get(f"/api/v1/borrowers/{OWN_BORROWER}/contact-policy").json()
    assert [o["channel"] for o in after["opt_outs"]] == ["sms"]
    assert api.get("/api/v1/borrowers/B9999/contact-policy").status_code == 404


def test_opt_out_blocks_the_next_check(api: Api) -> None:
    assert _check(api, DAY).json()["allowed"] is True
    r = api.post(f"/api/v1/borrowers/{OWN_BORROWER}/opt-outs", {"channel": "sms"}, role="collector")
    assert r.status_code == 201 and r.json()["channel"] == "sms"
    d = _check(api, DAY).json()
    assert d["allowed"] is False and d["rule_ids"] == ["ALL-OPT-OUT"]
    assert _check(api, DAY, channel="email").json()["allowed"] is True
    bad = api.post(f"/api/v1/borrowers/{OWN_BORROWER}/opt-outs", {"channel": "fax"})
    assert bad.status_code == 422
    assert api.post("/api/v1/borrowers/B9999/opt-outs", {"channel": "sms"}).status_code == 404


def _queue(api: Api, at: datetime) -> str | None:
    party = guard.Party(OWN_BORROWER, "debtor", loan_id=OWN_LOAN)
    with unit_of_work(api.engine) as session:
        return enqueue(session, party, "sms", "reminder", "请按时还款", at).message_id


def test_message_log_shows_status_decision_and_delivery(api: Api) -> None:
    sent = _queue(api, datetime(2026, 11, 29, 10, tzinfo=SH))
    assert sent is not None
    assert _queue(api, datetime(2026, 11, 29, 23, 30, tzinfo=SH)) is None  # blocked: not queued
    rows = api.get(f"/api/v1/borrowers/{OWN_BORROWER}/messages").json()
    assert [r["message_id"] for r in rows] == [sent]
    m = rows[0]
    assert m["status"] == "pending" and m["body"].endswith("回复TD退订")
    assert m["decision"]["allowed"] is True and "CN-C1" in m["decision"]["rule_ids"]
    assert m["sent_at"] is None and m["delivered_at"] is None
    assert api.get("/api/v1/borrowers/B0002/messages").json() == []
    assert api.get("/api/v1/borrowers/B9999/messages").status_code == 404
    assert api.get("/api/v1/cases/C404/messages").status_code == 404


def test_templates_list_show_save_and_preview(closed: Api) -> None:
    api = closed
    templates.seed_templates(api.engine)
    names = {(t["name"], t["language"]) for t in api.get("/api/v1/contact/templates").json()}
    assert ("reminder_due_today", "zh") in names and ("reminder_due_today", "en") in names
    body = {
        "name": "reminder_due_today",
        "language": "en",
        "channel": "sms",
        "body": "Dear {{ name }}, {{ amount_due }} is due on loan {{ loan_id }}.",
    }
    saved = api.post("/api/v1/contact/templates", body, role="risk")
    assert saved.status_code == 201, saved.text
    assert saved.json()["version"] == 2
    versions = api.get("/api/v1/contact/templates/reminder_due_today/en").json()
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["saved_by"] == "risk"
    shown = api.get(
        f"/api/v1/contact/templates/reminder_due_today/en/preview?loan_id={OWN_LOAN}"
    ).json()
    assert shown["version"] == 2 and "杨磊" in shown["body"] and OWN_LOAN in shown["body"]
    old = api.get(
        f"/api/v1/contact/templates/reminder_due_today/en/preview?loan_id={OWN_LOAN}&version=1"
    ).json()
    assert old["version"] == 1 and old["body"] != shown["body"]
    missing = api.get("/api/v1/contact/templates/reminder_due_today/en/preview?loan_id=L404")
    assert missing.status_code == 404
    assert api.get("/api/v1/contact/templates/nope/zh").status_code == 404


def test_a_template_breaking_a_content_rule_is_422_naming_the_phrase(api: Api) -> None:
    threat = {
        "name": "angry",
        "language": "en",
        "channel": "sms",
        "body": "Pay now, deadbeat, {{ name }}",
    }
    r = api.post("/api/v1/contact/templates", threat)
    assert r.status_code == 422
    [problem] = r.json()["detail"]
    assert problem["loc"] == ["body", "body"] and "'deadbeat'" in problem["msg"]
    assert "C6-INSULT" in problem["msg"]
    disclose = {
        "name": "callback",
        "language": "zh",
        "channel": "sms",
        "audience": "contact_person",
        "body": "请转告{{ name }}尽快处理逾期欠款",
    }
    r = api.post("/api/v1/contact/templates", disclose)
    assert r.status_code == 422 and "C5-DISCLOSURE" in r.json()["detail"][0]["msg"]
    broken = {"name": "syntax", "language": "zh", "channel": "sms", "body": "{{ name "}
    assert api.post("/api/v1/contact/templates", broken).status_code == 422
    assert api.get("/api/v1/contact/templates").json() == []  # nothing was stored
    assert api.post("/api/v1/contact/templates", threat, role="collector").status_code == 403
