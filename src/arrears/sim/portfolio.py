"""Borrowers, their features, the latent risk, and loans by product and risk grade — all drawn
at once as numpy columns (no per-loan Python)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from arrears.sim import names

EPOCH = np.datetime64("1970-01-01", "D")

# product: share of loans, borrower kind, log-odds effect
PRODUCT_MIX: dict[str, tuple[float, str, float]] = {
    "consumer": (0.55, "individual", 0.0),
    "card": (0.25, "individual", 0.35),
    "sme": (0.12, "enterprise", 0.10),
    "supply_chain": (0.06, "enterprise", -0.60),
    "project": (0.02, "enterprise", -0.30),
}
GRADES = ("A", "B", "C", "D", "E")
GRADE_EDGES = np.array([0.015, 0.03, 0.06, 0.12])  # true 12-month PD bands of grades A…E

# Where borrowers live: country, region, IANA zone, share of individuals / of enterprises.
PLACES: list[tuple[str, str, str, float, float]] = [
    ("CN", "CN-GD", "Asia/Shanghai", 0.14, 0.15),
    ("CN", "CN-ZJ", "Asia/Shanghai", 0.09, 0.11),
    ("CN", "CN-JS", "Asia/Shanghai", 0.09, 0.11),
    ("CN", "CN-SH", "Asia/Shanghai", 0.07, 0.09),
    ("CN", "CN-BJ", "Asia/Shanghai", 0.06, 0.08),
    ("CN", "CN-SD", "Asia/Shanghai", 0.07, 0.07),
    ("CN", "CN-SC", "Asia/Shanghai", 0.06, 0.05),
    ("CN", "CN-HB", "Asia/Shanghai", 0.05, 0.04),
    ("CN", "CN-HN", "Asia/Shanghai", 0.05, 0.04),
    ("CN", "CN-FJ", "Asia/Shanghai", 0.04, 0.04),
    ("CN", "CN-HA", "Asia/Shanghai", 0.05, 0.03),
    ("CN", "CN-AH", "Asia/Shanghai", 0.04, 0.03),
    ("CN", "CN-CQ", "Asia/Shanghai", 0.03, 0.02),
    ("CN", "CN-LN", "Asia/Shanghai", 0.03, 0.02),
    ("CN", "CN-SN", "Asia/Shanghai", 0.02, 0.02),
    ("CN", "CN-YN", "Asia/Shanghai", 0.01, 0.01),
    ("CN", "CN-XJ", "Asia/Urumqi", 0.01, 0.01),
    ("US", "US-MA", "America/New_York", 0.01, 0.004),
    ("US", "US-NY", "America/New_York", 0.01, 0.002),
    ("US", "US-CA", "America/Los_Angeles", 0.01, 0.002),
    ("US", "US-IL", "America/Chicago", 0.005, 0.001),
    ("GB", "GB-LND", "Europe/London", 0.015, 0.004),
    ("GB", "GB-MAN", "Europe/London", 0.005, 0.001),
    ("HK", "", "Asia/Hong_Kong", 0.02, 0.03),
    ("SG", "", "Asia/Singapore", 0.02, 0.015),
]
ZH_SHARE = {"CN": 0.97, "HK": 0.7, "SG": 0.4, "US": 0.08, "GB": 0.05}
EMPLOYMENT = {  # share, log-odds effect
    "salaried": (0.62, 0.0),
    "self_employed": (0.18, 0.25),
    "gig": (0.12, 0.55),
    "unemployed": (0.03, 1.10),
    "retired": (0.05, 0.10),
}


@dataclass
class Portfolio:
    borrowers: pl.DataFrame  # the import columns
    features: pl.DataFrame  # borrower_id + features
    loans: pl.DataFrame  # loan columns (typed) + loan_idx, pd12, grade, borrower_idx
    custom: pl.DataFrame  # custom schedule rows: loan_idx, seq, due_on, principal, interest


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def month_index(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def day_of_month(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


def days_in_month(month: np.ndarray) -> np.ndarray:
    start = month.astype("datetime64[M]").astype("datetime64[D]")
    return ((month + 1).astype("datetime64[M]").astype("datetime64[D]") - start).astype(np.int64)


def on_month(month: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Days since the epoch of day `anchor` (clamped to the month's end) of month `month`."""
    start = (month.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(np.int64)
    return start + np.minimum(anchor, days_in_month(month)) - 1


def _cat(*parts: pl.Series | pl.Expr) -> pl.Series:
    return pl.select(pl.concat_str(list(parts))).to_series()


def _pick(rng: np.random.Generator, values: list[str], size: int) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(rng.integers(0, len(values), size))


def _pick_ranked(rng: np.random.Generator, values: list[str], size: int) -> pl.Series:
    """Draw with weights falling by rank (Zipf-like), as surname frequencies do."""
    weights = 1.0 / np.arange(1, len(values) + 1) ** 0.9
    idx = rng.choice(len(values), size=size, p=weights / weights.sum())
    return pl.Series(values, dtype=pl.String).gather(idx)


def _names(
    rng: np.random.Generator, kind: str, chinese: np.ndarray, industry: pl.Series | None
) -> pl.Series:
    size = chinese.size
    if kind == "individual":
        two = pl.Series(rng.random(size) < 0.7)
        second = _pick(rng, names.GIVEN_ZH, size)
        second = pl.select(pl.when(pl.lit(two)).then(second).otherwise(pl.lit(""))).to_series()
        zh = _cat(
            _pick_ranked(rng, names.SURNAMES_ZH, size),
            _pick(rng, names.GIVEN_ZH, size),
            second,
        )
        en = _cat(
            _pick(rng, names.FIRST_EN, size),
            pl.lit(" "),
            _pick(rng, names.SURNAMES_EN, size),
        )
    else:
        assert industry is not None
        zh_industry = industry.replace_strict(
            {k: v[0] for k, v in names.INDUSTRIES.items()}, return_dtype=pl.String
        )
        en_industry = industry.replace_strict(
            {k: v[1] for k, v in names.INDUSTRIES.items()}, return_dtype=pl.String
        )
        zh = _cat(
            _pick(rng, names.COMPANY_CITY_ZH, size),
            _pick(rng, names.COMPANY_WORD_ZH, size),
            zh_industry,
            pl.lit("有限公司"),
        )
        en = _cat(
            _pick(rng, names.COMPANY_WORD_EN, size),
            pl.lit(" "),
            en_industry,
            pl.lit(" Ltd"),
        )
    return pl.select(pl.when(pl.lit(pl.Series(chinese))).then(zh).otherwise(en)).to_series()


def _places(rng: np.random.Generator, size: int, column: int) -> tuple[pl.Series, ...]:
    weights = np.array([p[column] for p in PLACES])
    idx = rng.choice(len(PLACES), size=size, p=weights / weights.sum())
    country = pl.Series([p[0] for p in PLACES]).gather(idx)
    region = pl.Series([p[1] for p in PLACES]).gather(idx)
    zone = pl.Series([p[2] for p in PLACES]).gather(idx)
    zh_share = country.replace_strict(ZH_SHARE, return_dtype=pl.Float64).to_numpy()
    chinese = rng.random(size) < zh_share
    return country, region, zone, pl.Series(np.where(chinese, "zh", "en")), chinese  # type: ignore[return-value]


def _phones(rng: np.random.Generator, country: pl.Series) -> pl.Series:
    size = country.len()
    digits = pl.Series(rng.integers(0, 10**8, size)).cast(pl.String).str.zfill(8)
    tail = pl.Series(rng.integers(0, 100, size)).cast(pl.String).str.zfill(2)
    prefix = pl.Series(rng.choice(["130", "135", "138", "150", "158", "186", "199"], size))
    return (
        pl.DataFrame({"c": country, "d": digits, "t": tail, "p": prefix})
        .select(
            pl.when(pl.col("c") == "CN")
            .then(pl.format("+86 {} {}", pl.col("p"), pl.col("d")))
            .when(pl.col("c") == "US")
            .then(pl.format("+1 617 555 01{}", pl.col("t")))
            .when(pl.col("c") == "GB")
            .then(pl.format("+44 20 7946 00{}", pl.col("t")))
            .when(pl.col("c") == "HK")
            .then(pl.format("+852 5{}", pl.col("d").str.slice(0, 7)))
            .otherwise(pl.format("+65 8{}", pl.col("d").str.slice(0, 7)))
        )
        .to_series()
    )


def individuals(rng: np.random.Generator, size: int, first_id: int) -> tuple[pl.DataFrame, ...]:
    ids = pl.Series(np.arange(first_id, first_id + size)).cast(pl.String).str.zfill(7)
    ids = ("B" + ids).alias("borrower_id")
    country, region, zone, language, chinese = _places(rng, size, 3)
    age = np.clip(np.round(rng.normal(36, 10, size)), 20, 65).astype(np.int64)
    income = np.round(np.exp(rng.normal(np.log(9000), 0.55, size)), -2)
    emp_names = list(EMPLOYMENT)
    emp_p = np.array([EMPLOYMENT[e][0] for e in emp_names])
    emp = rng.choice(len(emp_names), size=size, p=emp_p)
    emp[(age >= 58) & (rng.random(size) < 0.5)] = emp_names.index("retired")
    inquiries = rng.poisson(1.2, size)
    debt_ratio = np.exp(rng.normal(-1.2, 0.9, size))  # other debts / annual income
    other_debts = np.round(debt_ratio * income * 12, -2)
    past = rng.poisson(0.15 + 0.12 * inquiries)
    emp_effect = np.array([EMPLOYMENT[e][1] for e in emp_names])[emp]
    logit = (
        -3.7
        + 0.28 * inquiries
        + 0.55 * past
        + 0.9 * np.log1p(debt_ratio)
        - 0.45 * np.log(income / 9000)
        - 0.012 * (age - 35)
        + emp_effect
    )
    borrowers = pl.DataFrame(
        {
            "borrower_id": ids,
            "kind": pl.Series(["individual"] * size, dtype=pl.String),
            "name": _names(rng, "individual", np.asarray(chinese), None),
            "phone": _phones(rng, country),
            "email": _cat(ids.str.to_lowercase(), pl.lit("@example.com")),
            "timezone": zone,
            "language": language,
            "country": country,
            "region": region,
        }
    )
    features = pl.DataFrame(
        {
            "borrower_id": ids,
            "kind": pl.Series(["individual"] * size, dtype=pl.String),
            "age": age,
            "monthly_income": income.astype(np.int64),
            "employment": pl.Series(emp_names).gather(emp),
            "inquiries_6m": inquiries.astype(np.int64),
            "other_debts": other_debts.astype(np.int64),
            "past_delinquencies": past.astype(np.int64),
        }
    )
    return borrowers, features, pl.DataFrame({"logit": logit})


def enterprises(rng: np.random.Generator, size: int, first_id: int) -> tuple[pl.DataFrame, ...]:
    ids = pl.Series(np.arange(first_id, first_id + size)).cast(pl.String).str.zfill(7)
    ids = ("B" + ids).alias("borrower_id")
    country, region, zone, language, chinese = _places(rng, size, 4)
    industry_names = list(names.INDUSTRIES)
    industry_idx = rng.integers(0, len(industry_names), size)
    industry = pl.Series(industry_names).gather(industry_idx)
    revenue = np.round(np.exp(rng.normal(np.log(2e7), 1.2, size)), -3)
    leverage = np.round(rng.beta(2, 3, size) * 1.2, 3)
    years = (1 + rng.gamma(2.0, 4.0, size)).astype(np.int64)
    industry_effect = np.array([names.INDUSTRIES[i][2] for i in industry_names])[industry_idx]
    logit = (
        -3.9
        + 2.2 * (leverage - 0.5)
        - 0.06 * years
        - 0.25 * np.log(revenue / 2e7)
        + industry_effect
    )
    borrowers = pl.DataFrame(
        {
            "borrower_id": ids,
            "kind": pl.Series(["enterprise"] * size, dtype=pl.String),
            "name": _names(rng, "enterprise", np.asarray(chinese), industry),
            "phone": _phones(rng, country),
            "email": _cat(pl.lit("finance."), ids.str.to_lowercase(), pl.lit("@example.com")),
            "timezone": zone,
            "language": language,
            "country": country,
            "region": region,
        }
    )
    features = pl.DataFrame(
        {
            "borrower_id": ids,
            "kind": pl.Series(["enterprise"] * size, dtype=pl.String),
            "industry": industry,
            "annual_revenue": revenue.astype(np.int64),
            "leverage": leverage,
            "years_in_business": years,
        }
    )
    return borrowers, features, pl.DataFrame({"logit": logit})


# ------------------------------------------------------------------------------ loans


def _rate_text(bp: np.ndarray) -> pl.Series:
    """Rates in 1/10000 as decimal text: 725 → "0.0725"."""
    return _cat(pl.lit("0."), pl.Series(bp).cast(pl.String).str.zfill(4))


def _amount(
    rng: np.random.Generator, median: float, spread: float, lo: float, hi: float, step: float,
    grade: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Principal in minor units: log-normal around `median` (major units), smaller for worse
    grades, clipped to [lo, hi] and rounded to `step`."""
    major = np.exp(rng.normal(np.log(median) - 0.12 * grade, spread))
    major = np.clip(np.round(major / step) * step, lo, hi)
    return (major * 100).astype(np.int64)


def make_loans(rng: np.random.Generator, count: int, months: int, end_days: int) -> pl.DataFrame:
    """Loan shells: product, disbursement date (monthly vintages over the `months` months before
    the end's month), borrower kind. Terms come later, once the risk grade is known."""
    codes = list(PRODUCT_MIX)
    share = np.array([PRODUCT_MIX[c][0] for c in codes])
    product = rng.choice(len(codes), size=count, p=share)
    end_month = int(month_index(np.array([end_days]))[0])
    vintage_w = np.linspace(1.0, 1.5, months)
    vintage = rng.choice(months, size=count, p=vintage_w / vintage_w.sum())
    month = end_month - months + vintage
    day = 1 + np.floor(rng.random(count) * days_in_month(month)).astype(np.int64)
    disbursed = on_month(month, day)
    order = np.lexsort((rng.random(count), disbursed))  # loan ids follow disbursement
    return pl.DataFrame(
        {
            "product": pl.Series(codes).gather(product[order]),
            "disbursed_on": disbursed[order],
        }
    )


def loan_terms(
    rng: np.random.Generator, product: np.ndarray, grade: np.ndarray, disbursed: np.ndarray
) -> dict[str, np.ndarray]:
    """Principal, rate (1/10000), term and method by product and grade, plus first due dates
    (card statement days) — numpy columns."""
    n = product.size
    principal = np.zeros(n, dtype=np.int64)
    bp = np.zeros(n, dtype=np.int64)
    term = np.zeros(n, dtype=np.int64)
    method = np.empty(n, dtype=object)
    first_due = np.full(n, -1, dtype=np.int64)
    jitter = rng.integers(-25, 26, n)

    def setup(code, median, spread, lo, hi, step, base_bp, grade_bp, terms, term_p, methods):
        m = product == code
        k = int(m.sum())
        if k == 0:
            return
        g = grade[m]
        principal[m] = _amount(rng, median, spread, lo, hi, step, g)
        bp[m] = np.clip(base_bp + grade_bp * g + jitter[m], 100, 2399)
        term[m] = rng.choice(terms, size=k, p=term_p)
        names_, probs = zip(*methods, strict=True)
        method[m] = rng.choice(np.array(names_, dtype=object), size=k, p=probs)

    setup("consumer", 30000, 0.7, 3000, 200000, 100, 720, 300, [6, 12, 18, 24, 36],
          [0.15, 0.35, 0.15, 0.2, 0.15],
          [("equal_installment", 0.75), ("equal_principal", 0.25)])  # fmt: skip
    setup("card", 12000, 0.6, 1000, 50000, 10, 1000, 250, [3, 6, 9, 12, 18, 24],
          [0.15, 0.25, 0.1, 0.3, 0.1, 0.1], [("equal_installment", 1.0)])  # fmt: skip
    setup("sme", 800000, 0.8, 100000, 5000000, 1000, 450, 200, [12, 24, 36], [0.4, 0.4, 0.2],
          [("equal_installment", 0.6), ("interest_only", 0.4)])  # fmt: skip
    setup("supply_chain", 1500000, 0.8, 100000, 10000000, 1000, 400, 150, [3, 4, 5, 6],
          [0.3, 0.2, 0.2, 0.3], [("bullet", 1.0)])  # fmt: skip
    setup("project", 20000000, 0.8, 2000000, 200000000, 10000, 500, 150, [24, 36, 48],
          [0.3, 0.4, 0.3], [("custom", 1.0)])  # fmt: skip
    # Half the card plans are due on a statement day (the 5th or 20th) of the next month.
    card = (product == "card") & (rng.random(n) < 0.5)
    statement = np.where(rng.random(n) < 0.5, 5, 20)
    first_due[card] = on_month(month_index(disbursed[card]) + 1, statement[card])
    return {
        "principal": principal,
        "bp": bp,
        "term_months": term,
        "repayment_method": method.astype(str),
        "first_due": first_due,
    }


def project_schedules(loans: pl.DataFrame) -> pl.DataFrame:
    """Milestone schedules of the `custom` (project finance) loans: quarterly instalments, the
    first four interest only (construction), then principal in equal milestone parts (the last
    absorbs the remainder); interest act/360 on the balance, half-up — exact integers."""
    p = loans.filter(pl.col("repayment_method") == "custom")
    if p.height == 0:
        return pl.DataFrame(
            schema={
                "loan_idx": pl.Int64,
                "seq": pl.Int64,
                "due_on": pl.Int64,
                "principal": pl.Int64,
                "interest": pl.Int64,
            }
        )
    idx = p.get_column("loan_idx").to_numpy()
    principal = p.get_column("principal").to_numpy()
    bp = p.get_column("bp").to_numpy()
    quarters = p.get_column("term_months").to_numpy() // 3
    disbursed = p.get_column("disbursed_on").to_numpy()
    grace = np.minimum(4, quarters - 1)
    milestones = quarters - grace
    rows = int(quarters.sum())
    owner = np.repeat(np.arange(p.height), quarters)
    starts = np.zeros(p.height + 1, dtype=np.int64)
    np.cumsum(quarters, out=starts[1:])
    seq = np.arange(rows) - starts[:-1][owner] + 1
    due = on_month(month_index(disbursed)[owner] + 3 * seq, day_of_month(disbursed)[owner])
    prev = np.where(seq == 1, disbursed[owner], np.roll(due, 1))
    part = principal // milestones
    amort = np.where(seq > grace[owner], 1, 0)
    last = seq == quarters[owner]
    paid_before = np.maximum(seq - 1 - grace[owner], 0) * part[owner]
    balance = principal[owner] - paid_before
    repay = np.where(last, balance, amort * part[owner])
    num = balance * bp[owner] * (due - prev)
    interest = (2 * num + 360 * 10000) // (2 * 360 * 10000)
    return pl.DataFrame(
        {
            "loan_idx": idx[owner],
            "seq": seq,
            "due_on": due,
            "principal": repay,
            "interest": interest,
        }
    )
