"""Who third-party data is about: a **party** — a borrower the lender knows, or an **applicant**
known only by national id and name, since admission happens before any loan (or borrower row)
exists. Consents, the report cache and the pull log key on the party:

| party | key | subject sent to the source |
| --- | --- | --- |
| borrower | `borrower:<borrower_id>` | the borrower id (the fake bureau's subject) |
| applicant | `applicant:<national id>` | the national id |

An application that names a `borrower_id` is pulled as that borrower; one that gives only a
national id, as an applicant. The two keys are kept apart on purpose: an applicant's consent was
given for an application, and becomes no borrower's consent by a national id matching later."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A national id (身份证号 18 characters, or another country's document number): printable,
# no separators that could forge a key.
NATIONAL_ID = re.compile(r"^[0-9A-Za-z-]{4,64}$")


class PartyError(ValueError):
    """A party that cannot be named: message in English then Chinese."""


@dataclass(frozen=True)
class Party:
    kind: str  # borrower | applicant
    borrower_id: str | None = None
    national_id: str | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        return (
            f"borrower:{self.borrower_id}"
            if self.kind == "borrower"
            else f"applicant:{self.national_id}"
        )

    @property
    def subject(self) -> str:
        """What the source is asked about."""
        return self.borrower_id if self.kind == "borrower" else self.national_id  # type: ignore[return-value]

    def as_json(self) -> dict[str, str | None]:
        return {
            "party": self.key,
            "kind": self.kind,
            "borrower_id": self.borrower_id,
            "national_id": self.national_id,
            "name": self.name,
        }


def borrower(borrower_id: str) -> Party:
    return Party("borrower", borrower_id=borrower_id)


def applicant(national_id: str, name: str | None = None) -> Party:
    national_id = (national_id or "").strip().upper()
    if not NATIONAL_ID.match(national_id):
        raise PartyError(
            f"national id {national_id!r} must be 4–64 letters, digits or '-' / 证件号码格式不正确"
        )
    name = (name or "").strip() or None
    if name is not None and len(name) > 200:
        raise PartyError("name is longer than 200 characters / 姓名过长")
    return Party("applicant", national_id=national_id, name=name)


def parse_key(key: str) -> Party:
    """The party of a key (`borrower:B1`, `applicant:1101…`)."""
    kind, _, rest = key.partition(":")
    if kind == "borrower" and rest:
        return borrower(rest)
    if kind == "applicant" and rest:
        return applicant(rest)
    raise PartyError(
        f"party {key!r} is not borrower:<id> or applicant:<national id> / 主体格式不正确"
    )
