"""Contact policies: one YAML file per jurisdiction (`policies/*.yaml` — everywhere, CN, US, the
Massachusetts overlay), validated on load with file, line and field in every error.

Which policies apply to a borrower is decided by `applies_to` (country, and region for an
overlay); the file `everywhere.yaml` applies to all. The guard checks every rule of every
applicable policy, so the strictest always wins: two windows give their intersection, two
frequency caps the lower one.
"""

from __future__ import annotations

import re
from datetime import date, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from arrears.yamldoc import parse_document

# Canonical channels; the collection module's names map onto them (call → voice).
CHANNELS = ("voice", "robot", "sms", "email", "push", "letter", "visit")
ALIASES = {"call": "voice", "robot_call": "robot"}
# each channel named for readers (English, Chinese): the pages and the report show these
CHANNEL_NAMES = {
    "sms": ("SMS", "短信"),
    "email": ("email", "邮件"),
    "voice": ("call", "电话"),
    "robot": ("robot call", "机器人外呼"),
    "push": ("push", "推送"),
    "letter": ("letter", "信函"),
    "visit": ("visit", "上门"),
}
PARTY_KINDS = ("debtor", "guarantor", "contact")


class ContactPolicyError(ValueError):
    """A contact policy file that cannot be used, naming file, line and field."""


def canonical(channel: str) -> str:
    return ALIASES.get(channel, channel)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=40)


def _channels(value: tuple[str, ...]) -> tuple[str, ...]:
    for c in value:
        if c not in CHANNELS:
            raise ValueError(f"channel {c!r} is not one of {', '.join(CHANNELS)}")
    return value


class FlagRule(_Rule):
    flag: str
    parties: tuple[str, ...] = ("debtor",)
    purposes: tuple[str, ...] = ()  # empty: every purpose

    @field_validator("parties")
    @classmethod
    def _parties(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if p not in PARTY_KINDS:
                raise ValueError(f"party {p!r} is not one of {', '.join(PARTY_KINDS)}")
        return v


class PurposeRule(_Rule):
    purposes: tuple[str, ...] = ()


class LegalStageRule(_Rule):
    stages: tuple[str, ...]
    channels: tuple[str, ...]
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))


class DailyCap(_Rule):
    channel: str
    max: int = Field(ge=0)
    _c = field_validator("channel")(classmethod(lambda cls, v: _channels((v,))[0]))


class Window(_Rule):
    start: time
    end: time
    channels: tuple[str, ...] = ("voice", "robot", "sms", "push", "email", "visit")
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, v: Any) -> Any:
        if isinstance(v, int):  # YAML reads 08:00 unquoted as sexagesimal minutes
            return time(v // 60, v % 60)
        if isinstance(v, str) and not re.fullmatch(r"\d{2}:\d{2}", v):
            raise ValueError(f"{v!r} is not a time HH:MM")
        return v


class DailyVoice(_Rule):
    max: int = Field(ge=0)
    channels: tuple[str, ...]
    effective_outcomes: tuple[str, ...]
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))


class Rolling(_Rule):
    max: int = Field(ge=0)
    days: int = Field(ge=1, le=60)
    channels: tuple[str, ...]
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))


class Lockout(_Rule):
    days: int = Field(ge=1, le=60)
    channels: tuple[str, ...]
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))


class Cease(_Rule):
    flag: str
    permitted_purposes: tuple[str, ...] = ()


class ContactPersons(_Rule):
    when_flags: tuple[str, ...] = ()  # the debtor must carry one of these (empty: any time)
    refusal_final: bool = True
    purposes: tuple[str, ...] = ()  # empty: any purpose


class ElectronicOptOut(_Rule):
    channels: tuple[str, ...]
    _c = field_validator("channels")(classmethod(lambda cls, v: _channels(v)))


class Holidays(_Rule):
    enabled: bool = False
    dates: tuple[date, ...] = ()


class AppliesTo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    region: str | None = None


class ContactPolicy(BaseModel):
    """One jurisdiction's contact rules; absent sections do not apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: str = Field(min_length=2, max_length=16)
    applies_to: AppliesTo
    window: Window | None = None
    region_timezones: dict[str, tuple[str, ...]] = {}
    flags: tuple[FlagRule, ...] = ()
    opt_out: _Rule | None = None
    dispute: PurposeRule | None = None
    legal_stage: LegalStageRule | None = None
    daily_caps: tuple[DailyCap, ...] = ()
    third_parties: _Rule | None = None
    daily_voice: DailyVoice | None = None
    rolling: tuple[Rolling, ...] = ()
    conversation_lockout: Lockout | None = None
    cease: Cease | None = None
    contact_persons: ContactPersons | None = None
    electronic_opt_out: ElectronicOptOut | None = None
    holidays: Holidays | None = None

    @field_validator("region_timezones")
    @classmethod
    def _zones(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for zones in v.values():
            for z in zones:
                try:
                    ZoneInfo(z)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ValueError(f"{z!r} is not an IANA time zone") from None
        return v

    def applies(self, country: str | None, region: str | None) -> bool:
        a = self.applies_to
        if a.country is not None and a.country != country:
            return False
        return a.region is None or a.region == region


def parse_contact_policy(text: str, source: str) -> ContactPolicy:
    return parse_document(text, source, ContactPolicy, ContactPolicyError, what="(联系策略无效)")


def load_policies(directory: Path | None = None) -> tuple[ContactPolicy, ...]:
    """Every `*.yaml` policy in `directory` (default: the shipped ones), in file-name order."""
    if directory is None:
        base = resources.files("arrears.contact").joinpath("policies")
        files = sorted(
            (p.name, p.read_text("utf-8")) for p in base.iterdir() if p.name.endswith(".yaml")
        )
        return tuple(parse_contact_policy(t, f"arrears/contact/policies/{n}") for n, t in files)
    if not directory.is_dir():
        raise ContactPolicyError(f"{directory}: not a directory of policy files (策略目录不存在)")
    return tuple(
        parse_contact_policy(p.read_text("utf-8"), str(p)) for p in sorted(directory.glob("*.yaml"))
    )


def applicable(
    policies: tuple[ContactPolicy, ...], country: str | None, region: str | None
) -> tuple[ContactPolicy, ...]:
    return tuple(p for p in policies if p.applies(country, region))
