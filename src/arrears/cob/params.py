"""Per-loan rule parameters as columns: the product catalog and the loan's own rates, turned once
into integers the column engine can use exactly (rates as numerators over 10^10, tolerances in
minor units, allocation order as ranks, band tables as upper bounds)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from arrears.catalog import Catalog
from arrears.loans.allocation import tolerance_minor
from arrears.loans.bands import CLASSIFICATIONS
from arrears.loans.money import MINOR_UNITS

RATE_SCALE = 10**10  # rates are exact numerators over 10^10 (up to 10 decimals)
COMPONENTS = ("penalty", "fee", "interest", "principal")
ROUNDING_CODE = {"half_up": 0, "half_even": 1, "down": 2}


class RateError(ValueError):
    """A rate the column engine cannot represent exactly."""


def rate_numerator(value: Decimal | str) -> int:
    """An annual rate as an exact integer numerator over RATE_SCALE."""
    scaled = Decimal(value) * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise RateError(f"rate {value} has more than 10 decimals")
    return int(scaled)


def product_frame(catalog: Catalog) -> pl.DataFrame:
    """One row per product with the parameters every loan of that product shares."""
    rows = []
    for code, p in catalog.products.items():
        order = {name: rank for rank, name in enumerate(p.allocation.order)}
        rows.append(
            {
                "product": code,
                "vertical": p.allocation.method == "vertical",
                "overpay_future": p.allocation.overpayment == "future",
                **{f"rank_{c}": order[c] for c in COMPONENTS},
                "penalty_on_interest": p.penalty.base != "principal",
                "rounding": ROUNDING_CODE[p.rounding],
                "observation_months": p.observation_months,
                "observation_periods": p.observation_periods,
            }
        )
    return pl.DataFrame(rows)


def loan_rates(loans: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Per loan: the applied penalty rate (numerator over RATE_SCALE), whether the cost cap cut
    it, and the tolerance in minor units. Computed once per distinct (product, rates, currency)
    combination with the same Decimal rule the single-loan path uses."""
    keys = ["product", "annual_rate", "penalty_rate", "currency"]
    combos = loans.select(keys).unique()
    rows = []
    for product_code, annual, penalty, currency in combos.iter_rows():
        product = catalog.get(product_code)
        annual_rate = Decimal(annual)
        loan_penalty = None if penalty is None else Decimal(penalty)
        applied = product.applied_penalty_rate(annual_rate, loan_penalty)
        wanted = product.penalty.rate if loan_penalty is None else loan_penalty
        rows.append(
            {
                "product": product_code,
                "annual_rate": annual,
                "penalty_rate": penalty,
                "currency": currency,
                "penalty_num": rate_numerator(applied),
                "applied_penalty_rate": str(applied),
                "penalty_capped": applied < wanted,
                "tolerance": tolerance_minor(product, currency),
                "minor_exponent": MINOR_UNITS[currency],
            }
        )
    schema = {
        "product": pl.String,
        "annual_rate": pl.String,
        "penalty_rate": pl.String,
        "currency": pl.String,
        "penalty_num": pl.Int64,
        "applied_penalty_rate": pl.String,
        "penalty_capped": pl.Boolean,
        "tolerance": pl.Int64,
        "minor_exponent": pl.Int64,
    }
    table = pl.DataFrame(rows, schema=schema)
    return loans.join(table, on=keys, how="left", nulls_equal=True)


def band_expr(
    dpd: pl.Expr, product: pl.Expr, tables: dict[str, list[tuple[int | None, int]]]
) -> pl.Expr:
    """Band index for each row's DPD under its product's table.

    `tables` maps product code → [(inclusive upper bound or None, index), …] in order.
    """
    expr: pl.Expr | None = None
    for code, bounds in tables.items():
        inner = pl.lit(bounds[-1][1])
        for upper, index in reversed(bounds[:-1]):
            inner = pl.when(dpd <= upper).then(pl.lit(index)).otherwise(inner)
        expr = (
            pl.when(product == code).then(inner)
            if expr is None
            else expr.when(product == code).then(inner)
        )
    assert expr is not None
    return expr.otherwise(pl.lit(None)).cast(pl.Int32)


def bucket_tables(catalog: Catalog) -> tuple[dict[str, list[tuple[int | None, int]]], list[str]]:
    """Bucket tables per product as (bound, index) lists, with one shared list of names."""
    names: list[str] = []
    tables: dict[str, list[tuple[int | None, int]]] = {}
    for code, p in catalog.products.items():
        rows = []
        for band in p.buckets.bands:
            if band.name not in names:
                names.append(band.name)
            rows.append((band.max_dpd, names.index(band.name)))
        tables[code] = rows
    return tables, names


def classification_tables(catalog: Catalog) -> dict[str, list[tuple[int | None, int]]]:
    """Five-category tables per product; the index is the severity (0 normal … 4 loss)."""
    return {
        code: [(band.max_dpd, CLASSIFICATIONS.index(band.name)) for band in p.classification.bands]
        for code, p in catalog.products.items()
    }
