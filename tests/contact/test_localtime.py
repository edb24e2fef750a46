"""Times for people: the borrower's wall clock with the zone named, summer time included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from arrears.contact import guard
from arrears.contact.localtime import local_text
from arrears.contact.outbox import enqueue
from arrears.contact.views import borrower_messages, decision_log
from arrears.store.db import unit_of_work

from .conftest import sh


def test_local_text_names_the_zone_and_its_offset():
    at = datetime(2026, 11, 28, 13, 59, tzinfo=UTC)
    assert local_text(at, "Asia/Shanghai") == "2026-11-28 21:59 Asia/Shanghai (UTC+08:00)"
    assert local_text(at, "America/New_York") == "2026-11-28 08:59 America/New_York (UTC-05:00)"
    summer = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert local_text(summer, "America/New_York") == "2026-07-01 09:00 America/New_York (UTC-04:00)"
    assert local_text(None, "Asia/Shanghai") is None
    assert local_text(at, None).endswith("Asia/Shanghai (UTC+08:00)")  # the guard's default


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_local_text_is_the_same_instant(naive):
    at = naive.replace(tzinfo=UTC)
    text = local_text(at, "America/New_York")
    m = re.fullmatch(r"(\S+ \S+) America/New_York \(UTC([+-])(\d\d):(\d\d)\)", text)
    assert m, text
    offset = timedelta(hours=int(m[3]), minutes=int(m[4])) * (1 if m[2] == "+" else -1)
    back = datetime.strptime(m[1], "%Y-%m-%d %H:%M") - offset
    assert back == at.replace(tzinfo=None, second=0, microsecond=0)


def test_message_and_decision_logs_carry_local_times(people):
    with unit_of_work(people) as s:
        q = enqueue(s, guard.Party("B-US"), "sms", "reminder", "Please pay.", sh(28, 23))
        night = enqueue(s, guard.Party("B-US"), "sms", "reminder", "Please pay.", sh(28, 12))
    assert q.message_id and night.message_id is None  # 23:00 Shanghai = 10:00 New York
    (m,) = borrower_messages(people, "B-US")
    assert m["timezone"] == "America/New_York"
    assert m["local"]["not_before"] == "2026-11-28 10:00 America/New_York (UTC-05:00)"
    assert m["not_before"].endswith("+00:00")  # JSON keeps ISO with its offset
    assert m["decision"]["local"]["at"] == m["local"]["not_before"]
    log = decision_log(people, borrower_id="B-US", allowed=False)
    (d,) = log["decisions"]
    assert d["local"]["at"] == "2026-11-27 23:00 America/New_York (UTC-05:00)"
    assert d["local"]["next_allowed_at"] == "2026-11-28 08:00 America/New_York (UTC-05:00)"
