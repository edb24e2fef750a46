"""`arrears serve`: the HTTP API (and the web pages mounted on it) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from arrears.cli.common import app, ctx, err, user_errors


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on. 监听地址。")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port. 端口。")] = 8000,
) -> None:
    """Serve the API (/api/v1, docs at /docs) and the pages. 启动 HTTP 服务。"""
    import uvicorn

    from arrears.api.app import create_app

    with user_errors():
        engine = ctx().engine()
    application = create_app(ctx().settings, engine=engine, catalog=ctx().catalog())
    try:
        from arrears.web import mount  # type: ignore[attr-defined]  # the pages, when present
    except ImportError:
        mount = None
    if mount is not None:
        mount(application)
    err.print(f"Arrears on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="info")
