"""Writes the small example book in `examples/book/` (run once; the CSV files are committed).

Forty-odd borrowers (Chinese and English names, individuals and enterprises) and loans in every
repayment method and product, with payment histories chosen so that on the demo date
(2026-11-30) the book holds current, cured, partially paid, overdue (M1 … M6+) and paid-off loans.
Amounts come from the real schedule rules, so every payment is exact to the cent.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from arrears.catalog import load_catalog
from arrears.loans.dates import add_months
from arrears.loans.money import format_amount
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import Installment, LoanTerms

AS_OF = date(2026, 11, 30)
OUT = Path(__file__).parent / "book"

PEOPLE = [
    ("张伟", "zh", "CN", None, "Asia/Shanghai"),
    ("王芳", "zh", "CN", None, "Asia/Shanghai"),
    ("李娜", "zh", "CN", None, "Asia/Shanghai"),
    ("刘洋", "zh", "CN", None, "Asia/Shanghai"),
    ("陈静", "zh", "CN", None, "Asia/Shanghai"),
    ("杨磊", "zh", "CN", None, "Asia/Shanghai"),
    ("赵敏", "zh", "CN", None, "Asia/Urumqi"),
    ("黄晓明", "zh", "CN", None, "Asia/Shanghai"),
    ("周杰", "zh", "CN", None, "Asia/Shanghai"),
    ("吴婷", "zh", "CN", None, "Asia/Shanghai"),
    ("徐强", "zh", "CN", None, "Asia/Shanghai"),
    ("孙丽", "zh", "CN", None, "Asia/Shanghai"),
    ("马超", "zh", "CN", None, "Asia/Shanghai"),
    ("朱琳", "zh", "CN", None, "Asia/Shanghai"),
    ("胡斌", "zh", "CN", None, "Asia/Shanghai"),
    ("郭雪", "zh", "CN", None, "Asia/Shanghai"),
    ("林峰", "zh", "CN", None, "Asia/Shanghai"),
    ("何佳", "zh", "CN", None, "Asia/Shanghai"),
    ("Emily Carter", "en", "US", "US-MA", "America/New_York"),
    ("James Miller", "en", "US", "US-CA", "America/Los_Angeles"),
    ("Olivia Brown", "en", "GB", None, "Europe/London"),
    ("Daniel Wong", "en", "HK", None, "Asia/Hong_Kong"),
    ("Sophie Chen", "en", "SG", None, "Asia/Singapore"),
    ("Michael Lee", "en", "US", "US-NY", "America/New_York"),
]
COMPANIES = [
    ("上海明远科技有限公司", "zh"),
    ("杭州青禾农业发展有限公司", "zh"),
    ("深圳恒达电子有限公司", "zh"),
    ("成都锦程物流有限公司", "zh"),
    ("苏州华润建材有限公司", "zh"),
    ("武汉长江新能源有限公司", "zh"),
    ("Harbour Trading Co., Ltd.", "en"),
    ("Pacific Components Ltd.", "en"),
]

# (product, method, principal, rate, months, behaviour)
PLANS = [
    ("consumer", "equal_installment", "24000", "0.15", 12, "on_time"),
    ("consumer", "equal_installment", "36000", "0.18", 24, "on_time"),
    ("consumer", "equal_principal", "12000", "0.12", 12, "late_cured"),
    ("consumer", "equal_installment", "50000", "0.16", 36, "stop_1"),
    ("consumer", "equal_installment", "8000", "0.18", 6, "stop_2"),
    ("consumer", "equal_installment", "15000", "0.20", 12, "stop_3"),
    ("consumer", "equal_principal", "30000", "0.14", 24, "stop_5"),
    ("consumer", "equal_installment", "20000", "0.22", 12, "stop_7"),
    ("consumer", "interest_only", "60000", "0.10", 12, "on_time"),
    ("consumer", "equal_installment", "10000", "0.18", 12, "partial"),
    ("consumer", "equal_installment", "18000", "0.12", 12, "prepaid"),
    ("consumer", "bullet", "5000", "0.15", 3, "paid_off"),
    ("consumer", "equal_installment", "45000", "0.16", 24, "stop_12"),
    ("consumer", "equal_principal", "9000", "0.13", 9, "on_time"),
    ("consumer", "equal_installment", "27000", "0.17", 18, "late_cured"),
    ("consumer", "equal_installment", "33000", "0.15", 24, "never"),
    ("card", "equal_installment", "6000", "0.18", 12, "on_time"),
    ("card", "equal_installment", "12000", "0.18", 12, "stop_4"),
    ("card", "equal_installment", "9000", "0.18", 6, "partial"),
    ("card", "equal_installment", "15000", "0.18", 12, "stop_6"),
    ("consumer", "equal_installment", "22000", "0.14", 12, "on_time"),
    ("consumer", "equal_installment", "16000", "0.19", 12, "stop_9"),
    ("consumer", "equal_installment", "40000", "0.15", 36, "on_time"),
    ("consumer", "interest_only", "25000", "0.12", 6, "stop_1"),
    ("sme", "equal_installment", "800000", "0.085", 36, "on_time"),
    ("sme", "equal_principal", "500000", "0.09", 24, "late_cured"),
    ("sme", "interest_only", "1200000", "0.075", 24, "stop_3"),
    ("sme", "equal_installment", "300000", "0.10", 12, "stop_8"),
    ("supply_chain", "bullet", "2000000", "0.06", 6, "paid_off"),
    ("supply_chain", "bullet", "1500000", "0.065", 3, "never"),
    ("supply_chain", "bullet", "900000", "0.07", 6, "on_time"),
    ("project", "custom", "50000000", "0.055", 60, "on_time"),
    ("project", "custom", "30000000", "0.06", 48, "stop_2"),
    ("sme", "equal_installment", "250000", "0.095", 24, "partial"),
]


def disbursed_for(months: int, behaviour: str, rng: random.Random) -> date:
    """Old enough for the behaviour to show by the demo date."""
    if behaviour.startswith("stop_"):
        paid = int(behaviour.split("_")[1])
        months_late = rng.randint(1, 8)
        back = paid + months_late
    elif behaviour in ("paid_off",):
        back = months + rng.randint(1, 4)
    elif behaviour == "never":
        back = rng.randint(2, 7)
    else:
        back = rng.randint(2, max(2, min(months - 1, 20)))
    return add_months(AS_OF, -back, rng.randint(1, 28))


def project_schedule(terms: LoanTerms) -> list[Installment]:
    """Milestone schedule: interest every 6 months, principal in three milestone tranches."""
    rows, balance, seq = [], terms.principal, 1
    dues = [add_months(terms.disbursed_on, 6 * k) for k in range(1, terms.term_months // 6 + 1)]
    repay_at = {len(dues) - 3: 0.2, len(dues) - 2: 0.3, len(dues) - 1: 0.5}
    start = terms.disbursed_on
    for k, due in enumerate(dues):
        interest = int(
            (Decimal(balance) * terms.annual_rate * (due - start).days / 360).to_integral_value()
        )
        part = round(terms.principal * repay_at.get(k, 0)) if k < len(dues) - 1 else balance
        rows.append(Installment(seq, due, part, interest, 50000 if k == 0 else 0))
        balance -= part
        seq += 1
        start = due
    return rows


def main() -> None:
    rng = random.Random(20261130)
    catalog = load_catalog()
    OUT.mkdir(exist_ok=True)
    borrowers, loans, payments, schedules = [], [], [], []
    for n, (name, lang, country, region, tz) in enumerate(PEOPLE, start=1):
        borrowers.append(
            {
                "borrower_id": f"B{n:04d}",
                "kind": "individual",
                "name": name,
                "national_id": f"{rng.randint(110000, 659000)}19{rng.randint(60, 99)}{rng.randint(1000, 9999)}{rng.randint(100, 999)}X"
                if country == "CN"
                else "",
                "phone": f"+86 1{rng.randint(30, 89)}{rng.randint(10000000, 99999999)}"
                if country == "CN"
                else f"+1 617 555 {rng.randint(1000, 9999)}",
                "email": "" if country == "CN" and n % 3 else f"borrower{n}@example.com",
                "timezone": tz,
                "language": lang,
                "country": country,
                "region": region or "",
            }
        )
    for m, (name, lang) in enumerate(COMPANIES, start=len(PEOPLE) + 1):
        borrowers.append(
            {
                "borrower_id": f"B{m:04d}",
                "kind": "enterprise",
                "name": name,
                "national_id": f"91310000MA1{rng.randint(10000, 99999)}X",
                "phone": f"+86 21 {rng.randint(50000000, 69999999)}",
                "email": f"finance{m}@example.com",
                "timezone": "Asia/Shanghai" if lang == "zh" else "Asia/Hong_Kong",
                "language": lang,
                "country": "CN" if lang == "zh" else "HK",
                "region": "",
            }
        )
    individuals = [b["borrower_id"] for b in borrowers if b["kind"] == "individual"]
    enterprises = [b["borrower_id"] for b in borrowers if b["kind"] == "enterprise"]
    for k, (product, method, principal, rate, months, behaviour) in enumerate(PLANS, start=1):
        loan_id = f"L{k:05d}"
        borrower = (enterprises if product in ("sme", "project", "supply_chain") else individuals)[
            k % 8 if product != "consumer" and product != "card" else k % len(individuals)
        ]
        disbursed = disbursed_for(months, behaviour, rng)
        terms = LoanTerms(int(Decimal(principal) * 100), Decimal(rate), months, method, disbursed)  # type: ignore[arg-type]
        p = catalog.get(product)
        rows = (
            project_schedule(terms)
            if method == "custom"
            else list(build_schedule(terms, p.interest_basis, p.rounding))
        )
        loans.append(
            {
                "loan_id": loan_id,
                "borrower_id": borrower,
                "product": product,
                "currency": "CNY",
                "principal": principal,
                "annual_rate": rate,
                "term_months": months,
                "repayment_method": method,
                "disbursed_on": disbursed.isoformat(),
                "first_due_on": "",
                "interest_basis": "",
                "penalty_rate": "",
            }
        )
        if method == "custom":
            schedules += [
                {
                    "loan_id": loan_id,
                    "seq": r.seq,
                    "due_on": r.due_on.isoformat(),
                    "principal": format_amount(r.principal, "CNY"),
                    "interest": format_amount(r.interest, "CNY"),
                    "fee": format_amount(r.fee, "CNY"),
                }
                for r in rows
            ]
        due_rows = [r for r in rows if r.due_on <= AS_OF]
        plan: list[tuple[date, int]] = []
        if behaviour in ("on_time", "paid_off"):
            plan = [(r.due_on, r.total) for r in (rows if behaviour == "paid_off" else due_rows)]
        elif behaviour == "late_cured":
            # Each instalment 3–12 days late, paid with 2% extra to cover the penalty.
            plan = [
                (min(AS_OF, r.due_on + timedelta(days=rng.randint(3, 12))), r.total * 102 // 100)
                for r in due_rows
            ]
        elif behaviour == "partial":
            plan = [(r.due_on, r.total * 6 // 10) for r in due_rows]
        elif behaviour == "prepaid":
            plan = [(r.due_on, r.total) for r in due_rows[:2]]
            plan.append((due_rows[1].due_on + timedelta(days=5), sum(r.total for r in rows[2:])))
        elif behaviour.startswith("stop_"):
            plan = [(r.due_on, r.total) for r in rows[: int(behaviour.split("_")[1])]]
        for j, (day, amount) in enumerate(plan, start=1):
            if day <= AS_OF:
                payments.append(
                    {
                        "payment_id": f"{loan_id}-P{j:03d}",
                        "loan_id": loan_id,
                        "paid_on": day.isoformat(),
                        "amount": format_amount(amount, "CNY"),
                    }
                )
    for name, rows in (
        ("borrowers", borrowers),
        ("loans", loans),
        ("payments", payments),
        ("schedules", schedules),
    ):
        with (OUT / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
