"""Schedules for a whole book at once, on columns: the vectorised twin of
`arrears.loans.schedule.build_schedule`.

`build_schedules(loans, catalog)` gives, for every loan with a generated method
(`equal_installment`, `equal_principal`, `interest_only`, `bullet`), exactly the instalments
`build_schedule(terms, product.interest_basis, product.rounding)` gives — to the minor unit, row
for row. There is no Python loop over loans: the loop runs over *periods* (at most the longest
term), each step a numpy operation over every loan still running.

Exactness:

* interest is integer arithmetic: the rate is an integer numerator `R` over `10^K`, so the
  interest of a period is `balance · R · t / den` with `t` = 1 (or the bullet's months) and
  `den = 12·10^K` (monthly) or `t` = days and `den = 365·10^K` / `360·10^K`; rounding is done
  on the integer quotient and remainder (half-up: `q + (2r ≥ den)`). Products that could
  overflow int64 are split (`balance = q·den + r`) or, beyond that, computed on Python ints;
* the annuity payment is computed in float64 (`expm1`/`log1p`), and every row whose float value
  lies within a safety margin of a rounding boundary is recomputed with the exact Decimal rule
  (`arrears.loans.schedule.annuity_payment`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from arrears.loans.schedule import ScheduleError, annuity_payment

GENERATED_METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
ROUNDING_CODES = {"half_up": 0, "half_even": 1, "down": 2}
BASIS_DAYS = {"act365": 365, "act360": 360}

OUTPUT_SCHEMA = {
    "loan_id": pl.String,
    "seq": pl.Int64,
    "due_on": pl.Date,
    "principal": pl.Int64,
    "interest": pl.Int64,
    "fee": pl.Int64,
}

_SAFE = 2**62  # products are kept below this so that 2·num + den never overflows int64
_EPOCH = np.datetime64("1970-01-01", "D")


# ------------------------------------------------------------------------------ integer rounding


def _round_quotient(num: np.ndarray, den: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """round(num / den) for num ≥ 0, den > 0 by rule code (0 half_up, 1 half_even, 2 down)."""
    q, r = np.divmod(num, den)
    twice = 2 * r
    up = np.where(
        mode == 0,
        twice >= den,
        np.where(mode == 1, (twice > den) | ((twice == den) & (q % 2 == 1)), False),
    )
    return q + up


def _muldiv(a: np.ndarray, m: np.ndarray, den: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """round(a · m / den), exactly, for non-negative integer arrays."""
    if a.size == 0:
        return a.astype(np.int64)
    a_max, m_max, d_max = int(a.max()), int(m.max()), int(den.max())
    if a_max * m_max < _SAFE - 2 * d_max:
        return _round_quotient(a * m, den, mode)
    if d_max * m_max < _SAFE - 2 * d_max and a_max // int(den.min()) * m_max < _SAFE:
        q, r = np.divmod(a, den)
        return q * m + _round_quotient(r * m, den, mode)
    # Beyond int64: Python integers, element by element (only for absurd rates or amounts).
    ao, mo, do = a.astype(object), m.astype(object), den.astype(object)
    num = ao * mo
    q = num // do
    r = num - q * do
    twice = 2 * r
    result = np.empty(a.size, dtype=object)
    for i in range(a.size):  # pragma: no cover - only reached with absurd inputs
        code = int(mode[i])
        up = (
            twice[i] >= do[i]
            if code == 0
            else (twice[i] > do[i] or (twice[i] == do[i] and q[i] % 2 == 1))
            if code == 1
            else False
        )
        result[i] = int(q[i]) + int(up)
    return result.astype(np.int64)


# ------------------------------------------------------------------------------ dates


def _month_index(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of dates given as days since the epoch."""
    return (days.astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64)


def _day_of_month(days: np.ndarray) -> np.ndarray:
    d = days.astype("datetime64[D]")
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


def _on_month(month: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Days since the epoch of day `anchor` (clamped to the month's end) in month `month`."""
    start = month.astype("datetime64[M]").astype("datetime64[D]")
    end = (month + 1).astype("datetime64[M]").astype("datetime64[D]")
    length = (end - start).astype(np.int64)
    return (start - _EPOCH).astype(np.int64) + np.minimum(anchor, length) - 1


# ------------------------------------------------------------------------------ rates


def _rate_parts(rates: pl.Series) -> tuple[np.ndarray, int, list[Decimal]]:
    """Integer numerators over a common 10^K, K, and the Decimal of each row's rate (by unique
    value, so the Python work is per distinct rate, not per loan)."""
    if rates.dtype == pl.String:
        text = rates
    elif rates.dtype == pl.Object:  # Python Decimals Polars did not type
        text = pl.Series([None if v is None else str(v) for v in rates.to_list()], dtype=pl.String)
    else:
        text = rates.cast(pl.String)
    text = text.str.strip_chars()
    uniques = text.unique(maintain_order=True)
    decimals: list[Decimal] = []
    scales: list[int] = []
    nums: list[int] = []
    for value in uniques.to_list():
        if value is None:
            raise ScheduleError("annual rate missing")
        d = Decimal(value)
        if not d.is_finite():
            raise ScheduleError(f"annual rate is not a number: {value!r}")
        exponent = d.as_tuple().exponent
        k = max(0, -int(exponent))  # type: ignore[arg-type]
        decimals.append(d)
        scales.append(k)
        nums.append(int(d.scaleb(k)))
    big_k = max(scales, default=0)
    common = [n * 10 ** (big_k - k) for n, k in zip(nums, scales, strict=True)]
    if any(abs(c) >= _SAFE for c in common):
        raise ScheduleError("annual rate has too many decimals")
    codes = text.replace_strict(uniques, pl.Series(range(len(uniques))), return_dtype=pl.Int64)
    idx = codes.to_numpy()
    return np.asarray(common, dtype=np.int64)[idx], big_k, [decimals[i] for i in idx]


# ------------------------------------------------------------------------------ the builder


def _column(loans: pl.DataFrame, name: str, dtype: Any) -> pl.Series:
    if name in loans.columns:
        return loans.get_column(name)
    return pl.Series(name, [None] * loans.height, dtype=dtype)


def build_schedules(loans: pl.DataFrame, catalog: Any) -> pl.DataFrame:
    """Every loan's generated schedule: `loan_id, seq, due_on, principal, interest, fee`, in the
    loans' order and by `seq` — equal row for row to `build_schedule(terms, product basis,
    product rounding)`. Columns read: loan_id, product, principal (minor units), annual_rate
    (decimal text or Decimal), term_months, repayment_method, disbursed_on, first_due_on and
    interest_basis (both optional/nullable). Raises `ScheduleError` naming the first loan whose
    terms cannot make a schedule."""
    count = loans.height
    if count == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    loan_ids = loans.get_column("loan_id").cast(pl.String)
    method = loans.get_column("repayment_method").cast(pl.String)
    principal = loans.get_column("principal").cast(pl.Int64).to_numpy()
    term = loans.get_column("term_months").cast(pl.Int64).to_numpy()
    disbursed = loans.get_column("disbursed_on").cast(pl.Date)
    first_due = _column(loans, "first_due_on", pl.Date).cast(pl.Date)
    own_basis = _column(loans, "interest_basis", pl.String).cast(pl.String)
    codes = loans.get_column("product").cast(pl.String)

    _check(loans, loan_ids, method, principal, term, disbursed, first_due)

    products = {code: catalog.get(code) for code in codes.unique().to_list()}
    product_basis = codes.replace_strict(
        {c: p.interest_basis for c, p in products.items()}, return_dtype=pl.String
    )
    basis = (
        pl.select(
            pl.when(own_basis.is_null() | (own_basis.str.strip_chars() == ""))
            .then(product_basis)
            .otherwise(own_basis.str.strip_chars())
        )
        .to_series()
        .to_numpy()
    )
    mode = (
        codes.replace_strict(
            {c: ROUNDING_CODES[p.rounding] for c, p in products.items()}, return_dtype=pl.Int64
        )
        .to_numpy()
        .astype(np.int64)
    )
    rate_num, big_k, rate_dec = _rate_parts(loans.get_column("annual_rate"))
    if (rate_num < 0).any():
        bad = int(np.argmax(rate_num < 0))
        raise ScheduleError(f"loan {loan_ids[bad]}: annual rate must be ≥ 0, got {rate_dec[bad]}")
    scale = 10**big_k
    monthly = basis == "monthly"
    year_days = np.where(basis == "act360", 360, 365).astype(np.int64)
    den = np.where(monthly, 12 * scale, year_days * scale).astype(np.int64)

    disb_days = disbursed.cast(pl.Int32).to_numpy().astype(np.int64)
    has_first = first_due.is_not_null().to_numpy()
    first_days = first_due.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
    anchor = np.where(has_first, _day_of_month(first_days), _day_of_month(disb_days))
    month0 = np.where(has_first, _month_index(first_days), _month_index(disb_days) + 1)

    methods = method.to_numpy()
    bullet = methods == "bullet"
    periods = np.where(bullet, 1, term).astype(np.int64)
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(periods, out=offsets[1:])
    rows = int(offsets[-1])
    out_loan = np.repeat(np.arange(count, dtype=np.int64), periods)
    out_seq = np.arange(rows, dtype=np.int64) - offsets[:-1][out_loan] + 1
    out_due = np.empty(rows, dtype=np.int64)
    out_principal = np.empty(rows, dtype=np.int64)
    out_interest = np.empty(rows, dtype=np.int64)

    # Bullets: one instalment, principal + interest for the whole term.
    b = np.flatnonzero(bullet)
    if b.size:
        due = np.where(
            has_first[b],
            first_days[b],
            _on_month(_month_index(disb_days[b]) + term[b], _day_of_month(disb_days[b])),
        )
        t = np.where(monthly[b], term[b], due - disb_days[b])
        pos = offsets[b]
        out_due[pos] = due
        out_principal[pos] = principal[b]
        out_interest[pos] = _muldiv(principal[b], rate_num[b] * t, den[b], mode[b])

    # Amortising methods: a loop over periods, each over every loan still running.
    a = np.flatnonzero(~bullet)
    if a.size:
        a = a[np.argsort(-term[a], kind="stable")]  # longest first: running loans are a prefix
        n_a = term[a]
        p_a = principal[a]
        r_a, den_a, mode_a, monthly_a = rate_num[a], den[a], mode[a], monthly[a]
        m_a = methods[a]
        ei = m_a == "equal_installment"
        ep = m_a == "equal_principal"
        pmt = _annuity(p_a, n_a, r_a, big_k, mode_a, ei, [rate_dec[i] for i in a])
        level = _round_quotient(p_a, n_a, mode_a)
        balance = p_a.copy()
        start = disb_days[a].copy()
        base, anc, off = month0[a], anchor[a], offsets[a]
        running_desc = -n_a  # ascending
        for k in range(1, int(n_a[0]) + 1):
            c = int(np.searchsorted(running_desc, -k, side="right"))
            bal = balance[:c]
            due = _on_month(base[:c] + (k - 1), anc[:c])
            t = np.where(monthly_a[:c], 1, due - start[:c])
            interest = _muldiv(bal, r_a[:c] * t, den_a[:c], mode_a[:c])
            part = np.where(ei[:c], pmt[:c] - interest, np.where(ep[:c], level[:c], 0))
            part = np.where(n_a[:c] == k, bal, part)
            part = np.minimum(np.maximum(part, 0), bal)
            pos = off[:c] + (k - 1)
            out_due[pos] = due
            out_principal[pos] = part
            out_interest[pos] = interest
            balance[:c] = bal - part
            start[:c] = due

    return pl.DataFrame(
        {
            "loan_id": loan_ids.gather(out_loan),
            "seq": out_seq,
            "due_on": pl.Series(out_due.astype(np.int32)).cast(pl.Date),
            "principal": out_principal,
            "interest": out_interest,
            "fee": np.zeros(rows, dtype=np.int64),
        },
        schema=OUTPUT_SCHEMA,
    )


def _annuity(
    principal: np.ndarray,
    n: np.ndarray,
    rate_num: np.ndarray,
    big_k: int,
    mode: np.ndarray,
    wanted: np.ndarray,
    rates: list[Decimal],
) -> np.ndarray:
    """`annuity_payment` for every row where `wanted`: float64, with the exact Decimal rule for
    rows near a rounding boundary (and for zero rates, integer division)."""
    result = np.zeros(principal.size, dtype=np.int64)
    zero = wanted & (rate_num == 0)
    result[zero] = _round_quotient(principal[zero], n[zero], mode[zero])
    idx = np.flatnonzero(wanted & (rate_num > 0))
    if idx.size == 0:
        return result
    r = rate_num[idx].astype(np.float64) / float(10**big_k) / 12.0
    grown = np.expm1(n[idx] * np.log1p(r))
    exact = principal[idx] * r * (1.0 + grown) / grown
    m = mode[idx]
    floor = np.floor(exact)
    frac = exact - floor
    # Distance to the rule's rounding boundary: x.5 for half rules, whole numbers for `down`.
    distance = np.where(m == 2, np.minimum(frac, 1.0 - frac), np.abs(frac - 0.5))
    tolerance = 1e-6 + np.abs(exact) * 1e-12
    near = (distance <= tolerance) | ~np.isfinite(exact)
    rounded = np.where((m != 2) & (frac > 0.5), floor + 1, floor).astype(np.int64)
    result[idx] = rounded
    names = {0: "half_up", 1: "half_even", 2: "down"}
    for j in np.flatnonzero(near):
        i = int(idx[j])
        result[i] = annuity_payment(
            int(principal[i]),
            rates[i],
            int(n[i]),
            names[int(mode[i])],  # type: ignore[arg-type]
        )
    return result


def _check(
    loans: pl.DataFrame,
    loan_ids: pl.Series,
    method: pl.Series,
    principal: np.ndarray,
    term: np.ndarray,
    disbursed: pl.Series,
    first_due: pl.Series,
) -> None:
    """Raise `ScheduleError` for the first loan whose terms `build_schedule` would refuse."""
    problems = [
        (principal <= 0, lambda i: f"principal must be positive, got {principal[i]}"),
        (term <= 0, lambda i: f"term must be at least one month, got {term[i]}"),
        (
            ~np.isin(method.to_numpy(), GENERATED_METHODS),
            lambda i: f"repayment method {method[i]!r} is not generated",
        ),
        (
            (first_due.is_not_null() & (first_due <= disbursed)).to_numpy(),
            lambda i: f"first due date {first_due[i]} is not after disbursement {disbursed[i]}",
        ),
    ]
    for mask, message in problems:
        if mask.any():
            i = int(np.argmax(mask))
            raise ScheduleError(f"loan {loan_ids[i]}: {message(i)}")
