"""The fake bureau's answers: deterministic reports for simulated borrowers.

Each report is drawn from a random generator seeded by the SHA-256 of the source and borrower id,
so the same borrower always gets the same report. When the simulator's `features` file is given,
the reports follow each borrower's features (inquiries, past delinquencies, other debts, revenue,
years in business), so bureau data carries the same risk signal the simulator put in the book;
individuals then have no registry or tax record. Amounts are integer minor units (CNY fen)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPORT_DATE = date(2026, 11, 30)  # fixed, so reports do not change with the wall clock


def _rng(source: str, borrower_id: str) -> np.random.Generator:
    seed = hashlib.sha256(f"{source}:{borrower_id}".encode()).digest()[:8]
    return np.random.default_rng(int.from_bytes(seed, "big"))


def load_features(path: Path) -> dict[str, dict[str, Any]]:
    """The simulator's `features` file (csv or parquet) as borrower id → feature row."""
    import polars as pl

    frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    return {row["borrower_id"]: row for row in frame.iter_rows(named=True)}


class FakeReports:
    """Reports for borrowers, by source. `features` (borrower id → simulator features) is
    optional; without it every id gets a plausible report of every source."""

    def __init__(self, features: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.features = features or {}

    def kind(self, borrower_id: str) -> str | None:
        row = self.features.get(borrower_id)
        return None if row is None else str(row.get("kind"))

    def report(self, source: str, borrower_id: str) -> dict[str, Any] | None:
        """The report, or None when the source has no record of the borrower (a 404)."""
        if self.features and borrower_id not in self.features:
            return None
        kind = self.kind(borrower_id)
        draw = {
            "credit_report": self.credit_report,
            "enforcement": self.enforcement,
            "business_registry": self.business_registry,
            "tax": self.tax,
        }[source]
        if source in ("business_registry", "tax") and kind == "individual":
            return None
        body = draw(borrower_id, self.features.get(borrower_id, {}))
        return {
            "source": source,
            "subject_id": borrower_id,
            "report_date": REPORT_DATE.isoformat(),
            **body,
        }

    # ------------------------------------------------------------------ the four sources

    def credit_report(self, borrower_id: str, f: Mapping[str, Any]) -> dict[str, Any]:
        rng = _rng("credit_report", borrower_id)
        inquiries = int(f.get("inquiries_6m", rng.poisson(1.2)))
        past = int(f.get("past_delinquencies", rng.poisson(0.2)))
        income = float(f.get("monthly_income", 0) or 0)
        if "other_debts" in f:
            other = int(f["other_debts"]) * 100
        elif "annual_revenue" in f:
            other = int(float(f["annual_revenue"]) * float(f.get("leverage", 0.4)) * 0.5) * 100
        else:
            other = int(round(np.exp(rng.normal(np.log(60_000), 1.0)), -2)) * 100
        accounts = int(1 + rng.poisson(2.0) + (other > 0))
        # The bureau's own score: worse with inquiries, past delinquencies and debt load.
        load = other / 100 / (income * 12) if income > 0 else rng.uniform(0.1, 1.5)
        raw = 720 - 18 * inquiries - 45 * past - 60 * np.log1p(load) + rng.normal(0, 35)
        score = int(np.clip(round(raw), 300, 850))
        delinquent = min(past, accounts)
        max_dpd = 0 if past == 0 else int(min(180, 30 * past + rng.integers(0, 30)))
        return {
            "bureau_score": score,
            "inquiries_6m": inquiries,
            "open_accounts": accounts,
            "other_lenders_debt": other,
            "other_lenders_monthly_payment": int(other / 24) // 100 * 100,
            "delinquent_accounts": int(delinquent),
            "max_dpd_24m": max_dpd,
            "currency": "CNY",
        }

    def enforcement(self, borrower_id: str, f: Mapping[str, Any]) -> dict[str, Any]:
        rng = _rng("enforcement", borrower_id)
        past = int(f.get("past_delinquencies", 0))
        leverage = float(f.get("leverage", 0.0) or 0.0)
        chance = 0.01 + 0.04 * past + 0.05 * max(leverage - 0.8, 0)
        listed = bool(rng.random() < chance)
        cases = []
        if listed:
            for n in range(int(1 + rng.poisson(0.4))):
                filed = REPORT_DATE - timedelta(days=int(rng.integers(30, 1500)))
                cases.append(
                    {
                        "case_no": f"({filed.year})执{int(rng.integers(1, 9999)):04d}号-{n + 1}",
                        "court": "人民法院 People's Court",
                        "amount": int(round(np.exp(rng.normal(np.log(50_000), 1.0)), -2)) * 100,
                        "filed_on": filed.isoformat(),
                    }
                )
        return {
            "listed": listed,
            "restricted_consumption": listed and bool(rng.random() < 0.7),
            "cases": cases,
        }

    def business_registry(self, borrower_id: str, f: Mapping[str, Any]) -> dict[str, Any]:
        rng = _rng("business_registry", borrower_id)
        years = int(f.get("years_in_business", 1 + rng.gamma(2.0, 4.0)))
        status = "active" if rng.random() > 0.02 else "revoked"
        return {
            "status": status,
            "established_on": (REPORT_DATE - timedelta(days=365 * years)).isoformat(),
            "years_in_business": years,
            "industry": str(
                f.get("industry") or rng.choice(["manufacturing", "retail", "logistics"])
            ),
            "registered_capital": int(round(np.exp(rng.normal(np.log(2e6), 1.0)), -3)) * 100,
            "legal_rep_changes_12m": int(rng.poisson(0.15)),
        }

    def tax(self, borrower_id: str, f: Mapping[str, Any]) -> dict[str, Any]:
        rng = _rng("tax", borrower_id)
        revenue = float(f.get("annual_revenue") or np.exp(rng.normal(np.log(2e7), 1.2)))
        leverage = float(f.get("leverage", rng.beta(2, 3) * 1.2))
        # Tax credit grades A (best) … D; heavy leverage makes a poor grade likelier.
        quality = rng.normal(0, 1) - 1.5 * (leverage - 0.5)
        grade = (
            "A"
            if quality > 0.8
            else "B"
            if quality > -0.3
            else "M"
            if quality > -1.0
            else "C"
            if quality > -1.6
            else "D"
        )
        return {
            "tax_grade": grade,
            "annual_tax_paid": int(revenue * 0.03) * 100,
            "tax_arrears": grade in ("C", "D") and bool(rng.random() < 0.5),
        }
