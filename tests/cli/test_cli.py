"""The command line as a user meets it: real output, `--json` shapes, one-line errors, exit 2."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
runner = CliRunner()


def run(*args, db=None):
    """Invoke the CLI on the example book's business date, so results do not move with the clock."""
    prefix = ["--business-date", "2026-11-30", *(["--db", db] if db else [])]
    return runner.invoke(app, [*prefix, *args])


@pytest.fixture
def book_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'book.db'}"
    assert run("db", "upgrade", db=url).exit_code == 0
    result = run("import", str(EXAMPLES), "--json", db=url)
    assert result.exit_code == 0, result.output
    return url


def test_schedule_json_matches_the_issue_example():
    result = run(
        "schedule",
        "--principal",
        "120000",
        "--annual-rate",
        "0.12",
        "--term",
        "12",
        "--method",
        "equal_installment",
        "--disbursed-on",
        "2026-01-15",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"installments", "total_principal", "total_interest"}
    first = data["installments"][0]
    assert first == {
        "seq": 1,
        "due_on": "2026-02-15",
        "principal": "9461.85",
        "interest": "1200.00",
        "fee": "0.00",
        "total": "10661.85",
    }
    assert data["total_principal"] == "120000.00"


def test_schedule_refuses_too_many_decimals_in_one_line():
    result = run(
        "schedule",
        "--principal",
        "1.005",
        "--annual-rate",
        "0.12",
        "--term",
        "12",
        "--method",
        "equal_installment",
        "--disbursed-on",
        "2026-01-15",
    )
    assert result.exit_code == 2
    assert "more than 2 decimals" in result.stderr and "Traceback" not in result.output


def test_products_json_lists_the_default_catalog():
    data = json.loads(run("products", "--json").stdout)
    assert {"consumer", "sme", "project", "supply_chain", "card"} <= set(data["products"])


def test_lender_catalog_file_with_a_mistake_is_one_clear_line(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "products:\n  mine:\n    name_zh: 我的\n    name_en: Mine\n    cost_cap: lots\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["--products", str(bad), "products"])
    assert result.exit_code == 2 and "mine.yaml:5" in result.stderr and "cost_cap" in result.stderr


def test_loan_show_json_keys(book_db):
    result = run("loan", "show", "L00004", "--as-of", "2026-11-30", "--json", db=book_db)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {
        "loan_id",
        "as_of",
        "status",
        "days_past_due",
        "bucket",
        "classification",
        "ifrs9_stage",
        "outstanding_principal",
        "overdue_principal",
        "overdue_interest",
        "overdue_fee",
        "overdue_penalty",
        "next_due_on",
        "next_due_amount",
    } <= set(data)
    assert data["status"] == "overdue" and data["days_past_due"] > 0


def test_payment_post_and_reverse_change_the_status(book_db):
    shown = json.loads(run("loan", "show", "L00004", "--json", db=book_db).stdout)
    owed = sum(
        float(shown[k])
        for k in ("overdue_principal", "overdue_interest", "overdue_fee", "overdue_penalty")
    )
    today = shown["as_of"]
    posted = run(
        "payment",
        "post",
        "L00004",
        "--amount",
        f"{owed:.2f}",
        "--paid-on",
        today,
        "--payment-id",
        "CLI-1",
        "--json",
        db=book_db,
    )
    assert posted.exit_code == 0, posted.output
    assert json.loads(posted.stdout)["loan"]["days_past_due"] == 0
    reversed_ = run("payment", "reverse", "CLI-1", "--reason", "posted twice", "--json", db=book_db)
    assert reversed_.exit_code == 0, reversed_.output
    assert json.loads(reversed_.stdout)["loan"]["days_past_due"] == shown["days_past_due"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["loan", "show", "NOPE"], "NOPE"),
        (["loan", "show", "L00004", "--as-of", "30/11/2026"], "not a date"),
        (
            ["payment", "post", "L00004", "--amount", "1.001", "--paid-on", "2026-11-30"],
            "more than 2 decimals",
        ),
        (
            ["payment", "post", "L00004", "--amount", "abc", "--paid-on", "2026-11-30"],
            "not a decimal amount",
        ),
        (["payment", "reverse", "NOPE", "--reason", "x"], "NOPE"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(book_db, args, message):
    result = run(*args, db=book_db)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_missing_schema_says_to_upgrade(tmp_path):
    result = run("loan", "show", "L1", db=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 2 and "arrears db upgrade" in result.stderr


def test_import_rejection_reports_and_exits_2(tmp_path):
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run("db", "upgrade", db=fresh).exit_code == 0
    bad = tmp_path / "bad"
    shutil.copytree(EXAMPLES, bad)
    payments = bad / "payments.csv"
    payments.write_text(
        payments.read_text(encoding="utf-8") + "X-1,L00001,2026-01-01,12.345\n", encoding="utf-8"
    )
    result = run("import", str(bad), "--json", db=fresh)
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert any(
        i["file"].startswith("payments") and i["column"] == "amount" and i["value"] == "12.345"
        for i in report["issues"]
    )


def test_console_script_runs_as_a_real_process(tmp_path):
    exe = Path(sys.executable).with_name("arrears")
    env = {**os.environ, "ARREARS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    done = subprocess.run(
        [str(exe), "db", "upgrade"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [str(exe), "loan", "show", "L-missing"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and "L-missing" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_business_date_is_one_line():
    result = runner.invoke(app, ["--business-date", "tomorrow", "products"])
    assert result.exit_code == 2 and "'tomorrow' is not a date" in result.stderr
