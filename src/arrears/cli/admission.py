"""`arrears admit`: decide credit applications from a file against the admission policy
(docs/admission.md)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arrears.cli.common import JsonOpt, app, ctx, emit_json, err, fail, out, user_errors

DECISION_NAMES = {"approve": "approve 通过", "refer": "refer 转人工", "decline": "decline 拒绝"}


def _load_scorer(spec: str):  # -> Scorer
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        fail(f"--scorer: {spec!r} is not MODULE:CALLABLE / 格式应为 模块:函数")
    try:
        scorer = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        fail(f"--scorer: cannot load {spec!r}: {exc} / 无法加载评分函数")
    if not callable(scorer):
        fail(f"--scorer: {spec!r} is not callable / 不是可调用对象")
    return scorer


def _database():  # -> Engine | None
    """The database, when there is one to read (a file decided without a database — none
    configured, or never created — has no champion and no blacklist to consult)."""
    from sqlalchemy.engine import make_url

    from arrears.store.db import DatabaseNotReady, require_schema

    url = make_url(ctx().settings.database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return None
    engine = ctx().engine()
    try:
        require_schema(engine)
    except DatabaseNotReady:
        return None
    return engine


def _champion_scorer():  # -> Scorer | None
    """No score and no --scorer: the registry's champion application model (None: no database,
    so no registry; the applications without a score are referred)."""
    from arrears.scoring.champion import champion_scorer

    engine = _database()
    return None if engine is None else champion_scorer(engine)


@app.command("admit")
def admit_cmd(
    application: Annotated[
        Path,
        typer.Option("--application", help="Applications, .csv or .json. 申请文件。"),
    ],
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Admission policy YAML (default: the shipped one). 准入政策。"
        ),
    ] = None,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="Add what the database knows of each borrower_id (delinquencies, exposure, "
            "bureau data) before deciding. 结合借款人信用画像。",
        ),
    ] = False,
    scorer: Annotated[
        str | None,
        typer.Option(
            "--scorer",
            help="MODULE:CALLABLE scoring rows without a score column value. 评分函数。",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide applications: approve / refer / decline with reasons, limit and rate. 准入审批。"""
    from arrears.scoring.admission import (
        ApplicationsRejected,
        PolicyError,
        admit,
        enrich_with_profiles,
        load_policy,
        read_application_rows,
        validate_applications,
    )

    score_fn = _load_scorer(scorer) if scorer else None
    with user_errors():
        try:
            rules = load_policy(policy)
            rows = read_application_rows(application)
            apps = validate_applications(rows, rules, str(application))
        except PolicyError as exc:
            fail(str(exc))
        except ApplicationsRejected as exc:
            for issue in exc.issues[:50]:
                err.print(f"  {issue}", markup=False, highlight=False, soft_wrap=True)
            fail(
                f"{len(exc.issues)} problem(s) in {application}; nothing decided / 申请数据有误，未审批"
            )
        if profile:
            from arrears.bureau.profile import credit_profiles

            ids = sorted({a.borrower_id for a in apps if a.borrower_id})
            frame = credit_profiles(ctx().engine(), ctx().settings.today(), ids)
            apps = enrich_with_profiles(apps, frame)
        engine = _database()
        if engine is not None:
            from arrears.scoring.screening import screen

            apps = screen(engine, apps)
        else:
            err.print(
                "no database: the internal blacklist and pulled enforcement-list reports were not "
                "consulted / 无数据库：未查询内部黑名单及失信被执行人记录",
                highlight=False,
            )
        if score_fn is None and any(a.score is None for a in apps):
            score_fn = _champion_scorer()
        try:
            decisions = admit(apps, rules, score_fn)
        except ValueError as exc:  # a characteristic the champion needs, missing or not a number
            fail(str(exc))
    if as_json:
        emit_json([d.as_json() for d in decisions])
        return
    table = Table(
        "application 申请", "product 产品", "decision 结果", "score 评分", "band 档",
        "amount 金额", "rate 利率", "reason codes 原因代码",
    )  # fmt: skip
    for d in decisions:
        data = d.as_json()
        table.add_row(
            d.application_id,
            d.product,
            DECISION_NAMES[d.decision],
            "—" if d.score is None else f"{d.score:g}",
            d.band or "—",
            data["approved_amount"] or data["limit"] or "—",
            data["annual_rate"] or "—",
            " ".join(d.reason_codes),
        )
    out.print(table)
    models = {(m["model_id"], m["version"]) for d in decisions if (m := d.model)}
    for model_id, version in sorted(models):
        out.print(
            f"scored by the champion application model 冠军申请评分模型 #{model_id} "
            f"(version 版本 {version})",
            highlight=False,
        )
    if any("NO_CHAMPION" in d.reason_codes for d in decisions):
        out.print(
            "no champion application model is promoted: rules only 未发布申请评分冠军模型：仅按规则审批",
            highlight=False,
        )
    for d in decisions:  # the reasons in words, under the table where they have room
        for r in d.reasons:
            out.print(f"{d.application_id} {r.code}: {r.en} / {r.zh}", highlight=False)
        for r in d.score_reasons:
            out.print(
                f"{d.application_id}   lowered the score 降低评分: {r.en} / {r.zh}",
                highlight=False,
            )
    counts = {k: sum(d.decision == k for d in decisions) for k in DECISION_NAMES}
    out.print(
        f"{len(decisions)} applications 笔申请: "
        + ", ".join(f"{DECISION_NAMES[k]} {v}" for k, v in counts.items())
    )


@app.command("admission-policy")
def admission_policy_cmd(
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Admission policy YAML (default: the shipped one). 准入政策。"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a policy file and show what it decides: rules, cut-offs, bands. 检查并显示准入政策。"""
    from arrears.loans.money import format_amount
    from arrears.scoring.admission import PolicyError, load_policy

    try:
        rules = load_policy(policy)
    except PolicyError as exc:
        fail(str(exc))
    cur = rules.currency

    def amount(v: int | None) -> str | None:
        return None if v is None else format_amount(v, cur)

    products = {
        code: {
            "cutoffs": {"approve": p.approve, "refer": p.refer},
            "hard_rules": {
                "age": list(p.rules.age) if p.rules.age else None,
                "blacklist": p.rules.blacklist,
                "enforcement_list": p.rules.enforcement_list,
                "max_debt_to_income": None
                if p.rules.max_debt_to_income is None
                else str(p.rules.max_debt_to_income),
                "stress_rate": str(p.rules.stress_rate),
                "max_current_dpd": p.rules.max_current_dpd,
                "max_dpd_12m": p.rules.max_dpd_12m,
                "max_exposure": amount(p.rules.max_exposure),
            },
            "bands": [
                {
                    "band": b.band,
                    "min_score": b.min_score,
                    "limit": amount(b.limit),
                    "annual_rate": str(b.annual_rate),
                }
                for b in p.bands
            ],
        }
        for code, p in rules.products.items()
    }
    if as_json:
        emit_json({"source": rules.source, "currency": cur, "products": products})
        return
    out.print(f"{rules.source}: valid 有效 · {len(products)} products 个产品 · {cur}")
    table = Table(
        "product 产品", "approve 通过", "refer 转人工", "bands 分档 (min score → limit @ rate)",
        "DTI 负债收入比", "max exposure 集中度上限",
    )  # fmt: skip
    for code, p in products.items():
        bands = "\n".join(
            f"{b['band']}: ≥{b['min_score']:g} → {b['limit']} @ {b['annual_rate']}"
            for b in p["bands"]
        )
        hard = p["hard_rules"]
        table.add_row(
            code, f"{p['cutoffs']['approve']:g}", f"{p['cutoffs']['refer']:g}", bands,
            hard["max_debt_to_income"] or "off 关闭", hard["max_exposure"] or "off 关闭",
        )  # fmt: skip
    out.print(table)
