"""`arrears serve`: the HTTP API (and the web pages mounted on it) with uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from arrears.cli.common import app, ctx, err, fail, user_errors


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on. 监听地址。")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port. 端口。")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Worker processes. 工作进程数。")
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request line (off: it cost a tenth of a page's time under load; "
            "personal-data reads are logged to the database either way). "
            "逐条记录请求（默认关闭；个人信息访问始终记入数据库）。",
        ),
    ] = False,
) -> None:
    """Serve the API (/api/v1, docs at /docs) and the pages. 启动 HTTP 服务。"""
    import uvicorn

    from arrears.api.app import create_app, server_engine, with_pages

    settings = ctx().settings
    with user_errors():
        ctx().engine().dispose()  # a missing or unmigrated database is refused here, first
        engine = server_engine(settings)
    err.print(f"Arrears on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if workers > 1:
        # Each worker process builds its own app from the same settings, passed by environment.
        os.environ.update(settings.to_env())
        from arrears.api import workers as serving

        if not serving.reuse_port_available():  # one shared socket: uvicorn's supervisor
            uvicorn.run(
                "arrears.api.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                access_log=access_log,
            )
            return
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
        supervisor = serving.Supervisor(
            "arrears.api.app:app_from_env", host, port, workers, access_log=access_log
        )
        try:
            code = supervisor.run()
        except serving.AddressInUse as exc:
            fail(f"{exc} · 端口已被占用")
        if code:
            fail("a worker could not start; see its error above · 工作进程无法启动，见上方错误")
        return
    application = with_pages(create_app(settings, engine=engine, catalog=ctx().catalog()))
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=access_log)
