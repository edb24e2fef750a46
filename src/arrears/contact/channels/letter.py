"""Letters as PDF files in a print/mail vendor's drop folder, one per message, named by the
outbox idempotency key (`<key>.pdf`).

The folder is the vendor's pickup directory: a file that appears there is printed and posted,
and the vendor may take it away at once. So "already sent" cannot be read from the folder alone;
the adapter keeps its own record, `.arrears-sent/<key>`, next to the letters (a dot-folder the
vendor ignores), and a send whose key is in the record — or whose file is still in the folder —
writes nothing. A letter is written as a dot-file and renamed into place (atomic: the vendor
never picks up half a letter), then recorded. The one gap — a crash in the instant between the
rename and the record, and the vendor taking the file in that instant — is why the file carries
the key: a vendor that honours the key, as the SMS gateway does, prints it once.

The letter's words are the template's (the outbox body, paragraphs split at blank lines); the
frame — letterhead, addressee, date, reference, the lender's contact lines — is in the letter's
language, Chinese or English.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from arrears.contact.channels.base import (
    NotSentError,
    Outgoing,
    PermanentSendError,
    Sent,
    TransientSendError,
)
from arrears.documents.pdf import Document, Letterhead, Text, load_letterhead, render

RECORD = ".arrears-sent"
DEFAULT_TITLE = {"zh": "通知", "en": "Notice"}


def letter_document(message: Outgoing, letterhead: Letterhead) -> Document:
    """The PDF document for one outbox letter."""
    language = message.language if message.language in ("zh", "en") else "zh"
    title = message.subject or DEFAULT_TITLE[language]
    paragraphs = tuple(
        Text(p.strip(), language) for p in message.body.replace("\r\n", "\n").split("\n\n")
    )
    dated = message.sent_on or datetime.now(UTC).date()
    return Document(
        title=(Text(title, language),),
        letterhead=letterhead,
        languages=(language,),
        recipient=message.to,
        dated=dated.isoformat(),
        reference=message.reference,
        paragraphs=tuple(p for p in paragraphs if p.text),
    )


class PdfLetters:
    channels = ("letter",)

    def __init__(self, directory: Path, letterhead: Letterhead | None = None) -> None:
        self.directory = Path(directory)
        self.letterhead = letterhead or load_letterhead()

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.pdf"

    def send(self, message: Outgoing) -> Sent:
        key = message.idempotency_key
        if not key or "/" in key or key.startswith("."):
            raise PermanentSendError(f"idempotency key {key!r} cannot name a file (密钥无效)")
        path = self.path_for(key)
        record = self.directory / RECORD / key
        if record.exists() or path.exists():  # sent before: this is a retry of the same letter
            return Sent(gateway_id=path.name, delivered=True)
        data = render(letter_document(message, self.letterhead))
        tmp = self.directory / f".{key}.pdf.part"
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: the vendor never sees half a letter
        except OSError as exc:  # not in the folder: the vendor cannot have it
            raise NotSentError(f"letters folder {self.directory}: {exc}") from None
        try:
            record.write_text(f"{path.name}\n", encoding="utf-8")
        except OSError as exc:  # in the folder already: the retry finds it and sends nothing
            raise TransientSendError(f"letters folder {self.directory}: {exc}") from None
        return Sent(gateway_id=path.name, delivered=True)
