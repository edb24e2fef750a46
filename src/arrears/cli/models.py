"""`arrears model …`: train, evaluate and score credit models (A/B/C cards), the registry of
versions and champions, and stability monitoring. Thin: every verb is in `arrears.scoring`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arrears.cli.common import (
    JsonOpt,
    app,
    ctx,
    emit_json,
    fail,
    out,
    parse_date,
    progress_bar,
    user_errors,
)

model_app = typer.Typer(
    help="Credit models: A/B/C scorecards, registry, monitoring. 信用评分模型：申请/行为/催收评分卡、注册、监控。",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")

KindOpt = Annotated[
    str, typer.Option("--kind", help="application | behaviour | collection. 模型类型。")
]


@contextmanager
def model_errors() -> Iterator[None]:
    """The scoring errors a user can cause, as one line and exit status 2."""
    from arrears.scoring.binning import BinningError
    from arrears.scoring.datafile import DataFileError
    from arrears.scoring.features import NoHistory
    from arrears.scoring.modeldir import ModelDirError
    from arrears.scoring.registry import RegistryError
    from arrears.scoring.scorecard import ScorecardError

    with user_errors():
        try:
            yield
        except (
            DataFileError,
            ModelDirError,
            RegistryError,
            NoHistory,
            ScorecardError,
            BinningError,
        ) as exc:
            fail(str(exc))


def _check_kind(kind: str) -> None:
    from arrears.scoring.modeldir import KINDS

    if kind not in KINDS:
        fail(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")


@model_app.command("train")
def train(
    kind: KindOpt,
    out_dir: Annotated[
        Path, typer.Option("--out", help="The model directory to write. 模型目录。")
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Training rows (.csv or .parquet); without it behaviour and collection models "
            "learn from the database's close-of-business history. 训练数据文件。",
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The 0/1 column (1 = bad). 目标列（1 = 坏）。")
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="scorecard | gbm. 方法：评分卡或梯度提升。")
    ] = "scorecard",
    horizon_months: Annotated[
        int, typer.Option("--horizon-months", help="Behaviour: outcome window. 表现期（月）。")
    ] = 6,
    bad_dpd: Annotated[
        int, typer.Option("--bad-dpd", help="Behaviour: DPD that makes a bad. 坏账逾期天数。")
    ] = 60,
    cure_days: Annotated[
        int, typer.Option("--cure-days", help="Collection: days to cure. 催回天数。")
    ] = 31,
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register", help="Record the model in the registry. 登记到模型库。"
        ),
    ] = True,
    by: Annotated[str | None, typer.Option("--by", help="Who trained it. 训练人。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a model and write its directory. 训练模型并写入模型目录。"""
    from arrears.scoring import registry, service

    _check_kind(kind)
    if method not in ("scorecard", "gbm"):
        fail(f"--method: {method!r} is not one of scorecard, gbm")
    if data is None and kind == "application":
        fail("an application model trains from a file: give --data FILE --target COLUMN")
    if data is not None and target is None:
        fail("--data needs --target COLUMN (the 0/1 outcome, 1 = bad)")
    with model_errors(), progress_bar(disable=as_json) as progress:
        progress.add_task(f"train 训练 {kind} {method}", total=None)
        if data is not None:
            assert target is not None
            result = service.train_from_file(
                data, kind=kind, method=method, target=target, out=out_dir
            )
        else:
            result = service.train_from_history(
                ctx().engine(),
                kind=kind,
                method=method,
                out=out_dir,
                horizon_months=horizon_months,
                bad_dpd=bad_dpd,
                cure_days=cure_days,
            )
        summary = result.to_dict()
        if register:
            summary["model_id"] = registry.register(
                ctx().engine(), result.path, by or service.who()
            )
    if as_json:
        emit_json(summary)
        return
    v = summary["validation"]
    out.print(
        f"trained 已训练 {kind} {method} → {summary['path']}: {summary['rows']} rows 行, "
        f"{len(summary['features'])} features 特征; validation 验证集 AUC {v['auc']:.4f} "
        f"KS {v['ks']:.4f} Gini {v['gini']:.4f}"
        + (f"; registered as model 登记编号 {summary['model_id']}" if register else "")
    )


@model_app.command("evaluate")
def evaluate(
    model: Annotated[Path, typer.Option("--model", help="A model directory. 模型目录。")],
    data: Annotated[Path, typer.Option("--data", help="Rows with outcomes. 含结果的数据。")],
    target: Annotated[str, typer.Option("--target", help="The 0/1 column. 目标列。")],
    as_json: JsonOpt = False,
) -> None:
    """AUC, KS, Gini and calibration on a file. 在数据上评估：AUC、KS、基尼、校准。"""
    from arrears.scoring import service

    with model_errors():
        result = service.evaluate_file(model, data, target)
    if as_json:
        emit_json(result)
        return
    out.print(
        f"{result['rows']} rows 行, bad rate 坏样本率 {result['bad_rate']:.4f}: "
        f"AUC {result['auc']:.4f}  KS {result['ks']:.4f}  Gini {result['gini']:.4f}"
    )
    table = Table(title="Calibration 校准")
    for header in ("bin 分组", "rows 行", "predicted 预测", "observed 实际"):
        table.add_column(header, justify="right")
    for row in result["calibration"]:
        table.add_row(
            str(row["bin"]),
            str(row["rows"]),
            f"{row['mean_predicted']:.4f}",
            f"{row['observed_bad_rate']:.4f}",
        )
    out.print(table)


@model_app.command("score")
def score(
    model: Annotated[Path, typer.Option("--model", help="A model directory. 模型目录。")],
    data: Annotated[Path, typer.Option("--data", help="Rows to score. 待评分数据。")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Scores (.csv or .parquet). 评分输出文件。")
    ],
    reasons: Annotated[
        int, typer.Option("--reasons", help="Reason codes per row. 每行原因码个数。")
    ] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Score a file in batch: points, probability, reason codes. 批量评分：分数、概率、原因码。"""
    from arrears.scoring import service

    with model_errors():
        result = service.score_file(model, data, out_file, top=reasons)
    if as_json:
        emit_json(result)
        return
    out.print(
        f"scored 已评分 {result['rows']} rows 行 → {result['out']} "
        f"(mean score 平均分 {result['mean_score']}, {result['seconds']} s)"
    )


@model_app.command("score-book")
def score_book(
    kind: KindOpt,
    out_file: Annotated[Path, typer.Option("--out", help="Scores file. 评分输出文件。")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Close date (default: latest). 日期。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the open book with the champion of a behaviour or collection kind. 用冠军模型为存量贷款评分。"""
    from arrears.scoring import service

    _check_kind(kind)
    if kind == "application":
        fail(
            "the book is scored with a behaviour or collection model; score applications with `model score`"
        )
    day = parse_date(as_of, "--as-of") if as_of else None
    with model_errors():
        result = service.score_book(ctx().engine(), kind, out_file, day)
    if as_json:
        emit_json(result)
        return
    out.print(
        f"scored 已评分 {result['rows']} {kind} accounts 账户 with model 模型 {result['model_id']} "
        f"→ {result['out']}"
    )


@model_app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind. 仅此类型。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Registered models and the champion of each kind. 已登记模型及各类冠军。"""
    from arrears.scoring import registry

    if kind is not None:
        _check_kind(kind)
    with model_errors():
        models = registry.list_models(ctx().engine(), kind)
    if as_json:
        emit_json([m.to_dict() for m in models])
        return
    table = Table(title="Models 模型")
    for header in (
        "id",
        "kind 类型",
        "ver 版本",
        "method 方法",
        "AUC",
        "KS",
        "champion 冠军",
        "promoted by 提升人",
    ):
        table.add_column(header)
    for m in models:
        table.add_row(
            str(m.model_id),
            m.kind,
            str(m.version),
            m.method,
            f"{m.auc:.4f}" if m.auc is not None else "",
            f"{m.ks:.4f}" if m.ks is not None else "",
            "★" if m.champion else "",
            m.promoted_by or "",
        )
    out.print(table)


@model_app.command("register")
def register_(
    model: Annotated[Path, typer.Argument(help="A model directory. 模型目录。")],
    by: Annotated[str | None, typer.Option("--by", help="Who. 登记人。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a trained model directory. 登记已训练的模型目录。"""
    from arrears.scoring import registry, service

    with model_errors():
        model_id = registry.register(ctx().engine(), model, by or service.who())
    if as_json:
        emit_json({"model_id": model_id, "path": str(model)})
        return
    out.print(f"registered 已登记 {model} as model 编号 {model_id}")


@model_app.command("promote")
def promote(
    model_id: Annotated[int, typer.Argument(help="The model's id (see `model list`). 模型编号。")],
    by: Annotated[str | None, typer.Option("--by", help="Who promotes it. 提升人。")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why. 原因。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a model the champion of its kind. 设为该类型的冠军模型。"""
    from arrears.scoring import registry, service

    with model_errors():
        info = registry.promote(ctx().engine(), model_id, by or service.who(), reason)
    if as_json:
        emit_json(info.to_dict())
        return
    out.print(
        f"model 模型 {info.model_id} ({info.kind} v{info.version}) is now champion 已成为冠军 "
        f"(by 提升人 {info.promoted_by})"
    )


@model_app.command("monitor")
def monitor_(
    kind: KindOpt,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="A recent population (applications). 近期样本文件。"),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Matured outcomes in --data. 已成熟的目标列。")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Close date (default: latest). 日期。")
    ] = None,
    threshold: Annotated[
        float, typer.Option("--psi-alert", help="PSI that raises an alert. 预警阈值。")
    ] = 0.25,
    as_json: JsonOpt = False,
) -> None:
    """PSI of the score, CSI per feature, KS/AUC on matured outcomes. 稳定性与区分度监控。"""
    from arrears.scoring.monitor import monitor

    _check_kind(kind)
    day = parse_date(as_of, "--as-of") if as_of else None
    with model_errors():
        result = monitor(
            ctx().engine(), kind, data=data, target=target, as_of=day, threshold=threshold
        )
    if as_json:
        emit_json(result.to_dict())
        return
    flag = "ALERT 预警" if result.alert else "stable 稳定"
    out.print(
        f"{kind} model 模型 {result.model_id}, window 窗口 {result.window}: {result.rows} rows 行, "
        f"PSI {result.psi:.4f} ({flag}, threshold 阈值 {result.threshold})"
    )
    if result.auc is not None:
        out.print(
            f"matured outcomes 已成熟样本 ({result.matured_window}, {result.matured_rows} rows 行): "
            f"AUC {result.auc:.4f} KS {result.ks:.4f}"
        )
    table = Table(title="CSI per feature 特征稳定性")
    table.add_column("feature 特征")
    table.add_column("CSI", justify="right")
    for name, value in sorted(result.csi.items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{value:.4f}")
    out.print(table)


@model_app.command("demo")
def demo(
    book: Annotated[
        Path, typer.Option("--book", help="The simulator's book directory. 模拟贷款簿目录。")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directories. 模型目录。")],
    by: Annotated[str, typer.Option("--by", help="Who registers and promotes. 操作人。")] = "demo",
    as_json: JsonOpt = False,
) -> None:
    """The demo's models: an application scorecard on the simulated book, a behaviour scorecard on
    the database's history, both promoted, the book scored. 演示：训练、上线申请与行为评分卡并为贷款簿评分。"""
    import time

    from arrears.scoring import service

    started = time.perf_counter()
    with model_errors(), progress_bar(disable=as_json) as progress:
        progress.add_task("train, promote, score 训练、上线、评分", total=None)
        # the report draws its models section from the registry itself; a first stability
        # check of the behaviour champion is for the models page
        summary = service.demo_models(
            ctx().engine(), book, out_dir, by=by, report_section=False, check_stability=True
        )
    summary["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        emit_json(summary)
        return
    table = Table(
        "model 模型", "kind 类型", "rows 样本", "bad rate 坏账率", "AUC (validation 验证)",
        "KS", "seconds 秒",
    )  # fmt: skip
    for m in summary["models"]:
        v = m["validation"]
        table.add_row(
            f"#{m['model_id']}", m["kind"], f"{m['rows']:,}", f"{m['bad_rate']:.2%}",
            f"{v['auc']:.3f}", f"{v['ks']:.3f}", f"{m['seconds']:.1f}",
        )  # fmt: skip
    out.print(table)
    scored = summary["scored"]
    out.print(
        "promoted 已上线: "
        + ", ".join(f"#{m['model_id']} {m['kind']}" for m in summary["models"])
        + f" · the simulator's true PD ranks the same applications at AUC "
        f"{summary['application_true_pd_auc']:.3f} (the ceiling 理论上限)"
    )
    out.print(
        f"scored 已评分 {scored['rows']:,} behaviour accounts 账户 (mean score 平均分 "
        f"{scored['mean_score']}) → {scored['out']} · {summary['seconds']:.1f}s"
    )
    watch = summary["monitor"]
    out.print(
        f"behaviour stability 行为评分稳定性: PSI {watch['psi']:.4f} on 于 {watch['window']}"
        + (
            f" · KS {watch['ks']:.3f} AUC {watch['auc']:.3f} on matured outcomes 已到期表现"
            if watch["ks"] is not None
            else ""
        )
    )
