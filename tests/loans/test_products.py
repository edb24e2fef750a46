"""Products and band tables are data, checked on load: bad tables are refused with a reason."""

import pytest
from pydantic import ValidationError

from arrears.catalog import CatalogError, UnknownProduct, load_catalog, parse_catalog
from arrears.loans.bands import Band, BandTable

from .helpers import product


def bands(*spec):
    return BandTable(bands=tuple(Band(name=n, min_dpd=lo, max_dpd=hi) for n, lo, hi in spec))


def test_default_catalog_ships_five_products():
    assert set(load_catalog().products) == {"consumer", "sme", "project", "supply_chain", "card"}


def test_overlapping_bucket_ranges_are_rejected():
    with pytest.raises(ValidationError, match="overlap"):
        bands(("M0", 0, 0), ("M1", 1, 30), ("M2", 30, None))


def test_gapped_bucket_ranges_are_rejected():
    with pytest.raises(ValidationError, match=r"gap between M1 .ends 29. and M2 .starts 31."):
        bands(("M0", 0, 0), ("M1", 1, 29), ("M2", 31, None))


def test_bucket_table_must_start_at_zero_and_end_open():
    with pytest.raises(ValidationError, match="must start at 0"):
        bands(("M1", 1, None))
    with pytest.raises(ValidationError, match="open-ended"):
        bands(("M0", 0, 0), ("M1", 1, 30))


def test_a_lender_can_use_1_to_29_buckets():
    """Lenders differ (1–29 vs 1–30): buckets are configuration."""
    p = product(
        buckets=[
            {"name": "M0", "min_dpd": 0, "max_dpd": 0},
            {"name": "M1", "min_dpd": 1, "max_dpd": 29},
            {"name": "M2+", "min_dpd": 30},
        ]
    )
    assert [p.buckets.name_for(x) for x in (0, 29, 30)] == ["M0", "M1", "M2+"]


def test_classification_must_name_the_five_categories_in_order():
    with pytest.raises(ValidationError, match="exactly"):
        product(
            classification=[
                {"name": "normal", "min_dpd": 0, "max_dpd": 0},
                {"name": "loss", "min_dpd": 1},
            ]
        )


def test_catalog_errors_name_file_line_product_and_field():
    text = "products:\n  mine:\n    name_zh: 我的\n    name_en: Mine\n    interest_basis: weekly\n"
    with pytest.raises(CatalogError, match=r"lender\.yaml:5: product 'mine', field interest_basis"):
        parse_catalog(text, "lender.yaml")


def test_lender_file_adds_and_replaces_products(tmp_path):
    own = tmp_path / "products.yaml"
    own.write_text(
        "products:\n  consumer:\n    name_zh: 消费贷\n    name_en: Consumer\n    cost_cap: '0.18'\n"
        "  payday:\n    name_zh: 短期\n    name_en: Payday\n",
        encoding="utf-8",
    )
    catalog = load_catalog(own)
    assert str(catalog.get("consumer").cost_cap) == "0.18"
    assert "payday" in catalog and "sme" in catalog


def test_unknown_product_names_the_known_ones():
    with pytest.raises(UnknownProduct, match=r"unknown product 'mortgage' .known: card, consumer"):
        load_catalog().get("mortgage")
