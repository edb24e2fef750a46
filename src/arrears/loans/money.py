"""Money as integer minor units (分/cents) of an ISO 4217 currency.

Amounts are stored and computed as `int` minor units. Conversions from decimal text are exact: a
string with more decimals than the currency allows is an error, never a silent rounding. Rounding
of computed values (interest, penalty) goes through `round_minor`, with the product's rule.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

RoundingRule = Literal["half_up", "half_even", "down"]

_ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}

# ISO 4217 minor-unit exponents for the currencies a lender here is likely to book. A currency
# not in this table is rejected rather than guessed: a wrong exponent is a hundredfold error.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SGD": 2,
    "MYR": 2,
    "THB": 2,
    "PHP": 2,
    "IDR": 2,
    "INR": 2,
    "PKR": 2,
    "BDT": 2,
    "LKR": 2,
    "NPR": 2,
    "MXN": 2,
    "BRL": 2,
    "ARS": 2,
    "COP": 2,
    "PEN": 2,
    "ZAR": 2,
    "NGN": 2,
    "KES": 2,
    "EGP": 2,
    "TRY": 2,
    "RUB": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "AED": 2,
    "SAR": 2,
    "QAR": 2,
    "ILS": 2,
    "KZT": 2,
    "UAH": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XOF": 0,
    "XAF": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "LYD": 3,
    "IQD": 3,
}


class MoneyError(ValueError):
    """A money value that cannot be represented exactly in its currency."""


def minor_units(currency: str) -> int:
    """Number of decimals of `currency` (CNY → 2, JPY → 0, KWD → 3)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r} (ISO 4217 code expected)") from None


def parse_amount(text: str | Decimal | int, currency: str) -> int:
    """Major-unit decimal text → integer minor units, exactly.

    `parse_amount("1234.56", "CNY") == 123456`; `"1.005"` in CNY is an error, not a rounding.
    """
    exponent = minor_units(currency)
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {text!r}")
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more than {exponent} decimals allowed for {currency}")
    return int(scaled)


def format_amount(minor: int, currency: str) -> str:
    """Integer minor units → major-unit decimal text with the currency's decimals."""
    exponent = minor_units(currency)
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{frac:0{exponent}d}"


def round_minor(value: Decimal, rule: RoundingRule = "half_up") -> int:
    """Round an exact amount in minor units to a whole minor unit by the product's rule."""
    return int(value.quantize(Decimal(1), rounding=_ROUNDING[rule]))
