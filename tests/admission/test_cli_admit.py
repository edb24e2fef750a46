"""`arrears admit` on files: JSON shape, the shipped example, every validation problem named by
file, row and field, a scorer by name, and the credit profile from the database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from arrears.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "applications.csv"
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--business-date", "2026-11-30", *args])


def test_the_example_file_decides_each_kind_of_case() -> None:
    result = run("admit", "--application", str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    by_id = {d["application_id"]: d for d in json.loads(result.stdout)}
    assert by_id["APP-001"]["decision"] == "approve" and by_id["APP-001"]["band"] == "A"
    assert by_id["APP-001"]["approved_amount"] == "50000.00"
    assert by_id["APP-001"]["annual_rate"] == "0.0880"
    assert by_id["APP-002"]["reason_codes"] == ["SCORE_APPROVE", "LIMIT_REDUCED"]
    assert by_id["APP-003"]["decision"] == "refer"
    assert by_id["APP-004"]["reason_codes"] == ["ENFORCEMENT_LISTED"]
    assert by_id["APP-005"]["reason_codes"] == ["AGE_OUT_OF_RANGE"]
    assert by_id["APP-006"]["reason_codes"] == ["DEBT_TO_INCOME"]
    assert by_id["APP-007"]["decision"] == "approve" and by_id["APP-007"]["band"] == "A"
    assert by_id["APP-009"]["reason_codes"] == ["SCORE_MISSING"]
    first = by_id["APP-004"]["reasons"][0]
    assert set(first) == {"code", "en", "zh"} and "失信被执行人" in first["zh"]


def test_the_table_is_bilingual() -> None:
    result = run("admit", "--application", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "通过" in result.stdout and "decline" in result.stdout
    assert "9 applications 笔申请" in result.stdout


def test_json_input_and_numbers_for_whole_amounts(tmp_path: Path) -> None:
    path = tmp_path / "apps.json"
    path.write_text(json.dumps({"applications": [{
        "application_id": "J1", "product": "card", "requested_amount": 5000,
        "term_months": 12, "age": 30, "monthly_income": "8000.50", "score": 700,
    }]}))  # fmt: skip
    result = run("admit", "--application", str(path), "--json")
    assert result.exit_code == 0, result.output
    [d] = json.loads(result.stdout)
    assert d["decision"] == "approve" and d["approved_amount"] == "5000.00"


def test_bad_rows_are_all_reported_and_nothing_is_decided(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "application_id,product,requested_amount,term_months,age,monthly_income,score\n"
        "A1,consumer,100.00,12,30,5000.00,700\n"
        "A2,mortgage,100.00,12,30,5000.00,700\n"
        "A3,consumer,12.345,12,30,5000.00,700\n"
        "A4,consumer,100.00,0,,5000.00,abc\n"
        "A1,consumer,100.00,12,30,5000.00,700\n"
    )
    result = run("admit", "--application", str(path), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    text = result.stderr
    assert f"{path}:row 3: product: 'mortgage' is not in the admission policy" in text
    assert f"{path}:row 4: requested_amount: '12.345' has more than 2 decimals" in text
    assert f"{path}:row 5: term_months: value '0'" in text
    assert f"{path}:row 5: score: value 'abc'" in text
    assert f"{path}:row 6: application_id: 'A1' appears twice" in text
    assert "nothing decided" in text and "未审批" in text


def test_unknown_files_and_policies_fail_in_one_line(tmp_path: Path) -> None:
    result = run("admit", "--application", str(tmp_path / "none.csv"))
    assert result.exit_code == 2 and "cannot read" in result.stderr
    other = tmp_path / "apps.xlsx"
    other.write_text("x")
    assert "csv or .json" in run("admit", "--application", str(other)).stderr
    policy = tmp_path / "p.yaml"
    policy.write_text("currency: CNY\nhard_rules: {}\nproducts:\n  consumer: {cutoffs: 3}\n")
    result = run("admit", "--application", str(EXAMPLE), "--policy", str(policy))
    assert result.exit_code == 2 and f"{policy}:4: products.consumer.cutoffs" in result.stderr


def test_a_scorer_by_name_scores_the_rows_without_a_score() -> None:
    result = run("admit", "--application", str(EXAMPLE), "--scorer",
                 "tests.admission.scorers:by_income", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    by_id = {d["application_id"]: d for d in json.loads(result.stdout)}
    assert by_id["APP-009"]["score"] == 500.0  # income 8,000.00 → 500
    assert by_id["APP-009"]["reason_codes"] == ["SCORE_BELOW_CUTOFF"]
    assert by_id["APP-001"]["score"] == 731  # its own score is kept
    bad = run("admit", "--application", str(EXAMPLE), "--scorer", "nowhere")
    assert bad.exit_code == 2 and "MODULE:CALLABLE" in bad.stderr


def test_profile_adds_the_borrowers_delinquency_from_the_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert runner.invoke(app, ["--db", db, "db", "upgrade"]).exit_code == 0
    assert (
        runner.invoke(app, ["--db", db, "import", str(ROOT / "examples" / "book")]).exit_code == 0
    )
    closed = runner.invoke(app, ["--db", db, "--business-date", "2026-11-30", "cob",
                                 "--as-of", "2026-11-30"])  # fmt: skip
    assert closed.exit_code == 0, closed.output
    plain = run("--db", db, "admit", "--application", str(EXAMPLE), "--json")
    enriched = run("--db", db, "admit", "--application", str(EXAMPLE), "--profile", "--json")
    assert enriched.exit_code == 0, enriched.output
    before = {d["application_id"]: d for d in json.loads(plain.stdout)}["APP-008"]
    after = {d["application_id"]: d for d in json.loads(enriched.stdout)}["APP-008"]
    assert before["decision"] == "approve"
    assert after["decision"] == "decline" and "DELINQUENT_NOW" in after["reason_codes"]


def test_admission_policy_checks_and_shows_the_policy(tmp_path: Path) -> None:
    shown = run("admission-policy", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    consumer = data["products"]["consumer"]
    assert consumer["cutoffs"] == {"approve": 640.0, "refer": 600.0}
    assert consumer["bands"][0] == {
        "band": "A", "min_score": 720.0, "limit": "200000.00", "annual_rate": "0.0880"
    }  # fmt: skip
    assert data["products"]["project"]["hard_rules"]["max_debt_to_income"] is None
    table = run("admission-policy")
    assert "valid 有效" in table.stdout and "off 关闭" in table.stdout
    broken = tmp_path / "p.yaml"
    broken.write_text("currency: CNY\nhard_rules: {}\nproducts: {}\n")
    bad = run("admission-policy", "--policy", str(broken))
    assert bad.exit_code == 2 and f"{broken}:3: products" in bad.stderr
