"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, responses parsed by
httptools (the parser uvicorn itself uses).

Why not httpx: on a 2-core machine the load generator shares the CPU with the server it measures.
httpx spends about a millisecond and a half of Python per request building and parsing; at 200
requests/s that is a sixth of the machine taken from the server, and the measurement becomes
one of the client. This client does what a tool like wrk does — send a prepared request, read
the answer to its end, count the status — at a small fraction of that cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httptools


class _Answer:
    """httptools callbacks for one response."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False

    def on_message_complete(self) -> None:
        self.done = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        while not answer.done:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        return parser.get_status_code()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """`size` keep-alive connections to `host:port`; `get(path)` waits for a free one (the wait
    counts in the caller's latency), sends a GET with `headers`, and returns the status code.
    A failed connection is replaced."""

    def __init__(self, host: str, port: int, size: int, headers: Mapping[str, str]) -> None:
        self.host, self.port, self.size = host, port, size
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._head = f"Host: {host}:{port}\r\n{extra}\r\n".encode()
        self._free: asyncio.Queue[_Connection] = asyncio.Queue()

    async def open(self) -> Pool:
        for _ in range(self.size):
            self._free.put_nowait(await self._connect())
        return self

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return _Connection(reader, writer)

    async def get(self, path: str) -> int:
        conn = await self._free.get()
        try:
            return await conn.get(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self._head)
        except (OSError, ConnectionError, httptools.HttpParserError):
            conn.close()
            conn = await self._connect()
            raise
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait().close()
