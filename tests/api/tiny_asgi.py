"""App factories for the serving supervisor's tests: an app that answers with its process id
(which worker served the request), and one that cannot start."""

from __future__ import annotations

import os
from typing import Any


def pid_app() -> Any:
    body = str(os.getpid()).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def broken_app() -> Any:
    raise RuntimeError("this app cannot start (a test)")
