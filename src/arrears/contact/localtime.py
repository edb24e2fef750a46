"""Times as the borrower lives them: the message log and the guard's decision log store UTC, and
people read them in the borrower's own time zone, with the zone named (a contact at 21:59 in
Shanghai is 13:59 UTC; only the first says whether the window was respected).

    local_text(datetime(2026, 11, 28, 13, 59, tzinfo=UTC), "Asia/Shanghai")
    → "2026-11-28 21:59 Asia/Shanghai (UTC+08:00)"
"""

from __future__ import annotations

from datetime import datetime

from arrears.contact.compliance import _zone

DEFAULT_ZONE = "Asia/Shanghai"  # the guard's own fallback for a borrower without a zone


def local_text(value: datetime | None, zone_name: str | None) -> str | None:
    """`value` in `zone_name`'s wall-clock time, minutes, the zone and its offset named."""
    if value is None:
        return None
    zone = _zone(zone_name or DEFAULT_ZONE)
    local = value.astimezone(zone)
    offset = local.strftime("%z")  # +0800
    return f"{local:%Y-%m-%d %H:%M} {zone.key} (UTC{offset[:3]}:{offset[3:]})"
