"""Letters as PDF: the worker renders the shipped Chinese and English letter templates into the
vendor's drop folder, named by the idempotency key; the files are read back with pypdf (text,
money, the lender's contact lines); a re-send with the same key writes nothing, even after the
vendor took the first file away. (The demand letter's PDF is tested with the collection.)"""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select, update

from arrears.contact import guard
from arrears.contact.channels.base import Outgoing, PermanentSendError
from arrears.contact.channels.letter import RECORD, PdfLetters, letter_document
from arrears.contact.outbox import enqueue
from arrears.contact.templates import latest, render, seed_templates
from arrears.contact.worker import run
from arrears.documents.pdf import LetterheadProblem, load_letterhead
from arrears.documents.pdf import render as render_pdf
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import ContactAttempt, OutboxMessage

from .conftest import sh


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def queue_letter(engine, borrower, language, overdue_minor, currency, at):
    seed_templates(engine)
    with unit_of_work(engine) as s:
        template = latest(s, "overdue_letter", language)
        subject, body = render(
            template,
            {
                "name": f"张三 {borrower}",
                "loan_id": f"L-{borrower}",
                "currency": currency,
                "amount_due": format_amount(overdue_minor, currency),
                "overdue": format_amount(overdue_minor, currency),
                "days_past_due": 12,
                "due_on": "2026-11-16",
            },
        )
        q = enqueue(
            s,
            guard.Party(borrower, loan_id=f"L-{borrower}"),
            "letter",
            "collection",
            body,
            at,
            subject=subject,
            language=language,
            template=template.name,
            template_version=template.version,
        )
        assert q.message_id, q.decision
        return q.message_id, s.get(OutboxMessage, q.message_id).idempotency_key


def send_letters(engine, folder, at):
    return run(engine, {"letter": PdfLetters(folder)}, clock=lambda: at, once=True)


def test_a_chinese_letter_is_a_pdf_named_by_the_key_with_money_and_contact_lines(people, tmp_path):
    message_id, key = queue_letter(people, "B-CN", "zh", 123_456, "CNY", sh(28, 10))
    stats = send_letters(people, tmp_path, sh(28, 10))
    assert stats.sent == 1
    (pdf,) = tmp_path.glob("*.pdf")
    assert pdf.name == f"{key}.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "逾期还款通知书" in text  # the template's subject is the title
    assert "致：张三 B-CN" in text and "日期：2026-11-28" in text and "编号：L-B-CN" in text
    assert "逾期金额为 1234.56 元（CNY）" in text  # minor units shown as money
    assert "客服电话：400-800-1234" in text and "service@example-lender.cn" in text
    assert "示例消费金融有限公司" in text
    assert "Dear" not in text and "Service line" not in text  # a Chinese letter, Chinese frame
    with unit_of_work(people) as s:
        row = s.get(OutboxMessage, message_id)
        assert (row.status, row.gateway_id) == ("delivered", pdf.name)


def test_an_english_letter_speaks_english_and_is_dated_in_the_borrowers_zone(people, tmp_path):
    # 2026-11-28 03:00 in Shanghai is still the 27th in New York: the letter is dated the 27th
    _, key = queue_letter(people, "B-US", "en", 98_765, "USD", sh(28, 3))
    assert send_letters(people, tmp_path, sh(28, 3)).sent == 1
    text = pdf_text((tmp_path / f"{key}.pdf").read_bytes())
    assert "Notice of overdue payment" in text and "To: 张三 B-US" in text
    assert "Date: 2026-11-27" in text
    assert "The overdue amount is USD 987.65." in text
    assert "Service line: 400-800-1234" in text and "Contact us" in text
    assert "客服电话" not in text and "联系我们" not in text


def test_a_second_send_with_the_same_key_writes_no_second_letter(people, tmp_path):
    message_id, key = queue_letter(people, "B-CN", "zh", 5_000, "CNY", sh(28, 10))
    assert send_letters(people, tmp_path, sh(28, 10)).sent == 1
    first = (tmp_path / f"{key}.pdf").read_bytes()
    # the worker died after writing and before marking: the row is still `dispatching`
    with unit_of_work(people) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.message_id == message_id)
            .values(status="dispatching", not_before=sh(28, 10), gateway_id=None)
        )
    (tmp_path / f"{key}.pdf").unlink()  # …and the vendor has already taken the letter away
    stats = send_letters(people, tmp_path, sh(28, 10, 1))
    assert stats.sent == 1 and stats.resumed == 1
    assert list(tmp_path.glob("*.pdf")) == []  # not printed again
    assert (tmp_path / RECORD / key).exists()
    with unit_of_work(people) as s:
        assert s.get(OutboxMessage, message_id).gateway_id == f"{key}.pdf"
        assert len(s.scalars(select(ContactAttempt)).all()) == 1
    # the adapter alone: the same key twice, one file, the same bytes (reproducible rendering)
    letters = PdfLetters(tmp_path / "again")
    out = Outgoing(
        "M-1",
        "arrears-k1",
        "letter",
        "李四",
        "您好。\n\n请还款。",
        "通知",
        "zh",
        date(2026, 11, 28),
        "L-9",
    )
    assert letters.send(out) == letters.send(out)
    assert [p.name for p in (tmp_path / "again").glob("*.pdf")] == ["arrears-k1.pdf"]
    assert len(first) > 1000


def test_a_key_that_cannot_name_a_file_is_refused(tmp_path):
    out = Outgoing("M-1", "../evil", "letter", "李四", "x", None, "zh")
    with pytest.raises(PermanentSendError, match="cannot name a file"):
        PdfLetters(tmp_path).send(out)


def test_a_letterhead_file_is_validated_with_its_line(tmp_path):
    bad = tmp_path / "head.yaml"
    bad.write_text("name:\n  zh: 某银行\n  en: A Bank\ncontact: []\n", encoding="utf-8")
    with pytest.raises(LetterheadProblem, match=r"head.yaml:4: field 字段 contact"):
        load_letterhead(bad)
    good = tmp_path / "good.yaml"
    good.write_text(
        "name: {zh: 某银行, en: A Bank}\ncontact:\n  - {zh: 电话：95500, en: 'Phone: 95500'}\n",
        encoding="utf-8",
    )
    head = load_letterhead(good)
    out = Outgoing("M-1", "k", "letter", "Ann", "Hello.", "Notice", "en", date(2026, 1, 2))
    text = pdf_text(render_pdf(letter_document(out, head)))
    assert "A Bank" in text and "Phone: 95500" in text and "某银行" in text


_NAME = (
    st.text(
        alphabet=st.sampled_from(
            "张王李赵陈刘杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧abcxyzABC <>&'\"-."
        ),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAME, minor=st.integers(min_value=0, max_value=10**11))
def test_any_name_and_amount_come_back_out_of_the_pdf(name, minor):
    """Markup characters in a name are text, not markup; any amount reads back as money."""
    money = format_amount(minor, "CNY")
    out = Outgoing(
        "M-1", "k", "letter", name, f"{name}：逾期金额 {money} 元。", None, "zh", date(2026, 11, 28)
    )
    text = pdf_text(render_pdf(letter_document(out, load_letterhead())))
    assert f"致：{name}" in text
    assert f"逾期金额 {money} 元" in text
