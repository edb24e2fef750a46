"""What every `arrears` command shares: the Typer app, the settings context, the one-line error
convention (exit status 2) and the `--json` printer. Commands live in sibling modules by subject."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from arrears.catalog import Catalog, CatalogError, UnknownProduct, load_catalog
from arrears.config import Settings, SettingsError
from arrears.loans.money import MoneyError
from arrears.loans.schedule import ScheduleError

app = typer.Typer(
    help="Arrears — post-loan risk management and collection. 贷后管理与催收。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
loan_app = typer.Typer(
    help="One loan: status and history. 单笔贷款：状态与历史。", no_args_is_help=True
)
payment_app = typer.Typer(help="Post and reverse payments. 还款入账与冲正。", no_args_is_help=True)
db_app = typer.Typer(help="Database schema. 数据库结构。", no_args_is_help=True)
app.add_typer(loan_app, name="loan")
app.add_typer(payment_app, name="payment")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output. 输出 JSON。")]


@dataclass
class Context:
    settings: Settings

    def catalog(self) -> Catalog:
        return load_catalog(self.settings.products_file)

    def engine(self):  # an Engine; store is imported lazily so the CLI starts fast
        from arrears.store.db import make_engine, require_schema

        engine = make_engine(self.settings.database_url)
        require_schema(engine)  # a missing or old schema is one clear line, before any work
        return engine


_state: dict[str, Context] = {}


def ctx() -> Context:
    return _state.setdefault("ctx", Context(Settings.from_env()))


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: ARREARS_DATABASE_URL or sqlite:///./arrears.db). 数据库地址。",
        ),
    ] = None,
    products: Annotated[
        str | None,
        typer.Option("--products", help="A lender's product catalog YAML. 产品目录文件。"),
    ] = None,
    business_date: Annotated[
        str | None,
        typer.Option(
            "--business-date",
            help="The business date for 'today' (default: ARREARS_BUSINESS_DATE or the calendar). 业务日期。",
        ),
    ] = None,
) -> None:
    try:
        _state["ctx"] = Context(Settings.from_env(db, products, business_date))
    except SettingsError as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    err.print(f"error 错误: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one clear line and exit status 2."""
    from arrears.servicing import BusinessRuleRefused
    from arrears.store.db import DatabaseNotReady
    from arrears.store.repository import DuplicatePayment, LoanNotFound, PaymentNotFound

    try:
        yield
    except (LoanNotFound, PaymentNotFound, UnknownProduct) as exc:
        fail(str(exc))
    except (
        BusinessRuleRefused,
        DuplicatePayment,
        MoneyError,
        CatalogError,
        ScheduleError,
        DatabaseNotReady,
    ) as exc:
        fail(str(exc))


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not a date (YYYY-MM-DD expected)")


def parse_rate(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{option}: {text!r} is not a decimal fraction (e.g. 0.12)")
    if not value.is_finite() or value < 0 or value > 1:
        fail(f"{option}: {text!r} is outside 0 … 1 (an annual rate as a fraction)")
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def progress_bar(*, disable: bool = False):  # -> rich.progress.Progress
    """The one progress bar long commands show (on stderr, gone when done)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=disable,
    )
