"""The collection stage policy: stages, their entry conditions and allowed actions, escalation
rules, who may do what, and the approval limits of each role — data in YAML, validated on load.

A case's stage is computed in one place, `stage_index` (a Polars expression), for the whole
book in the daily update and for one case (a one-row frame) everywhere else:

1. the first stage (in file order) whose entry conditions hold — DPD range, overdue amount,
   products, segments, score — skipping stages marked `by_rule_only` (legal);
2. then each escalation rule whose `when` holds, in file order, raises the stage `to` a named
   stage (never lowers it) or by `escalate` steps;
3. a manual override (`stage_override`) wins over both until it is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arrears.loans.money import MINOR_UNITS
from arrears.yamldoc import parse_document

DEFAULT_POLICY = "policy.yaml"
ACTIONS = ("call", "sms", "email", "visit", "letter", "robot_call", "agency", "legal")
SEGMENTS = ("individual", "enterprise")
APPROVAL_KINDS = ("hardship", "plan", "settlement", "write_off")
PERMISSIONS = ("escalate", "de_escalate", "approve", "legal")


class PolicyError(ValueError):
    """A stage policy file that cannot be used, naming the file, line and field."""


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{value!r} must be a non-negative amount")
    return amount


class Conditions(BaseModel):
    """Conditions that all have to hold (an absent one always holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_dpd: int | None = Field(None, ge=0)
    max_dpd: int | None = Field(None, ge=0)
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    products: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    min_score: float | None = None
    max_score: float | None = None
    min_broken_promises: int | None = Field(None, ge=1)

    @field_validator("min_amount", "max_amount", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Decimal | None:
        return None if value is None else _amount(value)

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for s in value:
            if s not in SEGMENTS:
                raise ValueError(f"segment {s!r} is not one of {', '.join(SEGMENTS)}")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> Conditions:
        if self.min_dpd is not None and self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise ValueError(f"max_dpd {self.max_dpd} is below min_dpd {self.min_dpd}")
        return self


class Stage(Conditions):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    actions: tuple[str, ...]
    by_rule_only: bool = False

    @field_validator("actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for a in value:
            if a not in ACTIONS:
                raise ValueError(f"action {a!r} is not one of {', '.join(ACTIONS)}")
        return value


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label_zh: str = ""
    when: Conditions
    to: str | None = None
    escalate: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_effect(self) -> Rule:
        if (self.to is None) == (self.escalate is None):
            raise ValueError("a rule needs exactly one of 'to' (a stage) or 'escalate' (steps)")
        return self


class StagePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    promise_grace_days: int = Field(2, ge=0, le=31)
    reassign_after_days: int = Field(10, ge=1)
    limitation_years: int = Field(3, ge=1)
    limitation_warning_days: int = Field(90, ge=0)
    stages: tuple[Stage, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
    permissions: dict[str, tuple[str, ...]]
    approval_limits: dict[str, dict[str, Decimal]]

    @field_validator("approval_limits", mode="before")
    @classmethod
    def _limits(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            k: ({r: _amount(v) for r, v in roles.items()} if isinstance(roles, dict) else roles)
            for k, roles in value.items()
        }

    @model_validator(mode="after")
    def _consistent(self) -> StagePolicy:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        for rule in self.rules:
            if rule.to is not None and rule.to not in names:
                raise ValueError(f"rule {rule.name!r}: 'to' {rule.to!r} is not a stage ({names})")
        for key in self.permissions:
            if key not in PERMISSIONS:
                raise ValueError(f"permission {key!r} is not one of {', '.join(PERMISSIONS)}")
        for key in self.approval_limits:
            if key not in APPROVAL_KINDS:
                raise ValueError(f"approval kind {key!r} is not one of {', '.join(APPROVAL_KINDS)}")
        return self

    # ---------------------------------------------------------------- questions to the policy

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def rank(self, stage: str) -> int:
        try:
            return self.stage_names.index(stage)
        except ValueError:
            raise PolicyError(
                f"{stage!r} is not a stage of policy {self.version} ({', '.join(self.stage_names)}) (阶段不存在)"
            ) from None

    def stage(self, name: str) -> Stage:
        return self.stages[self.rank(name)]

    def allows(self, permission: str, role: str) -> bool:
        return role in self.permissions.get(permission, ())

    def approval_limit(self, kind: str, role: str, currency: str) -> int | None:
        """The largest amount (minor units) `role` may grant alone, or None if it may not."""
        limit = self.approval_limits.get(kind, {}).get(role)
        if limit is None:
            return None
        return int(limit.scaleb(MINOR_UNITS.get(currency, 2)))


# ------------------------------------------------------------------------- the stage rule


def _holds(c: Conditions) -> pl.Expr:
    """`c` as a boolean over a case frame with columns days_past_due, amount_overdue (minor),
    scale (10**decimals of the currency), product, segment, score, broken_promises."""
    parts: list[pl.Expr] = []
    dpd = pl.col("days_past_due")
    if c.min_dpd is not None:
        parts.append(dpd >= c.min_dpd)
    if c.max_dpd is not None:
        parts.append(dpd <= c.max_dpd)
    for bound, ge in ((c.min_amount, True), (c.max_amount, False)):
        if bound is not None:
            # exact: amount_minor * 10^k  vs  bound * 10^k * scale, all integers
            k = max(0, -bound.as_tuple().exponent)  # type: ignore[operator]
            lhs = pl.col("amount_overdue").cast(pl.Int64) * (10**k)
            rhs = pl.col("scale").cast(pl.Int64) * int(bound.scaleb(k))
            parts.append(lhs >= rhs if ge else lhs <= rhs)
    if c.products:
        parts.append(pl.col("product").is_in(list(c.products)))
    if c.segments:
        parts.append(pl.col("segment").is_in(list(c.segments)))
    if c.min_score is not None:
        parts.append(pl.col("score").fill_null(float("-inf")) >= c.min_score)
    if c.max_score is not None:
        parts.append(pl.col("score").fill_null(float("inf")) <= c.max_score)
    if c.min_broken_promises is not None:
        parts.append(pl.col("broken_promises") >= c.min_broken_promises)
    if not parts:
        return pl.lit(True)
    return pl.all_horizontal(parts).fill_null(False)


def stage_index(policy: StagePolicy) -> pl.Expr:
    """The policy's stage (as its index in `policy.stages`) for each case, ignoring overrides."""
    base: pl.Expr | None = None
    for i, stage in reversed(list(enumerate(policy.stages))):
        if stage.by_rule_only:
            continue
        base = pl.when(_holds(stage)).then(pl.lit(i)).otherwise(base if base is not None else 0)
    result = base if base is not None else pl.lit(0)
    top = len(policy.stages) - 1
    for rule in policy.rules:
        raised = (
            pl.max_horizontal(result, pl.lit(policy.rank(rule.to)))
            if rule.to is not None
            else pl.min_horizontal(result + rule.escalate, pl.lit(top))
        )
        result = pl.when(_holds(rule.when)).then(raised).otherwise(result)
    return result.cast(pl.Int32)


def with_scale(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `scale` = 10**decimals of its `currency` column (for exact amount tests)."""
    scales = {c: 10 ** MINOR_UNITS[c] for c in frame.get_column("currency").unique().to_list()}
    return frame.with_columns(
        scale=pl.col("currency").replace_strict(scales, return_dtype=pl.Int64, default=100)
    )


@dataclass(frozen=True)
class CaseFigures:
    """What the policy reads about one case."""

    days_past_due: int
    amount_overdue: int
    currency: str
    product: str
    segment: str
    broken_promises: int = 0
    score: float | None = None


def stage_for(policy: StagePolicy, figures: CaseFigures) -> str:
    """The policy's stage for one case (the same expression as the daily update's)."""
    frame = with_scale(
        pl.DataFrame(
            [figures.__dict__],
            schema={
                "days_past_due": pl.Int32,
                "amount_overdue": pl.Int64,
                "currency": pl.String,
                "product": pl.String,
                "segment": pl.String,
                "broken_promises": pl.Int32,
                "score": pl.Float64,
            },
        )
    )
    return policy.stage_names[frame.select(stage_index(policy)).item()]


# ------------------------------------------------------------------------------ loading


def parse_policy(text: str, source: str) -> StagePolicy:
    """The policy in one YAML document; raises PolicyError naming file, line and field."""
    return parse_document(
        text,
        source,
        StagePolicy,
        PolicyError,
        top="a mapping with 'stages:' at the top (顶层须为映射)",
    )


def load_policy(path: Path | None = None) -> StagePolicy:
    """The lender's policy file `path`, or the shipped one; it replaces the default as a whole."""
    if path is None:
        text = resources.files("arrears.collection").joinpath(DEFAULT_POLICY).read_text("utf-8")
        return parse_policy(text, f"arrears/collection/{DEFAULT_POLICY}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            f"{path}: cannot read the policy file 无法读取策略文件: {exc.strerror}"
        ) from None
    return parse_policy(text, str(path))
