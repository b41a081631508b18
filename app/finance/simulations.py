"""Portfolio simulations: files in and out, and the same simulation on pandas or on Dask.

:mod:`plans.simulation` works on a portfolio in memory. This module reads portfolios (CSV or
Parquet) and grids (YAML), writes results (Parquet or CSV), runs the simulation in this
process (``pandas``) or across a Dask cluster (``dask``: one task per partition, each task the
pandas simulation of its rows, the integer totals added up on the client, so both engines give
the same totals to the minor unit), and shapes the API's answer.

A grid file lists the policy parameters to vary (see :data:`plans.simulation.GRID_KEYS`) and,
optionally, the policy they vary from under ``policy`` (a policy body, as the API takes it)::

    policy: {max_discount_bps: 4000}
    discount_bps: [0, 1000, 2000, 3000, 4000]
    max_term_months: [6, 12, 24, 36]
    plan_rate: [0, contractual]
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from plans.money import format_minor
from plans.policy import Policy
from plans.simulation import (
    OFFER_KINDS,
    RULES,
    GridPoint,
    Simulation,
    combine,
    policy_grid,
    simulate,
)
from plans.simulation.debtors import pro_rata_portfolio

Progress = Callable[[int, int], None]
"""Told ``(done, total)``: debts for the pandas engine, partitions for Dask."""

# Amount columns a portfolio file may give in major units: read as text, never as floats.
_TEXT_COLUMNS = (
    "debt_id",
    "currency",
    "principal",
    "interest",
    "fees",
    "capacity",
    "lump_sum",
    "nominal_annual_rate",
)


class Engine(enum.StrEnum):
    """Where a simulation runs."""

    PANDAS = "pandas"  # this process, chunk by chunk
    DASK = "dask"  # a Dask cluster: one task per partition of the portfolio


class Format(enum.StrEnum):
    """How result tables are written."""

    PARQUET = "parquet"
    CSV = "csv"


# ---- files -------------------------------------------------------------------------------


def read_portfolio(path: Path) -> pd.DataFrame:
    """A portfolio file as a frame: Parquet as stored, CSV with amounts kept as text.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "debts.csv"
    ...     _ = p.write_text("currency,principal,nominal_annual_rate,days_past_due,capacity\\n"
    ...                      "CNY,10000.10,0.18,95,1250\\n")
    ...     read_portfolio(p)["principal"].tolist()
    ['10000.10']
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq") or path.is_dir():
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path, dtype=dict.fromkeys(_TEXT_COLUMNS, str))
    raise ValueError(f"{path}: a portfolio is a .csv or .parquet file")


def read_grid(path: Path | None, base: Policy | None = None) -> tuple[GridPoint, ...]:
    """The grid points of a YAML grid file (the base policy alone if ``path`` is None).

    A ``policy`` mapping in the file is a policy body (``schemas.policies.PolicyBody``) and
    becomes the base; otherwise ``base``, else the engine's defaults.
    """
    spec: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a grid file is a mapping of parameter lists")
        spec = dict(loaded)
    body = spec.pop("policy", None)
    if body is not None:
        from schemas.policies import PolicyBody

        base = PolicyBody.model_validate(body).to_engine()
    return policy_grid(base or Policy(), spec)


def write_table(frame: pd.DataFrame, path: Path, fmt: Format) -> Path:
    """One result table, as Parquet or CSV; returns the path written."""
    path = path.with_suffix(f".{fmt}")
    if fmt is Format.PARQUET:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


class OffersWriter:
    """Offers frames streamed into one file, chunk after chunk (Parquet row groups or CSV)."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path.with_suffix(f".{fmt}")
        self.fmt = fmt
        self._parquet: Any = None
        self._rows = 0

    def __call__(self, frame: pd.DataFrame) -> None:
        if self.fmt is Format.CSV:
            frame.to_csv(self.path, mode="a", header=self._rows == 0, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._rows += len(frame)

    def close(self) -> None:
        """Finish the file. No offers, no file: an empty partition leaves nothing to read."""
        if self._parquet is not None:
            self._parquet.close()


def write_results(sim: Simulation, out: Path, fmt: Format) -> list[Path]:
    """The totals of a simulation as tables in ``out``: summary (per grid point and currency),
    by_bucket (and days-past-due bucket), by_kind, cash_flow and the grid's parameters."""
    out.mkdir(parents=True, exist_ok=True)
    by_bucket = sim.summary(by=("grid_point", "currency", "dpd_bucket"))
    tables = {
        "summary": sim.summary(),
        "by_bucket": by_bucket,
        "by_kind": sim.kind_summary(),
        "cash_flow": sim.cash_flow_curve(),
        "grid": sim.parameters(),
    }
    return [write_table(frame, out / name, fmt) for name, frame in tables.items()]


# ---- engines -----------------------------------------------------------------------------


def run_pandas(
    portfolio: pd.DataFrame,
    points: Sequence[GridPoint],
    *,
    as_of: date,
    workers: int = 1,
    out: Path | None = None,
    fmt: Format = Format.PARQUET,
    progress: Progress | None = None,
) -> Simulation:
    """The simulation in this process; the offers streamed to ``out/offers/`` if given."""
    done = 0

    def advance(debts: int) -> None:
        nonlocal done
        done += debts
        if progress is not None:
            progress(done, len(portfolio))

    writer = None
    if out is not None:
        (out / "offers").mkdir(parents=True, exist_ok=True)
        writer = OffersWriter(out / "offers" / "part-00000", fmt)
    try:
        return simulate(
            portfolio,
            points,
            as_of=as_of,
            workers=workers,
            keep_offers=False,
            write_offers=writer,
            progress=advance,
        )
    finally:
        if writer is not None:
            writer.close()


def simulate_partition(
    partition: pd.DataFrame,
    points: Sequence[GridPoint],
    as_of: date,
    offers_path: str | None,
    fmt: str,
    consolidate: bool = False,
) -> Simulation:
    """One Dask task: the pandas simulation of a partition, its offers written by the worker,
    its totals (small) sent back. With ``consolidate`` the partition holds every debt of each
    of its debtors (:func:`run_dask` shuffles by ``debtor_id``), shared out as
    :func:`plans.simulation.debtors.pro_rata_portfolio` shares them for the pandas engine."""
    if consolidate and len(partition):
        partition = pro_rata_portfolio(partition)
    writer = OffersWriter(Path(offers_path), Format(fmt)) if offers_path else None
    try:
        sim = simulate(partition, points, as_of=as_of, keep_offers=False, write_offers=writer)
    finally:
        if writer is not None:
            writer.close()
    return sim


# Dask's nanny starts workers with glibc's trim threshold at 64 KiB, so that memory goes back
# to the system early; the simulation's numpy temporaries are larger than that and would be
# returned and faulted in again on every operation (measured: 1.8x slower). Workers of a
# cluster of your own: start them with MALLOC_TRIM_THRESHOLD_=268435456 in the environment.
WORKER_ENVIRONMENT = {"MALLOC_TRIM_THRESHOLD_": 256 * 2**20}


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[Any]:
    """A Dask cluster on this machine: ``workers`` processes of one thread each."""
    import dask
    from distributed import LocalCluster

    environment = {
        f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENVIRONMENT.items()
    }
    with (
        dask.config.set(environment),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
    ):
        yield cluster


@contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = 2) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a new :func:`local_cluster` of
    ``workers`` processes (closed on exit)."""
    from distributed import Client

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


def dask_portfolio(source: Path | pd.DataFrame, partitions: int) -> Any:
    """A portfolio as a Dask frame of at least ``partitions`` partitions.

    Each partition carries its own ``debt_id`` column: a file without one is refused, since
    row numbers are not known partition by partition.
    """
    import dask.dataframe as dd

    if isinstance(source, pd.DataFrame):
        frame = source if "debt_id" in source else source.rename_axis("debt_id").reset_index()
        ddf = dd.from_pandas(frame, npartitions=max(partitions, 1), sort=False)
    elif source.suffix.lower() == ".csv":
        ddf = dd.read_csv(str(source), dtype=dict.fromkeys(_TEXT_COLUMNS, str), blocksize="64MB")
    else:
        ddf = dd.read_parquet(str(source), split_row_groups=True)
    if "debt_id" not in ddf.columns:
        raise ValueError("the dask engine needs a debt_id column in the portfolio file")
    if ddf.npartitions < partitions:
        ddf = ddf.repartition(npartitions=partitions)
    return ddf


def run_dask(
    source: Path | pd.DataFrame,
    points: Sequence[GridPoint],
    *,
    as_of: date,
    client: Any,
    partitions: int | None = None,
    out: Path | None = None,
    fmt: Format = Format.PARQUET,
    progress: Progress | None = None,
    consolidate: bool = False,
) -> Simulation:
    """The simulation on a Dask cluster: a task per partition, the totals combined here.

    The workers read the portfolio and write the offers themselves (``out`` must be a path
    they can reach: shared storage on a real cluster). With ``consolidate`` the portfolio is
    first shuffled by ``debtor_id``, so that all of a debtor's debts are in one partition,
    and each debt's capacity and lump sum become its share of its debtor's there: the
    pandas engine's consolidation, partition by partition.
    """
    from dask.delayed import delayed
    from distributed import as_completed

    if partitions is None:
        partitions = 2 * max(sum(client.nthreads().values()), 1)
    ddf = dask_portfolio(source, partitions)
    if consolidate:
        if "debtor_id" not in ddf.columns:
            raise ValueError("consolidating needs a debtor_id column in the portfolio")
        ddf = ddf.shuffle(on="debtor_id", npartitions=ddf.npartitions)
    if out is not None:
        (out / "offers").mkdir(parents=True, exist_ok=True)
    # one node of the graph for the grid, not a copy of it in every task
    grid = delayed(tuple(points), pure=True, traverse=False)
    tasks = [
        delayed(simulate_partition)(
            part,
            grid,
            as_of,
            None if out is None else str(out / "offers" / f"part-{i:05d}"),
            str(fmt),
            consolidate,
        )
        for i, part in enumerate(ddf.to_delayed())
    ]
    futures = client.compute(tasks)
    for done, _ in enumerate(as_completed(futures), start=1):
        if progress is not None:
            progress(done, len(tasks))
    parts: list[Simulation] = client.gather(futures)
    return combine(parts)


# ---- the API's answer --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Money:
    currency: str

    def __call__(self, minor: int) -> str:
        return format_minor(int(minor), self.currency)


def _ratio(numerator: int, denominator: int, places: int = 6) -> str:
    # exact: from the integer totals, not from floats
    if denominator == 0:
        return "0"
    quantum = Decimal(1).scaleb(-places)
    value = (Decimal(int(numerator)) / Decimal(int(denominator))).quantize(quantum, ROUND_HALF_EVEN)
    return str(value)


def consolidated(portfolio: pd.DataFrame, debtor_ids: Sequence[str]) -> pd.DataFrame:
    """The portfolio whose debts of one debtor share the debtor's capacity and lump sum: each
    debt's part pro rata by balance (:func:`plans.simulation.debtors.pro_rata_portfolio`), so
    the debtor's offers together ask no more than the debtor said they can pay."""
    frame = portfolio.copy()
    frame.insert(0, "debtor_id", list(debtor_ids))
    return pro_rata_portfolio(frame)


def response(
    sim: Simulation,
    *,
    as_of: date,
    debts: int,
    policy: dict[str, Any],
    debtors: int | None = None,
) -> dict[str, Any]:
    """A simulation as ``schemas.simulations.SimulationOut``: amounts as decimal strings;
    ``debtors`` when the debts were consolidated by debtor (else each debt is a debtor)."""
    summary = []
    for row in sim.summary().to_dict("records"):
        money = _Money(str(row["currency"]))
        summary.append(
            {
                "grid_point": int(row["grid_point"]),
                "currency": money.currency,
                "debts": int(row["debts"]),
                "with_offer": int(row["with_offer"]),
                "share_with_offer": _ratio(row["with_offer"], row["debts"]),
                "owed": money(row["owed_minor"]),
                "expected_recovery": money(row["expected_recovery_minor"]),
                "recovery_rate": _ratio(row["expected_recovery_minor"], row["owed_minor"]),
                "npv": money(row["npv_minor"]),
                "total_paid": money(row["total_paid_minor"]),
                "discount_granted": money(row["discount_minor"]),
                "mean_discount_bps": _ratio(row["discount_bps_sum"], row["with_offer"], 2),
                "best": {str(k): int(row[f"best_{k}"]) for k in OFFER_KINDS},
            }
        )
    kinds = []
    for row in sim.kind_summary().to_dict("records"):
        money = _Money(str(row["currency"]))
        kinds.append(
            {
                "grid_point": int(row["grid_point"]),
                "currency": money.currency,
                "kind": str(row["kind"]),
                "offered": int(row["offered"]),
                "rejected": {
                    rule: int(row[f"rejected_{rule}"])
                    for rule in RULES[1:]
                    if row[f"rejected_{rule}"]
                },
                "expected_recovery": money(row["expected_recovery_minor"]),
                "npv": money(row["npv_minor"]),
                "total_paid": money(row["total_paid_minor"]),
                "discount_granted": money(row["discount_minor"]),
            }
        )
    flows = [
        {
            "grid_point": int(row["grid_point"]),
            "currency": str(row["currency"]),
            "month": int(row["month"]),
            "paid": _Money(str(row["currency"]))(row["paid_minor"]),
            "expected": _Money(str(row["currency"]))(row["expected_minor"]),
        }
        for row in sim.cash_flow_curve().to_dict("records")
    ]
    document: dict[str, Any] = {
        "as_of": as_of,
        "debts": debts,
        "consolidated": debtors is not None,
        "debtors": debts if debtors is None else debtors,
        "policy": policy,
        "grid": [
            {"grid_point": p.index, "label": p.label, "parameters": dict(p.parameters)}
            for p in sim.grid
        ],
        "summary": summary,
        "by_kind": kinds,
        "cash_flow": flows,
        "offers": None,
    }
    if sim.offers is not None:
        document["offers"] = [_offer(row) for row in sim.offers.to_dict("records")]
    return document


def _offer(row: dict[Hashable, Any]) -> dict[str, Any]:
    money = _Money(str(row["currency"]))
    return {
        "grid_point": int(row["grid_point"]),
        "debt": str(row["debt_id"]),
        "kind": str(row["kind"]),
        "feasible": bool(row["feasible"]),
        "rule": str(row["rule"]) or None,
        "best": bool(row["best"]),
        "instalments": int(row["instalments"]),
        "instalment": money(row["instalment_minor"]),
        "down_payment": money(row["down_payment_minor"]),
        "total_paid": money(row["total_paid_minor"]),
        "discount_bps": int(row["discount_bps"]),
        "waived": money(row["waived_minor"]),
        "apr": f"{Decimal(round(row['apr'] * 1_000_000)).scaleb(-6):.6f}",
        "npv": money(row["npv_minor"]),
        "expected_recovery": money(row["expected_recovery_minor"]),
    }


def summary_tables(sim: Simulation, *, top: int = 10) -> list[Any]:
    """Per currency, the best ``top`` grid points by expected recovery, as rich tables."""
    from rich.table import Table

    names = [name for name, _ in sim.grid[0].parameters] if sim.grid else []
    values = {p.index: " / ".join(v for _, v in p.parameters) or "base" for p in sim.grid}
    summary = sim.summary().sort_values(
        ["currency", "expected_recovery_minor", "grid_point"], ascending=[True, False, True]
    )
    tables = []
    for currency, rows in summary.groupby("currency", sort=True):
        debts = int(rows["debts"].iloc[0])
        table = Table(
            "#",
            "parameters",
            "offer",
            "expected recovery",
            "rate",
            "discount",
            "best I/D/S/P",
            title=f"{currency}: {debts:,} debts, best grid points by expected recovery",
            caption=f"parameters: {' / '.join(names)}" if names else None,
        )
        for row in rows.head(top).to_dict("records"):
            recovery = Decimal(format_minor(int(row["expected_recovery_minor"]), str(currency)))
            table.add_row(
                str(row["grid_point"]),
                values[int(row["grid_point"])],
                f"{row['share_with_offer']:.1%}",
                f"{recovery:,.0f}",
                f"{row['recovery_rate']:.1%}",
                f"{row['mean_discount_bps'] / 100:.1f} %" if row["with_offer"] else "-",
                "/".join(str(row[f"best_{kind}"]) for kind in OFFER_KINDS),
            )
        tables.append(table)
    return tables
