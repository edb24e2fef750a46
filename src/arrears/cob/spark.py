"""The close of business on Apache Spark: the book cut into partitions by loan id, and the very
same Polars functions (`engine.advance`, `status.status_frame`) run on each partition.

Every rule of the COB is per loan — no amount, date or class of one loan depends on another — so
a partition of whole loans (all its tables: loans, instalments, payments, pauses, overrides, and
the state's open/closed instalments and per-loan rows) can be closed alone, and the union of the
partitions' answers is the single-machine answer. `tests/cob/test_spark.py` holds it to that,
frame for frame.

How a partition travels (see `docs/scale.md`):

* the partition of a loan is `crc32(utf-8 of loan_id) mod partitions` (`partition_of`): stable
  across processes, machines and Python versions (unlike `hash()` or Polars' `hash`, which are
  seeded or version-dependent);
* each partition is one Spark row: `part` (int) and one binary column per table holding that
  table's slice as an Arrow IPC file written by Polars (lz4). Spark never looks inside, so every
  Polars type arrives unchanged — no round trip through Spark's type system;
* `mapInArrow` runs `_close_partitions` in the Python workers: unpack, `advance`,
  `status_frame`, pack the answer (status, open, closed, loans) the same way;
* the driver concatenates the slices and sorts them (status by loan_id; state by loan_id, seq).

The catalog travels as JSON of its product definitions (`Product.model_dump(mode="json")`) and
is validated again in the worker.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from typing import Any

import polars as pl

from arrears.catalog import Catalog
from arrears.cob.engine import Book, State, advance
from arrears.cob.status import status_frame

BOOK_TABLES = tuple(f.name for f in fields(Book))  # loans, instalments, payments, pauses, overrides
STATE_TABLES = tuple(f.name for f in fields(State))  # open, closed, loans
OUT_TABLES = ("status", "open", "closed", "loans")
IN_COLUMNS = (*[f"book_{t}" for t in BOOK_TABLES], *[f"state_{t}" for t in STATE_TABLES])
OUT_SCHEMA = "part int, " + ", ".join(f"{t} binary" for t in OUT_TABLES)
IPC_COMPRESSION = "lz4"


# --- partitioning ------------------------------------------------------------------------------


def partition_of(loan_ids: pl.Series, partitions: int) -> pl.Series:
    """Each loan id's partition: CRC-32 (zlib, ISO-HDLC polynomial) of its UTF-8 bytes, modulo
    `partitions`. Deterministic everywhere; computed once per distinct id."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    return pl.Series(
        "part",
        [zlib.crc32(i.encode("utf-8")) % partitions for i in loan_ids.to_list()],
        dtype=pl.Int32,
    )


def _part_map(book: Book, state: State, partitions: int) -> pl.DataFrame:
    """loan_id → part for every id appearing in any table (not only `book.loans`), so that no
    row is lost, even one the engine would keep without a matching loan."""
    ids = pl.concat(
        [frame.get_column("loan_id").cast(pl.String) for frame in (*_tables(book), *_tables(state))]
    ).unique()
    if ids.null_count():
        raise ValueError("rows without a loan_id cannot be partitioned")
    return pl.DataFrame({"loan_id": ids, "part": partition_of(ids, partitions)})


def _tables(value: Book | State) -> list[pl.DataFrame]:
    return [getattr(value, f.name) for f in fields(value)]


def split(book: Book, state: State, partitions: int) -> dict[int, tuple[Book, State]]:
    """The book and state cut by `partition_of`; partitions without any row are left out."""
    parts = _part_map(book, state, partitions)

    def cut(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
        keyed = frame.join(parts, on="loan_id", how="left", maintain_order="left")
        return {
            int(k[0]): v.drop("part")  # type: ignore[arg-type]
            for k, v in keyed.partition_by("part", as_dict=True, maintain_order=True).items()
        }

    book_cuts = {f.name: cut(getattr(book, f.name)) for f in fields(Book)}
    state_cuts = {f.name: cut(getattr(state, f.name)) for f in fields(State)}
    out: dict[int, tuple[Book, State]] = {}
    for p in sorted(parts.get_column("part").unique().to_list()):
        out[p] = (
            Book(**{n: c.get(p, getattr(book, n).clear()) for n, c in book_cuts.items()}),
            State(**{n: c.get(p, getattr(state, n).clear()) for n, c in state_cuts.items()}),
        )
    return out


# --- packing: one Arrow IPC file per table and partition ---------------------------------------


def pack(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression=IPC_COMPRESSION)
    return buffer.getvalue()


def unpack(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


def catalog_json(catalog: Catalog) -> str:
    """The effective catalog's product definitions, as the worker rebuilds them."""
    return json.dumps(
        {
            "sources": list(catalog.sources),
            "products": {c: p.model_dump(mode="json") for c, p in catalog.products.items()},
        }
    )


def catalog_from_json(text: str) -> Catalog:
    from arrears.loans.product import Product

    raw = json.loads(text)
    return Catalog(
        products={c: Product.model_validate(p) for c, p in raw["products"].items()},
        sources=tuple(raw["sources"]),
    )


# --- the work of one partition (runs in a Spark Python worker) -------------------------------


def close_partition(
    book: Book, state: State, as_of: date, catalog: Catalog
) -> tuple[State, pl.DataFrame]:
    """Exactly the single-machine close, on one partition."""
    new_state = advance(book, state, as_of)
    return new_state, status_frame(book, new_state, as_of, catalog)


def _close_partitions(as_of: date, catalog_text: str) -> Any:
    """The `mapInArrow` function: each input row is one partition's packed tables."""

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        catalog = catalog_from_json(catalog_text)
        for batch in batches:
            columns = batch.to_pydict()
            for row in range(batch.num_rows):
                book = Book(**{t: unpack(columns[f"book_{t}"][row]) for t in BOOK_TABLES})
                state = State(**{t: unpack(columns[f"state_{t}"][row]) for t in STATE_TABLES})
                new_state, status = close_partition(book, state, as_of, catalog)
                out = {
                    "part": pa.array([columns["part"][row]], pa.int32()),
                    "status": pa.array([pack(status)], pa.binary()),
                    **{
                        t: pa.array([pack(getattr(new_state, t))], pa.binary())
                        for t in STATE_TABLES
                    },
                }
                yield pa.RecordBatch.from_pydict(out)

    return run


# --- the driver ----------------------------------------------------------------------------------


def local_session(master: str = "local[2]", partitions: int = 8) -> Any:
    """A SparkSession for this machine or a cluster at `master`: Arrow on, shuffle partitions =
    `partitions`, no UI, loopback addresses for local masters, and the Python workers running
    this interpreter (`PYSPARK_PYTHON`, unless already set). Nothing is downloaded: no
    `spark.jars.packages`."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("arrears-cob")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.maxResultSize", "0")
    )
    if master.startswith("local"):
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", os.environ.get("ARREARS_SPARK_DRIVER_MEMORY", "2g"))
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def advance_partitioned(
    book: Book,
    state: State,
    as_of: date,
    catalog: Catalog,
    *,
    master: str = "local[2]",
    partitions: int = 8,
    spark: Any = None,
) -> tuple[State, pl.DataFrame]:
    """The close of business on Spark: the same `(State, status frame)` as
    `s = advance(book, state, as_of); status_frame(book, s, as_of, catalog)`, computed partition
    by partition (`partition_of`) in Spark's Python workers.

    `spark` is an existing SparkSession (a cluster); without one, `local_session(master,
    partitions)` is created (or reused) — the session is left running for the next call.
    """
    import pyarrow as pa

    cuts = split(book, state, partitions)
    if not cuts:  # an empty book: nothing to distribute
        return close_partition(book, state, as_of, catalog)
    if spark is None:
        spark = local_session(master, partitions)

    # One Arrow record batch per partition: Spark makes one DataFrame partition (one task) of
    # each batch it is given, so no shuffle is needed to put each partition on its own task.
    batches = []
    for p, (b, s) in cuts.items():
        row: dict[str, Any] = {"part": pa.array([p], pa.int32())}
        for t in BOOK_TABLES:
            row[f"book_{t}"] = pa.array([pack(getattr(b, t))], pa.binary())
        for t in STATE_TABLES:
            row[f"state_{t}"] = pa.array([pack(getattr(s, t))], pa.binary())
        batches.append(pa.RecordBatch.from_pydict(row))
    frame = spark.createDataFrame(pa.Table.from_batches(batches))
    try:
        sliced_per_batch = frame.rdd.getNumPartitions() == len(cuts)
    except Exception:  # Spark Connect has no RDDs
        sliced_per_batch = False
    if not sliced_per_batch:  # another Spark may slice differently: one range per part
        frame = frame.repartitionByRange(len(cuts), "part")
    result = frame.mapInArrow(_close_partitions(as_of, catalog_json(catalog)), OUT_SCHEMA)
    answer = result.toArrow()

    got = answer.to_pydict()
    if sorted(got["part"]) != sorted(cuts):
        raise RuntimeError(f"Spark returned partitions {sorted(got['part'])}, sent {sorted(cuts)}")
    out = {t: [unpack(blob) for blob in got[t]] for t in OUT_TABLES}
    status = pl.concat(out["status"], how="vertical_relaxed").sort("loan_id")
    new_state = State(
        open=pl.concat(out["open"], how="vertical_relaxed").sort("loan_id", "seq"),
        closed=pl.concat(out["closed"], how="vertical_relaxed").sort("loan_id", "seq"),
        loans=pl.concat(out["loans"], how="vertical_relaxed").sort("loan_id"),
    )
    return new_state, status
