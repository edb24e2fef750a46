"""Admission (严格准入): the policy in YAML, applications read and validated, and the decision.

The policy (`admission.yaml` beside this module, or a lender's own file) holds hard rules — age,
the internal blacklist, the judicial enforcement list, debt-to-income, existing delinquencies,
single-borrower concentration — score cut-offs per product, and per product the bands that give
a credit limit and an annual rate by score. It is validated on load; an error names the file,
the line and the field.

`decide(application, score, policy)` is a pure function: any hard-rule hit declines whatever the
score; otherwise the score meets the product's cut-offs (approve / refer to manual review /
decline; no score → refer), and the score's band gives the limit, the rate and the approved
amount. Every decision carries its reasons as codes with English and Chinese text.

The score comes from the application's own `score` when it has one, otherwise from a pluggable
scorer: any `Callable[[polars.DataFrame], Sequence[float]]` given the validated applications as
a frame (amounts in minor units), one score per row. Amounts are integer minor units throughout;
rates and ratios are `Decimal`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from arrears.loans.money import MoneyError, format_amount, parse_amount

DEFAULT_POLICY = Path(__file__).with_name("admission.yaml")
DECISIONS = ("decline", "refer", "approve")  # worst to best: the order the invariants use

Scorer = Callable[[pl.DataFrame], "Sequence[float | None] | ModelScores"]


class PolicyError(ValueError):
    """An admission policy that cannot be used: `file:line: field: problem`."""


class ApplicationsRejected(ValueError):
    """Applications that failed validation; nothing was decided. `issues` lists each problem as
    `file:row N: field: value: problem`."""

    def __init__(self, issues: list[str]) -> None:
        shown = "; ".join(issues[:20]) + (
            f"; … {len(issues) - 20} more" if len(issues) > 20 else ""
        )
        super().__init__(f"{len(issues)} problem(s) in the applications 申请数据有误: {shown}")
        self.issues = issues


# ------------------------------------------------------------------ YAML with lines


class _Lined(dict):  # type: ignore[type-arg]
    lines: dict[Any, int]


class _LinedList(list):  # type: ignore[type-arg]
    lines: dict[int, int]


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping key and list item, so an error can point at it."""


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Lined:
    out = _Lined(loader.construct_mapping(node, deep=True))
    out.lines = {k.value: k.start_mark.line + 1 for k, _ in node.value}
    return out


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LinedList:
    out = _LinedList(loader.construct_sequence(node, deep=True))
    out.lines = {i: item.start_mark.line + 1 for i, item in enumerate(node.value)}
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def _line_of(raw: Any, loc: Sequence[Any]) -> int | None:
    """The line of the deepest node of `loc` that the document has."""
    line, node = None, raw
    for part in loc:
        lines = getattr(node, "lines", None)
        if lines is None or part not in lines:
            break
        line = lines[part]
        node = node[part]
    return line


# ------------------------------------------------------------------ the policy's shape


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgeRule(_Model):
    min: int = Field(ge=0, le=150)
    max: int = Field(ge=0, le=150)

    @model_validator(mode="after")
    def _order(self) -> AgeRule:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class DebtToIncomeRule(_Model):
    max: Decimal = Field(gt=0, le=100)
    stress_rate: Decimal = Field(ge=0, lt=1)


class DelinquencyRule(_Model):
    max_current_dpd: int = Field(0, ge=0)
    max_dpd_12m: int | None = Field(None, ge=0)


class ConcentrationRule(_Model):
    max_exposure: Decimal = Field(gt=0)


class HardRules(_Model):
    age: AgeRule | None = None
    blacklist: bool = True
    enforcement_list: bool = True
    debt_to_income: DebtToIncomeRule | None = None
    delinquency: DelinquencyRule | None = None
    concentration: ConcentrationRule | None = None


class HardRulesPatch(HardRules):
    """A product's changes to the general hard rules: a key given replaces the general one
    (`null` switches that rule off for the product); a key left out keeps it."""

    blacklist: bool | None = None  # type: ignore[assignment]
    enforcement_list: bool | None = None  # type: ignore[assignment]


class Cutoffs(_Model):
    approve: float = Field(allow_inf_nan=False)
    refer: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _order(self) -> Cutoffs:
        if self.refer > self.approve:
            raise ValueError(f"refer {self.refer} is above approve {self.approve}")
        return self


class BandModel(_Model):
    band: str = Field(min_length=1, max_length=16)
    min_score: float = Field(allow_inf_nan=False)
    limit: Decimal = Field(gt=0)
    annual_rate: Decimal = Field(ge=0, lt=1)


class ProductModel(_Model):
    hard_rules: HardRulesPatch | None = None
    cutoffs: Cutoffs
    bands: list[BandModel] = Field(min_length=1)


class PolicyModel(_Model):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    hard_rules: HardRules
    products: dict[str, ProductModel] = Field(min_length=1)


# ------------------------------------------------------------------ the compiled policy


@dataclass(frozen=True)
class Band:
    band: str
    min_score: float
    limit: int  # minor units
    annual_rate: Decimal


@dataclass(frozen=True)
class Rules:
    """The hard rules in force for one product, amounts in minor units."""

    age: tuple[int, int] | None
    blacklist: bool
    enforcement_list: bool
    max_debt_to_income: Decimal | None
    stress_rate: Decimal
    max_current_dpd: int | None
    max_dpd_12m: int | None
    max_exposure: int | None


@dataclass(frozen=True)
class ProductPolicy:
    code: str
    rules: Rules
    approve: float
    refer: float
    bands: tuple[Band, ...]  # highest min_score first

    def band_for(self, score: float) -> Band | None:
        return next((b for b in self.bands if score >= b.min_score), None)


@dataclass(frozen=True)
class AdmissionPolicy:
    currency: str
    products: dict[str, ProductPolicy]
    source: str = "<policy>"


def _where(source: str, raw: Any, loc: Sequence[Any]) -> str:
    line = _line_of(raw, loc)
    path = ".".join(str(p) for p in loc) or "(document)"
    return f"{source}:{line}: {path}" if line else f"{source}: {path}"


def _compile(model: PolicyModel, raw: Any, source: str) -> AdmissionPolicy:
    currency = model.currency

    def money(value: Decimal, loc: tuple[Any, ...]) -> int:
        try:
            return parse_amount(value, currency)
        except MoneyError as exc:
            raise PolicyError(f"{_where(source, raw, loc)}: {exc}") from None

    products: dict[str, ProductPolicy] = {}
    for code, p in model.products.items():
        base = model.hard_rules
        if p.hard_rules is not None:
            changes = {k: getattr(p.hard_rules, k) for k in p.hard_rules.model_fields_set}
            base = base.model_copy(update=changes)
        rules_loc = ("products", code, "hard_rules") if p.hard_rules else ("hard_rules",)
        dti, conc, delq = base.debt_to_income, base.concentration, base.delinquency
        rules = Rules(
            age=(base.age.min, base.age.max) if base.age else None,
            blacklist=bool(base.blacklist),
            enforcement_list=bool(base.enforcement_list),
            max_debt_to_income=dti.max if dti else None,
            stress_rate=dti.stress_rate if dti else Decimal(0),
            max_current_dpd=delq.max_current_dpd if delq else None,
            max_dpd_12m=delq.max_dpd_12m if delq else None,
            max_exposure=money(conc.max_exposure, (*rules_loc, "concentration", "max_exposure"))
            if conc
            else None,
        )
        bands: list[Band] = []
        for i, b in enumerate(p.bands):
            loc = ("products", code, "bands", i)
            band = Band(b.band, b.min_score, money(b.limit, (*loc, "limit")), b.annual_rate)
            if bands:
                above = bands[-1]
                # Bands run from the best score down: a lower band may not lend more or cheaper,
                # or a better score could get a worse offer.
                if band.min_score >= above.min_score:
                    raise PolicyError(
                        f"{_where(source, raw, (*loc, 'min_score'))}: bands must go from the "
                        f"highest min_score down ({band.min_score} after {above.min_score}) / "
                        "分档须按最低分从高到低排列"
                    )
                if band.limit > above.limit or band.annual_rate < above.annual_rate:
                    raise PolicyError(
                        f"{_where(source, raw, loc)}: band {band.band} offers a higher limit or "
                        f"a lower rate than band {above.band} above it / 低分档的额度不能更高、利率不能更低"
                    )
            bands.append(band)
        if bands[-1].min_score > p.cutoffs.refer:
            raise PolicyError(
                f"{_where(source, raw, ('products', code, 'bands'))}: the lowest band starts at "
                f"{bands[-1].min_score}, above the refer cut-off {p.cutoffs.refer}: some "
                "scores that pass would have no limit / 最低分档须覆盖转人工审核分数线"
            )
        products[code] = ProductPolicy(
            code, rules, p.cutoffs.approve, p.cutoffs.refer, tuple(bands)
        )
    return AdmissionPolicy(currency, products, source)


def parse_policy(text: str, source: str = "<policy>") -> AdmissionPolicy:
    """An admission policy from YAML text; raises `PolicyError` naming file, line and field."""
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise PolicyError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the policy must be a mapping / 准入政策须为映射结构")
    try:
        model = PolicyModel.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            value = e.get("input")
            shown = "" if isinstance(value, dict | list) else f" (value {value!r})"
            problems.append(f"{_where(source, raw, e['loc'])}: {e['msg']}{shown}")
        raise PolicyError("; ".join(problems)) from None
    return _compile(model, raw, source)


def load_policy(path: Path | None = None) -> AdmissionPolicy:
    """The policy at `path`, or the shipped default."""
    path = path or DEFAULT_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy: {exc.strerror}") from None
    return parse_policy(text, str(path))


@lru_cache(maxsize=1)
def default_policy() -> AdmissionPolicy:
    return load_policy(DEFAULT_POLICY)


# ------------------------------------------------------------------ applications


def _amount_text(value: Any) -> Any:
    # JSON files may carry whole amounts as numbers; fractions must be text (a float is inexact).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


AmountText = Annotated[
    str,
    BeforeValidator(_amount_text),
    Field(pattern=r"^\d{1,15}(\.\d{1,6})?$", description="Decimal text, e.g. 50000.00"),
]


class ApplicationIn(BaseModel):
    """One credit application, as a file row or an API body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Ids are printable text: no control characters (PostgreSQL refuses NUL in a string).
    application_id: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    product: str = Field(min_length=1, max_length=64)
    kind: Literal["individual", "enterprise"] = "individual"
    borrower_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    requested_amount: AmountText
    term_months: int = Field(ge=1, le=600)
    age: int | None = Field(None, ge=0, le=150)
    monthly_income: AmountText
    existing_monthly_debt: AmountText = "0"
    existing_exposure: AmountText = "0"
    current_dpd: int = Field(0, ge=0, le=100_000)
    max_dpd_12m: int = Field(0, ge=0, le=100_000)
    blacklist: bool = False
    enforcement_listed: bool = False
    # who applies, for the internal blacklist and third-party pulls before any borrower exists
    national_id: str | None = Field(None, min_length=4, max_length=64, pattern=r"^[0-9A-Za-z-]+$")
    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    phone: str | None = Field(None, min_length=5, max_length=32, pattern=r"^[0-9 ()+.-]+$")
    score: float | None = Field(None, allow_inf_nan=False)
    # Characteristics a model needs beyond the fields above (`features.NAME` columns in a CSV):
    # what the registry's champion application model scores when there is no `score`.
    features: dict[str, float | str | bool | None] | None = Field(
        None, description='Model characteristics, e.g. {"inquiries_6m": 2}. 模型特征。'
    )

    @model_validator(mode="after")
    def _needs(self) -> ApplicationIn:
        for name in self.features or {}:
            if name in type(self).model_fields or not name.strip():
                raise ValueError(
                    f"features: {name!r} is an application field or empty; give it as the "
                    "field / 特征名不能为空或与申请字段重名"
                )
        if self.kind == "individual" and self.age is None:
            raise ValueError("age is required for an individual / 个人申请须填写年龄")
        if Decimal(self.requested_amount) <= 0:
            raise ValueError("requested_amount must be positive / 申请金额须大于零")
        return self


@dataclass(frozen=True)
class Application:
    """A validated application, amounts in minor units of `currency`."""

    application_id: str
    product: str
    kind: str
    borrower_id: str | None
    currency: str
    requested_amount: int
    term_months: int
    age: int | None
    monthly_income: int
    existing_monthly_debt: int
    existing_exposure: int
    current_dpd: int
    max_dpd_12m: int
    blacklist: bool
    enforcement_listed: bool
    score: float | None
    features: Mapping[str, Any] | None = None  # model characteristics, as given
    national_id: str | None = None
    name: str | None = None
    phone: str | None = None
    blacklist_phone: bool = False  # the phone is on the internal blacklist (refer, not decline)


_AMOUNTS = ("requested_amount", "monthly_income", "existing_monthly_debt", "existing_exposure")


def to_application(model: ApplicationIn, policy: AdmissionPolicy) -> Application:
    """Check the application against the policy (product, currency) and convert its amounts;
    raises ValueError naming the field."""
    if model.product not in policy.products:
        raise ValueError(
            f"product: {model.product!r} is not in the admission policy "
            f"({', '.join(policy.products)}) / 准入政策未覆盖该产品"
        )
    currency = model.currency or policy.currency
    if currency != policy.currency:
        raise ValueError(
            f"currency: {currency!r} — the policy is in {policy.currency} / 币种与准入政策不一致"
        )
    values = model.model_dump()
    for name in _AMOUNTS:
        try:
            values[name] = parse_amount(values[name], currency)
        except MoneyError as exc:
            raise ValueError(f"{name}: {exc}") from None
    values["currency"] = currency
    return Application(**values)


def read_application_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, raw fields) of a .csv (row = line number) or .json file (a list of objects,
    or `{"applications": [...]}`; row = position from 1). Empty CSV cells are left out."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                # An empty `features.NAME` cell is kept (as None): the characteristic is given
                # and missing, which a scorecard bins apart; a column not there is not given.
                return [
                    (
                        n,
                        {
                            k: (v if v != "" else None)
                            for k, v in row.items()
                            if k is not None
                            and (v not in ("", None) or k.startswith(FEATURE_PREFIX))
                        },
                    )
                    for n, row in enumerate(reader, start=2)
                ]
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "applications" in data:
                data = data["applications"]
            if isinstance(data, dict):
                data = [data]
            if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
                raise ApplicationsRejected(
                    [f"{path}: expected a list of application objects / 应为申请对象列表"]
                )
            return list(enumerate(data, start=1))
    except OSError as exc:
        raise ApplicationsRejected([f"{path}: cannot read: {exc.strerror}"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
        raise ApplicationsRejected([f"{path}: not valid {suffix[1:].upper()}: {exc}"]) from None
    raise ApplicationsRejected([f"{path}: expected a .csv or .json file / 仅支持 CSV 或 JSON"])


FEATURE_PREFIX = "features."


def _fold_features(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row's `features.NAME` columns gathered into its `features` mapping."""
    out = {k: v for k, v in raw.items() if not k.startswith(FEATURE_PREFIX)}
    folded = {k[len(FEATURE_PREFIX) :]: v for k, v in raw.items() if k.startswith(FEATURE_PREFIX)}
    if folded:
        out["features"] = {**(out.get("features") or {}), **folded}
    return out


def validate_applications(
    rows: Iterable[tuple[int, Mapping[str, Any]]], policy: AdmissionPolicy, source: str
) -> list[Application]:
    """Every row validated; all problems reported at once (`ApplicationsRejected`), or none."""
    issues: list[str] = []
    apps: list[Application] = []
    seen: set[str] = set()
    for number, raw in rows:
        where = f"{source}:row {number}"
        try:
            model = ApplicationIn.model_validate(_fold_features(raw))
        except ValidationError as exc:
            for e in exc.errors():
                name = ".".join(str(p) for p in e["loc"]) or "(row)"
                value = raw.get(str(e["loc"][0])) if e["loc"] else None
                shown = f": value {value!r}" if value is not None else ""
                issues.append(f"{where}: {name}{shown}: {e['msg']}")
            continue
        if model.application_id in seen:
            issues.append(
                f"{where}: application_id: {model.application_id!r} appears twice / 申请编号重复"
            )
            continue
        seen.add(model.application_id)
        try:
            apps.append(to_application(model, policy))
        except ValueError as exc:
            issues.append(f"{where}: {exc}")
    if issues:
        raise ApplicationsRejected(issues)
    return apps


def applications_frame(apps: Sequence[Application]) -> pl.DataFrame:
    """The applications as a frame (what a scorer is given)."""
    schema = {
        "application_id": pl.String, "product": pl.String, "kind": pl.String,
        "borrower_id": pl.String, "currency": pl.String, "requested_amount": pl.Int64,
        "term_months": pl.Int64, "age": pl.Int64, "monthly_income": pl.Int64,
        "existing_monthly_debt": pl.Int64, "existing_exposure": pl.Int64,
        "current_dpd": pl.Int64, "max_dpd_12m": pl.Int64, "blacklist": pl.Boolean,
        "enforcement_listed": pl.Boolean, "score": pl.Float64,
    }  # fmt: skip
    frame = pl.DataFrame([{k: a.__dict__[k] for k in schema} for a in apps], schema=schema)
    # Model characteristics: one `features.NAME` text column each (the scorer casts them to the
    # model's types), and `features_given` naming what each application gave (a null given is a
    # missing value; a name not given is an error for a model that needs it).
    names = sorted({n for a in apps for n in (a.features or {})})
    extra = {
        f"{FEATURE_PREFIX}{n}": pl.Series(
            [_text((a.features or {}).get(n)) for a in apps], dtype=pl.String
        )
        for n in names
    }
    given = pl.Series(
        "features_given", [sorted(a.features or {}) for a in apps], dtype=pl.List(pl.String)
    )
    return frame.with_columns(given, **extra)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def enrich_with_profiles(apps: Sequence[Application], profiles: pl.DataFrame) -> list[Application]:
    """Applications with what the lender already knows of the borrower (a credit profile frame
    from `arrears.bureau.profile.credit_profiles`): the worse of the application's and the
    profile's delinquencies, exposure and monthly debt, and an enforcement-list hit from
    either. An application never looks better for being enriched."""
    by_id = {r["borrower_id"]: r for r in profiles.iter_rows(named=True)}
    out = []
    for app in apps:
        p = by_id.get(app.borrower_id) if app.borrower_id else None
        if p is None:
            out.append(app)
            continue
        same_currency = p.get("currency") == app.currency

        def worst(current: int, *others: Any) -> int:
            return max([current, *[int(o) for o in others if o is not None]])

        out.append(
            replace(
                app,
                current_dpd=worst(app.current_dpd, p.get("current_dpd")),
                max_dpd_12m=worst(app.max_dpd_12m, p.get("max_dpd_12m")),
                existing_exposure=worst(
                    app.existing_exposure,
                    p.get("outstanding_principal") if same_currency else None,
                ),
                existing_monthly_debt=worst(
                    app.existing_monthly_debt,
                    p.get("other_lenders_monthly_payment")
                    if p.get("bureau_currency") == app.currency
                    else None,
                ),
                enforcement_listed=app.enforcement_listed or bool(p.get("enforcement_listed")),
            )
        )
    return out


# ------------------------------------------------------------------ the decision


@dataclass(frozen=True)
class Reason:
    code: str
    en: str
    zh: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "en": self.en, "zh": self.zh}


@dataclass(frozen=True)
class Decision:
    application_id: str
    product: str
    decision: Literal["approve", "refer", "decline"]
    reasons: tuple[Reason, ...]
    score: float | None
    currency: str
    band: str | None = None
    limit: int | None = None  # minor units
    approved_amount: int | None = None  # minor units; approve only
    annual_rate: Decimal | None = None
    debt_to_income: Decimal | None = None
    hard_rule_hits: tuple[str, ...] = field(default=())
    # what scored it: {"model_id", "version", "kind", "method"} of the champion, None otherwise
    model: Mapping[str, Any] | None = None
    # the model's reason codes: the characteristics that lowered the score most
    score_reasons: tuple[Reason, ...] = field(default=())

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def as_json(self) -> dict[str, Any]:
        def amount(v: int | None) -> str | None:
            return None if v is None else format_amount(v, self.currency)

        return {
            "application_id": self.application_id,
            "product": self.product,
            "decision": self.decision,
            "reason_codes": self.reason_codes,
            "reasons": [r.as_json() for r in self.reasons],
            "score": self.score,
            "band": self.band,
            "currency": self.currency,
            "limit": amount(self.limit),
            "approved_amount": amount(self.approved_amount),
            "annual_rate": None if self.annual_rate is None else str(self.annual_rate),
            "debt_to_income": None if self.debt_to_income is None else str(self.debt_to_income),
            "model": None if self.model is None else dict(self.model),
            "score_reasons": [r.as_json() for r in self.score_reasons],
        }


def monthly_instalment(principal: int, annual_rate: Decimal, term_months: int) -> int:
    """The equal instalment of `principal` (minor units) over `term_months` at `annual_rate`,
    rounded up to a whole minor unit (affordability errs on the safe side)."""
    r = annual_rate / 12
    if r == 0:
        value = Decimal(principal) / term_months
    else:
        value = Decimal(principal) * r / (1 - (1 + r) ** -term_months)
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def debt_to_income(app: Application, stress_rate: Decimal) -> Decimal | None:
    """(existing monthly debt + the new loan's instalment at the stress rate) / monthly income,
    to four places; None when there is no income to divide by."""
    if app.monthly_income <= 0:
        return None
    new = monthly_instalment(app.requested_amount, stress_rate, app.term_months)
    return (Decimal(app.existing_monthly_debt + new) / app.monthly_income).quantize(
        Decimal("0.0001")
    )


def hard_rule_hits(app: Application, rules: Rules) -> list[Reason]:
    """The hard rules `app` breaks (empty: none)."""
    hits: list[Reason] = []
    if rules.age and app.kind == "individual" and app.age is not None:
        low, high = rules.age
        if not low <= app.age <= high:
            hits.append(
                Reason(
                    "AGE_OUT_OF_RANGE",
                    f"applicant is {app.age}, outside the accepted {low}–{high}",
                    f"申请人年龄 {app.age} 岁，不在准入范围 {low}–{high} 岁内",
                )
            )
    if rules.blacklist and app.blacklist:
        hits.append(Reason("BLACKLISTED", "on the internal blacklist", "命中内部黑名单"))
    if rules.enforcement_list and app.enforcement_listed:
        hits.append(
            Reason(
                "ENFORCEMENT_LISTED",
                "on the judicial enforcement list (dishonest judgment debtor)",
                "命中失信被执行人名单",
            )
        )
    if rules.max_debt_to_income is not None:
        ratio = debt_to_income(app, rules.stress_rate)
        monthly = app.existing_monthly_debt + monthly_instalment(
            app.requested_amount, rules.stress_rate, app.term_months
        )
        # Compared exactly in minor units (the rounded ratio is for people to read).
        if ratio is None or monthly > rules.max_debt_to_income * app.monthly_income:
            shown = "no income" if ratio is None else str(ratio)
            hits.append(
                Reason(
                    "DEBT_TO_INCOME",
                    f"debt-to-income {shown} above the maximum {rules.max_debt_to_income}",
                    f"负债收入比 {'无收入' if ratio is None else ratio} 超过上限 {rules.max_debt_to_income}",
                )
            )
    if rules.max_current_dpd is not None and app.current_dpd > rules.max_current_dpd:
        hits.append(
            Reason(
                "DELINQUENT_NOW",
                f"{app.current_dpd} days past due today (at most {rules.max_current_dpd})",
                f"当前逾期 {app.current_dpd} 天（上限 {rules.max_current_dpd} 天）",
            )
        )
    if rules.max_dpd_12m is not None and app.max_dpd_12m > rules.max_dpd_12m:
        hits.append(
            Reason(
                "DELINQUENT_12M",
                f"{app.max_dpd_12m} days past due in the last 12 months (at most {rules.max_dpd_12m})",
                f"近12个月最长逾期 {app.max_dpd_12m} 天（上限 {rules.max_dpd_12m} 天）",
            )
        )
    if rules.max_exposure is not None:
        total = app.existing_exposure + app.requested_amount
        if total > rules.max_exposure:
            cur = app.currency
            hits.append(
                Reason(
                    "CONCENTRATION",
                    f"exposure {format_amount(total, cur)} {cur} with this loan above the "
                    f"single-borrower limit {format_amount(rules.max_exposure, cur)}",
                    f"含本笔贷款授信敞口 {format_amount(total, cur)} {cur}，超过单一客户上限 "
                    f"{format_amount(rules.max_exposure, cur)}",
                )
            )
    return hits


NO_CHAMPION = Reason(
    "NO_CHAMPION",
    "no score and no champion application model is promoted: decided on the rules only, "
    "manual review",
    "无评分，且未发布申请评分冠军模型：仅按规则审批，转人工审核",
)
BLACKLIST_PHONE = Reason(
    "BLACKLIST_PHONE",
    "the phone number is on the internal blacklist (phones are recycled: manual review)",
    "手机号码命中内部黑名单（号码可能被二次放号，转人工审核）",
)


def decide(
    app: Application,
    score: float | None,
    policy: AdmissionPolicy,
    *,
    no_score: Reason | None = None,
) -> Decision:
    """The admission decision for one application with its score (None: no score, for the
    reason `no_score`, by default SCORE_MISSING). A phone on the blacklist (`blacklist_phone`)
    turns an approval into a referral; it never declines alone."""
    decision = _decide(app, score, policy, no_score)
    if (
        app.blacklist_phone
        and product_rules(policy, app).blacklist
        and decision.decision != "decline"
    ):
        # an approval's own reasons (score met, amount cut to the limit) no longer apply
        kept = (r for r in decision.reasons if r.code not in ("SCORE_APPROVE", "LIMIT_REDUCED"))
        reasons = (BLACKLIST_PHONE, *kept)
        decision = replace(decision, decision="refer", reasons=reasons, approved_amount=None)
    return decision


def product_rules(policy: AdmissionPolicy, app: Application) -> Rules:
    return policy.products[app.product].rules


def _decide(
    app: Application, score: float | None, policy: AdmissionPolicy, no_score: Reason | None
) -> Decision:
    product = policy.products[app.product]
    rules = product.rules
    dti = debt_to_income(app, rules.stress_rate) if rules.max_debt_to_income is not None else None
    base = {
        "application_id": app.application_id,
        "product": app.product,
        "score": score,
        "currency": app.currency,
        "debt_to_income": dti,
    }
    hits = hard_rule_hits(app, rules)
    if hits:
        return Decision(
            **base, decision="decline", reasons=tuple(hits),
            hard_rule_hits=tuple(h.code for h in hits),
        )  # fmt: skip
    if score is None:
        return Decision(
            **base, decision="refer",
            reasons=(no_score or Reason("SCORE_MISSING", "no score: manual review", "无评分，转人工审核"),),
        )  # fmt: skip
    if score < product.refer:
        return Decision(
            **base,
            decision="decline",
            reasons=(
                Reason(
                    "SCORE_BELOW_CUTOFF",
                    f"score {score:g} below the cut-off {product.refer:g}",
                    f"评分 {score:g} 低于准入分数线 {product.refer:g}",
                ),
            ),
        )
    band = product.band_for(score)
    assert band is not None  # the policy's check: the lowest band covers the refer cut-off
    offer = {"band": band.band, "limit": band.limit, "annual_rate": band.annual_rate}
    if score < product.approve:
        return Decision(
            **base,
            **offer,
            decision="refer",
            reasons=(
                Reason(
                    "SCORE_REFER",
                    f"score {score:g} between {product.refer:g} and {product.approve:g}: manual review",
                    f"评分 {score:g} 介于 {product.refer:g} 与 {product.approve:g} 之间，转人工审核",
                ),
            ),
        )
    approved = min(app.requested_amount, band.limit)
    reasons: tuple[Reason, ...] = (
        Reason("SCORE_APPROVE", f"score {score:g} meets {product.approve:g}", f"评分 {score:g} 达到 {product.approve:g}"),
    )  # fmt: skip
    if approved < app.requested_amount:
        cur = app.currency
        reasons += (
            Reason(
                "LIMIT_REDUCED",
                f"amount reduced to the band {band.band} limit {format_amount(band.limit, cur)} {cur}",
                f"金额下调至 {band.band} 档额度上限 {format_amount(band.limit, cur)} {cur}",
            ),
        )
    return Decision(**base, **offer, decision="approve", reasons=reasons, approved_amount=approved)


@dataclass(frozen=True)
class ModelScores:
    """What a model-backed scorer returns: one score per row (None: not scored), each row's
    reason codes, and the model (None: there is no champion, so nothing was scored). A plain
    scorer returns just the sequence of scores."""

    scores: Sequence[float | None]
    reasons: Sequence[tuple[Reason, ...]]
    model: Mapping[str, Any] | None


@dataclass(frozen=True)
class Scores:
    scores: list[float | None]
    reasons: list[tuple[Reason, ...]]
    models: list[Mapping[str, Any] | None]
    no_champion: bool  # a model-backed scorer found no champion


def score_applications(apps: Sequence[Application], scorer: Scorer | None) -> Scores:
    """Each application's own score, else the scorer's (when there is one), else None."""
    scores: list[float | None] = [a.score for a in apps]
    reasons: list[tuple[Reason, ...]] = [() for _ in apps]
    models: list[Mapping[str, Any] | None] = [None for _ in apps]
    missing = [i for i, s in enumerate(scores) if s is None]
    no_champion = False
    if missing and scorer is not None:
        frame = applications_frame([apps[i] for i in missing])
        result = scorer(frame)
        if isinstance(result, ModelScores):
            produced, found = list(result.scores), list(result.reasons)
            no_champion = result.model is None
        else:
            produced, found = list(result), [() for _ in missing]
        if len(produced) != len(missing):
            raise RuntimeError(
                f"the scorer returned {len(produced)} scores for {len(missing)} applications"
            )
        for i, value, why in zip(missing, produced, found, strict=True):
            scores[i] = None if value is None else float(value)
            reasons[i] = tuple(why)
            if isinstance(result, ModelScores) and value is not None:
                models[i] = result.model
    return Scores(scores, reasons, models, no_champion)


def admit(
    apps: Sequence[Application], policy: AdmissionPolicy, scorer: Scorer | None = None
) -> list[Decision]:
    """Decisions for `apps`, in order."""
    scored = score_applications(apps, scorer)
    no_score = NO_CHAMPION if scored.no_champion else None
    return [
        replace(
            decide(a, s, policy, no_score=no_score),
            model=model,
            score_reasons=why,
        )
        for a, s, why, model in zip(apps, scored.scores, scored.reasons, scored.models, strict=True)
    ]
