"""The fake bureau is a real HTTP server: deterministic reports, 404 for unknown subjects when it
knows the book, and the faults it can be told to inject."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import polars as pl

from arrears.bureau.fake_data import FakeReports
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.sources import SOURCES


def test_every_source_answers_the_same_report_twice(bureau: FakeBureau) -> None:
    for source in SOURCES:
        first = httpx.get(f"{bureau.url}/v1/{source}/B0001").json()
        again = httpx.get(f"{bureau.url}/v1/{source}/B0001").json()
        assert first == again
        assert first["source"] == source and first["subject_id"] == "B0001"
    other = httpx.get(f"{bureau.url}/v1/credit_report/B0002").json()
    assert other != httpx.get(f"{bureau.url}/v1/credit_report/B0001").json()
    assert httpx.get(f"{bureau.url}/_stats").json()["requests"] == 2 * len(SOURCES) + 2


def test_credit_report_fields_are_sane() -> None:
    reports = FakeReports()
    for n in range(200):
        r = reports.report("credit_report", f"B{n:07d}")
        assert r is not None
        assert 300 <= r["bureau_score"] <= 850
        assert r["other_lenders_debt"] >= 0 and isinstance(r["other_lenders_debt"], int)
        assert 0 <= r["delinquent_accounts"] <= r["open_accounts"]


def test_reports_follow_the_simulator_features(tmp_path: Path) -> None:
    features = pl.DataFrame(
        {
            "borrower_id": ["B1", "B2", "E1"],
            "kind": ["individual", "individual", "enterprise"],
            "inquiries_6m": [0, 9, None],
            "past_delinquencies": [0, 4, None],
            "other_debts": [1000, 500_000, None],
            "monthly_income": [20_000, 3_000, None],
            "annual_revenue": [None, None, 3e7],
            "leverage": [None, None, 0.4],
            "years_in_business": [None, None, 12],
            "industry": [None, None, "retail"],
        }
    )
    path = tmp_path / "features.csv"
    features.write_csv(path)
    with FakeBureau(port=0, features=path) as bureau:
        good = httpx.get(f"{bureau.url}/v1/credit_report/B1").json()
        bad = httpx.get(f"{bureau.url}/v1/credit_report/B2").json()
        assert good["inquiries_6m"] == 0 and bad["inquiries_6m"] == 9
        assert good["bureau_score"] > bad["bureau_score"]
        assert bad["other_lenders_debt"] == 500_000 * 100
        # individuals have no registry record; enterprises do; unknown ids are 404
        assert httpx.get(f"{bureau.url}/v1/business_registry/B1").status_code == 404
        registry = httpx.get(f"{bureau.url}/v1/business_registry/E1").json()
        assert registry["years_in_business"] == 12 and registry["industry"] == "retail"
        assert httpx.get(f"{bureau.url}/v1/credit_report/NOPE").status_code == 404


def test_injected_failures_latency_and_control_endpoint(bureau: FakeBureau) -> None:
    answer = httpx.post(f"{bureau.url}/_faults", json={"fail_next": 2, "fail_status": 502})
    assert answer.status_code == 200 and answer.json()["fail_next"] == 2
    codes = [httpx.get(f"{bureau.url}/v1/tax/B0001").status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    bureau.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert httpx.get(f"{bureau.url}/v1/tax/B0001").status_code == 200
    assert time.perf_counter() - started >= 0.15
    assert httpx.post(f"{bureau.url}/_faults", json={"nonsense": 1}).status_code == 422
    assert httpx.get(f"{bureau.url}/_stats").json()["failed"] == 2


def test_api_key_is_enforced_when_set() -> None:
    with FakeBureau(port=0, api_key="k1") as bureau:
        assert httpx.get(f"{bureau.url}/v1/tax/B1").status_code == 401
        assert httpx.get(f"{bureau.url}/v1/tax/B1", headers={"X-Api-Key": "k1"}).status_code == 200


def test_features_from_parquet_as_the_demo_writes_them(tmp_path: Path) -> None:
    from arrears.bureau.fake_data import load_features

    path = tmp_path / "features.parquet"
    pl.DataFrame(
        {"borrower_id": ["B1"], "kind": ["enterprise"], "years_in_business": [7]}
    ).write_parquet(path)
    reports = FakeReports(load_features(path))
    assert reports.report("business_registry", "B1")["years_in_business"] == 7
    assert reports.report("business_registry", "B2") is None
