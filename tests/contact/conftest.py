"""Contact fixtures: borrowers in three jurisdictions, a real local gateway (HTTP) and a real
SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from arrears.contact.channels import fake_gateway
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
SECRET = "test-secret"


def sh(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def people(engine):
    """B-CN in Shanghai, B-US in New York, B-MA in Massachusetts; each with phone and email."""
    with unit_of_work(engine) as session:
        for bid, country, region, tz, phone in (
            ("B-CN", "CN", None, "Asia/Shanghai", "+86 13800000001"),
            ("B-US", "US", "US-NY", "America/New_York", "+1 2125550101"),
            ("B-MA", "US", "US-MA", "America/New_York", "+1 6175550101"),
        ):
            session.add(
                Borrower(
                    borrower_id=bid,
                    kind="individual",
                    name=f"张三 {bid}",
                    phone=phone,
                    email=f"{bid.lower()}@example.test",
                    timezone=tz,
                    language="zh" if country == "CN" else "en",
                    country=country,
                    region=region,
                )
            )
    return engine


@pytest.fixture
def gateway():
    server = fake_gateway.start(SECRET)
    yield server
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def smtp():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free loopback port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    yield box
    controller.stop()
