"""Email over real SMTP (stdlib smtplib). The idempotency key becomes the Message-ID, so a
receiving system that de-duplicates on it sees one message however often a crash makes us
retry; SMTP itself has no such promise, which is why the worker marks a message sent at once."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from arrears.contact.channels.base import (
    NotSentError,
    Outgoing,
    PermanentSendError,
    Sent,
    TransientSendError,
)


class SmtpEmail:
    channels = ("email",)

    def __init__(
        self, host: str, port: int, sender: str = "arrears@localhost", timeout: float = 10
    ) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, message: Outgoing) -> Sent:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or "Notice 通知"
        msgid = f"<{message.idempotency_key}@arrears>"
        mail["Message-ID"] = msgid
        mail["List-Unsubscribe"] = f"<mailto:{self.sender}?subject=STOP>"
        mail.set_content(message.body)
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:  # no greeting: nothing went out
            raise NotSentError(f"SMTP {self.host}:{self.port}: {exc}") from None
        try:
            with smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"recipient refused 收件人被拒: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError(f"SMTP {self.host}:{self.port}: {exc}") from None
        return Sent(gateway_id=msgid.strip("<>") or make_msgid())
