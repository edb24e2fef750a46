"""Letters as self-contained HTML files, one per message, named by the idempotency key: a retry
rewrites the same file instead of printing a second letter."""

from __future__ import annotations

import html
from pathlib import Path

from arrears.contact.channels.base import Outgoing, Sent

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:serif;max-width:40em;margin:3em auto;line-height:1.6}}</style></head>
<body><p>{to}</p><h1>{title}</h1>{paragraphs}</body></html>
"""


class HtmlLetters:
    channels = ("letter",)

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: Outgoing) -> Sent:
        self.directory.mkdir(parents=True, exist_ok=True)
        paragraphs = "".join(
            f"<p>{html.escape(p)}</p>" for p in message.body.split("\n\n") if p.strip()
        )
        path = self.directory / f"{message.idempotency_key}.html"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            _PAGE.format(
                lang=message.language,
                title=html.escape(message.subject or "通知 Notice"),
                to=html.escape(message.to),
                paragraphs=paragraphs,
            ),
            encoding="utf-8",
        )
        tmp.replace(path)  # atomic: a crash leaves no half letter
        return Sent(gateway_id=path.name, delivered=True)
