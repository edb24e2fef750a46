"""Load benchmark of `arrears serve`: the loan-status API and the loan page under an offered rate.

A simulated book is imported into a fresh PostgreSQL database (or SQLite with --sqlite), closed
for the business date, and served by a real `arrears serve` process; this process is the load
generator, on loopback. The load is open-loop: requests start on a fixed schedule whatever the
answers' speed, so a slow server shows up as latency, not as a lower rate.

Prints one JSON line per measurement:
- `{"benchmark": "api", "target": "status_api"|"loan_page", "rate": R, "seconds": S, "requests",
  "errors", "p50_ms", "p95_ms", "p99_ms"}` at the offered rate (default 200/s for 60 s);
- `{"benchmark": "api", "target": …, "max_rate_p95_under_100ms": R}` from a short ramp.

Usage: python benchmarks/api.py [--loans 100000] [--rate 200] [--seconds 60] [--json]
       [--postgres URL | --sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httptools
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Pool

END = date(2026, 11, 30)
EXE = Path(sys.executable).with_name("arrears")
IN_FLIGHT = 64  # concurrent requests (and HTTP connections) of the load generator


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([str(EXE), *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(loans: int, work: Path, url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ARREARS_DATABASE_URL": url,
        "ARREARS_DATA_DIR": str(work / "data"),
        "ARREARS_BUSINESS_DATE": END.isoformat(),
    }
    run(["db", "upgrade"], env)
    run(
        [
            "simulate",
            "--loans",
            str(loans),
            "--months",
            "24",
            "--seed",
            "11",
            "--out",
            str(work / "book"),
            "--format",
            "parquet",
        ],
        env,
    )
    run(["import", str(work / "book")], env)
    run(["cob", "--as-of", END.isoformat()], env)
    subprocess.run(
        [str(EXE), "user", "add", "--role", "risk", "bench", "--password-stdin"],
        env=env,
        input="bench-password\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return env


def sample_loans(url: str, n: int) -> list[str]:
    """`n` loan ids drawn evenly from the whole book (a fixed sample, so runs compare)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT loan_id FROM loans ORDER BY loan_id"))]
    engine.dispose()
    return random.Random(1).sample(ids, min(n, len(ids)))


async def measure(fetch, paths: list[str], rate: float, seconds: float):  # type: ignore[no-untyped-def]
    """Open loop: a request is due every 1/rate s; its latency runs from when it was due, so
    waiting for a free connection counts. In-flight requests are capped at the pool size (an
    unbounded queue of waiters makes the HTTP client itself the bottleneck)."""
    latencies: list[float] = []
    errors = 0
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one(path: str, due: float) -> None:
        nonlocal errors
        async with slots:
            try:
                if await fetch(path) != 200:
                    errors += 1
            except (httpx.HTTPError, OSError, ConnectionError, httptools.HttpParserError):
                errors += 1
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    begin = time.perf_counter()
    n = int(rate * seconds)
    for k in range(n):
        due = begin + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(random.choice(paths), due)))
    await asyncio.gather(*tasks)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2)

    return {
        "requests": n,
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


async def login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the login page"
    answer = await client.post(
        "/login",
        data={
            "csrf_token": csrf.group(1),
            "username": "bench",
            "password": "bench-password",
            "next": "/dashboard",
        },
    )
    assert answer.status_code in (200, 303), answer.status_code


async def main_async(args: argparse.Namespace, base: str, token: str, loan_ids: list[str]) -> None:
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    api = httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    )
    pages = httpx.AsyncClient(base_url=base, limits=limits, timeout=30, follow_redirects=False)
    await login(pages)
    closers = [api.aclose, pages.aclose]
    if args.httpx:

        async def via_api(path: str) -> int:
            return (await api.get(path)).status_code

        async def via_pages(path: str) -> int:
            return (await pages.get(path)).status_code

    else:  # the lean client (benchmarks/loadgen.py): the generator's CPU is the server's loss
        host, port = base.removeprefix("http://").split(":")
        cookie = "; ".join(f"{k}={v}" for k, v in pages.cookies.items())
        api_pool = await Pool(
            host, int(port), IN_FLIGHT, {"Authorization": f"Bearer {token}"}
        ).open()
        page_pool = await Pool(host, int(port), IN_FLIGHT, {"Cookie": cookie}).open()
        via_api, via_pages = api_pool.get, page_pool.get
        closers += [api_pool.close, page_pool.close]
    targets = {
        "status_api": (via_api, [f"/api/v1/loans/{i}?as_of={END}" for i in loan_ids]),
        "loan_page": (via_pages, [f"/loans/{i}" for i in loan_ids]),
    }
    client_name = "httpx" if args.httpx else "lean"
    for name, (fetch, paths) in targets.items():
        await measure(fetch, paths, 20, 2)  # warm up
        result = await measure(fetch, paths, args.rate, args.seconds)
        print(
            json.dumps(
                {
                    "benchmark": "api",
                    "target": name,
                    "client": client_name,
                    "workers": args.workers,
                    "rate": args.rate,
                    "seconds": args.seconds,
                    **result,
                }
            ),
            flush=True,
        )
        best = 0
        for rate in (50, 100, 150, 200, 300, 400, 600, 800):
            ramp = await measure(fetch, paths, rate, args.ramp_seconds)
            if ramp["errors"] or ramp["p95_ms"] > 100:
                break
            best = rate
        print(
            json.dumps(
                {
                    "benchmark": "api",
                    "target": name,
                    "client": client_name,
                    "workers": args.workers,
                    "max_rate_p95_under_100ms": best,
                }
            ),
            flush=True,
        )
    for close in closers:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp-seconds", type=float, default=10)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="serve from SQLite instead")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="server worker processes (default: twice the cores). On 2 cores, the loan page's p95"
        " at 200 req/s was 51-135 ms with 2 workers, 23-55 ms with 3 and 18 ms with 4: a worker"
        " is one core at most (its GIL), and its event loop waits for the GIL behind its own"
        " request threads, so processes beyond the cores fill the gaps",
    )
    parser.add_argument(
        "--reuse",
        metavar="URL",
        help="serve an already prepared database (simulated, imported, closed, with user `bench`)"
        " instead of building one; its data directory is --data-dir",
    )
    parser.add_argument("--data-dir", help="ARREARS_DATA_DIR of the --reuse database")
    parser.add_argument(
        "--httpx",
        action="store_true",
        help="generate the load with httpx instead of the lean client (costs the server CPU)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arrears-api-bench-"))
    admin = None
    try:
        if args.reuse:
            url = args.reuse
            env = {
                **os.environ,
                "ARREARS_DATABASE_URL": url,
                "ARREARS_DATA_DIR": args.data_dir or str(work / "data"),
                "ARREARS_BUSINESS_DATE": END.isoformat(),
            }
        elif args.sqlite:
            url = f"sqlite:///{work / 'bench.db'}"
        else:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "arrears_api_bench" WITH (FORCE)'))
                conn.execute(text('CREATE DATABASE "arrears_api_bench"'))
            url = (
                make_url(args.postgres)
                .set(database="arrears_api_bench")
                .render_as_string(hide_password=False)
            )
        if not args.reuse:
            env = prepare(args.loans, work, url)
        token = json.loads(run(["token", "create", "bench", "--json"], env))["token"]
        loan_ids = sample_loans(env["ARREARS_DATABASE_URL"], 5000)
        port = free_port()
        server = subprocess.Popen(
            [
                str(EXE),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):  # two workers importing everything: slow on a busy machine
                try:
                    if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            asyncio.run(main_async(args, base, token, loan_ids))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text('DROP DATABASE IF EXISTS "arrears_api_bench" WITH (FORCE)'))


if __name__ == "__main__":
    main()
