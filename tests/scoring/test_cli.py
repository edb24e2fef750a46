"""`arrears model …` end to end: files in, model directories and scores out, the registry and
monitoring on a database holding a simulated book closed month by month."""

import json
import shutil

import polars as pl
import pytest
from typer.testing import CliRunner

from arrears.cli import app
from arrears.scoring import features

runner = CliRunner()


def run(*args, db=None):
    prefix = ["--db", db] if db else []
    return runner.invoke(app, [*prefix, *args])


@pytest.fixture(scope="module")
def apps_csv(tmp_path_factory, sim_book):
    path = tmp_path_factory.mktemp("apps") / "applications.csv"
    features.simulated_applications(sim_book / "book").drop("true_pd_12m").write_csv(path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, apps_csv):
    out = tmp_path_factory.mktemp("model") / "a-card"
    result = run(
        "model",
        "train",
        "--kind",
        "application",
        "--data",
        str(apps_csv),
        "--target",
        "bad",
        "--out",
        str(out),
        "--no-register",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_writes_a_complete_model_directory(trained):
    out, summary = trained
    for name in ("model.json", "estimator.json", "metrics.json", "scorecard.csv", "reference.json"):
        assert (out / name).exists(), name
    meta = json.loads((out / "model.json").read_text())
    assert meta["kind"] == "application" and meta["method"] == "scorecard"
    assert len(meta["fingerprint"]["sha256"]) == 64
    assert {f["name"] for f in meta["features"]} == set(summary["features"])
    assert "loan_id" not in summary["features"] and "bad" not in summary["features"]
    table = pl.read_csv(out / "scorecard.csv")
    assert table.columns == ["feature", "bin", "rows", "bad_rate", "woe", "iv", "points"]
    assert summary["validation"]["auc"] > 0.6


def test_evaluate_json_keys(trained, apps_csv):
    out, _ = trained
    result = run(
        "model",
        "evaluate",
        "--model",
        str(out),
        "--data",
        str(apps_csv),
        "--target",
        "bad",
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("auc", "ks", "gini", "rows", "bad_rate", "calibration"):
        assert key in doc
    assert doc["rows"] == pl.read_csv(apps_csv).height
    assert sum(row["rows"] for row in doc["calibration"]) == doc["rows"]


def test_score_writes_points_probability_and_reasons(trained, apps_csv, tmp_path):
    out, _ = trained
    scores = tmp_path / "scores.parquet"
    result = run(
        "model", "score", "--model", str(out), "--data", str(apps_csv), "--out", str(scores)
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(scores)
    assert frame.height == pl.read_csv(apps_csv).height
    assert {"loan_id", "score", "probability", "reason_1", "reason_1_en", "reason_1_zh"} <= set(
        frame.columns
    )
    worst = frame.sort("score").row(0, named=True)
    assert worst["reason_1"] is not None and worst["reason_1_points"] > 0


def test_a_bad_target_value_names_file_line_and_column(apps_csv, tmp_path):
    frame = pl.read_csv(apps_csv).with_columns(pl.col("bad").cast(pl.String))
    frame[4, "bad"] = "maybe"
    bad = tmp_path / "bad.csv"
    frame.write_csv(bad)
    result = run(
        "model",
        "train",
        "--kind",
        "application",
        "--data",
        str(bad),
        "--target",
        "bad",
        "--out",
        str(tmp_path / "m"),
        "--no-register",
    )
    assert result.exit_code == 2
    assert "bad.csv line 6, column 'bad': 'maybe'" in result.output
    assert not (tmp_path / "m").exists()


def test_a_text_value_in_a_numerical_column_is_named(trained, apps_csv, tmp_path):
    out, _ = trained
    frame = pl.read_csv(apps_csv).with_columns(pl.col("monthly_income").cast(pl.String))
    frame[9, "monthly_income"] = "lots"
    bad = tmp_path / "bad.csv"
    frame.write_csv(bad)
    result = run(
        "model", "score", "--model", str(out), "--data", str(bad), "--out", str(tmp_path / "s.csv")
    )
    assert result.exit_code == 2
    assert "line 11, column 'monthly_income': 'lots' is not a number" in result.output


def test_a_missing_column_and_a_missing_model_are_clear(trained, apps_csv, tmp_path):
    out, summary = trained
    needed = summary["features"][0]
    cut = tmp_path / "cut.parquet"
    pl.read_csv(apps_csv).drop(needed).write_parquet(cut)
    result = run(
        "model", "score", "--model", str(out), "--data", str(cut), "--out", str(tmp_path / "s.csv")
    )
    assert result.exit_code == 2 and needed in result.output
    result = run(
        "model",
        "score",
        "--model",
        str(tmp_path),
        "--data",
        str(cut),
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert result.exit_code == 2 and "not a model directory" in result.output


@pytest.fixture(scope="module")
def book_db(sim_book, tmp_path_factory):
    """A private copy of the simulated book's database (these tests write to the registry)."""
    path = tmp_path_factory.mktemp("db") / "arrears.db"
    shutil.copy(sim_book / "arrears.db", path)
    return f"sqlite:///{path}"


def test_behaviour_and_collection_train_from_the_database_then_promote_score_monitor(
    book_db, tmp_path
):
    for kind in ("behaviour", "collection"):
        result = run(
            "model",
            "train",
            "--kind",
            kind,
            "--out",
            str(tmp_path / kind),
            "--by",
            "risk1",
            "--json",
            db=book_db,
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["validation"]["auc"] > 0.6
        promoted = run(
            "model",
            "promote",
            str(summary["model_id"]),
            "--by",
            "head-of-risk",
            "--json",
            db=book_db,
        )
        assert promoted.exit_code == 0, promoted.output
        assert json.loads(promoted.stdout)["champion"] is True

    listed = json.loads(run("model", "list", "--json", db=book_db).stdout)
    assert {m["kind"] for m in listed if m["champion"]} == {"behaviour", "collection"}
    assert all(m["promoted_by"] == "head-of-risk" for m in listed)

    scores = tmp_path / "book.csv"
    result = run(
        "model", "score-book", "--kind", "behaviour", "--out", str(scores), "--json", db=book_db
    )
    assert result.exit_code == 0, result.output
    assert pl.read_csv(scores).height == json.loads(result.stdout)["rows"] > 0

    result = run("model", "monitor", "--kind", "behaviour", "--json", db=book_db)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["psi"] >= 0 and set(doc["csi"]) == set(summary_features(tmp_path / "behaviour"))
    assert doc["auc"] is not None and doc["matured_rows"] > 0
    assert doc["alert"] == (doc["psi"] > 0.25)


def summary_features(path):
    return [f["name"] for f in json.loads((path / "model.json").read_text())["features"]]


def test_monitor_alerts_on_a_shifted_population(book_db, tmp_path, apps_csv):
    trained = run(
        "model",
        "train",
        "--kind",
        "application",
        "--data",
        str(apps_csv),
        "--target",
        "bad",
        "--out",
        str(tmp_path / "a"),
        "--json",
        db=book_db,
    )
    model_id = json.loads(trained.stdout)["model_id"]
    assert run("model", "promote", str(model_id), db=book_db).exit_code == 0
    shifted = tmp_path / "recent.csv"
    numerical = [
        f["name"]
        for f in json.loads((tmp_path / "a" / "model.json").read_text())["features"]
        if f["dtype"] == "numerical"
    ]
    # a population whose every number is three times larger (plus 5): nothing like the training
    pl.read_csv(apps_csv).with_columns(pl.col(n) * 3 + 5 for n in numerical).write_csv(shifted)
    result = run(
        "model",
        "monitor",
        "--kind",
        "application",
        "--data",
        str(shifted),
        "--target",
        "bad",
        "--json",
        db=book_db,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["alert"] is True and doc["psi"] > 0.25
    from sqlalchemy import select

    from arrears.store.db import make_engine, session_factory
    from arrears.store.tables import Event, ModelMonitorRun

    engine = make_engine(book_db)
    with session_factory(engine)() as s:
        alerts = list(s.scalars(select(Event).where(Event.type == "model.drift_alert")))
        runs = list(s.scalars(select(ModelMonitorRun)))
    engine.dispose()
    assert alerts[-1].payload["model_id"] == model_id
    assert set(alerts[-1].payload["worst_features"]) <= set(numerical)
    assert runs[-1].alert is True


def test_application_without_data_is_refused(tmp_path):
    result = run("model", "train", "--kind", "application", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "--data" in result.output
    result = run("model", "train", "--kind", "mortgage", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "mortgage" in result.output


def test_the_demo_path_trains_promotes_and_scores_the_book(sim_book, tmp_path):
    from arrears.scoring import registry
    from arrears.scoring.service import demo_models
    from arrears.store.db import make_engine

    db = tmp_path / "demo.db"
    shutil.copy(sim_book / "arrears.db", db)
    engine = make_engine(f"sqlite:///{db}")
    summary = demo_models(engine, sim_book / "book", tmp_path / "models")
    assert registry.champion(engine, "application").method == "scorecard"
    assert registry.champion(engine, "behaviour").model_id == summary["models"][1]["model_id"]
    scores = pl.read_parquet(tmp_path / "models" / "behaviour-scores.parquet")
    assert scores.height == summary["scored"]["rows"] > 0
    section = summary["report_section"]
    assert sum(section["score_histogram"]["counts"]) == scores.height
    assert section["ks_curve"]["bads"][-1] == 1.0
    assert 0 < summary["application_true_pd_auc"] <= 1
    engine.dispose()


def test_too_few_bads_is_a_clear_error(apps_csv, tmp_path):
    few = tmp_path / "few.csv"
    frame = pl.read_csv(apps_csv)
    pl.concat(
        [frame.filter(pl.col("bad") == 0), frame.filter(pl.col("bad") == 1).head(3)]
    ).write_csv(few)
    result = run(
        "model",
        "train",
        "--kind",
        "application",
        "--data",
        str(few),
        "--target",
        "bad",
        "--out",
        str(tmp_path / "m"),
        "--no-register",
    )
    assert result.exit_code == 2
    assert "3 bads" in result.output and "at least 10" in result.output
