"""Portfolio simulation: 10k, 100k and 1M debts x 4 offer kinds with every metric, on 2 cores;
then the 1M through a Dask LocalCluster of 1 and of 2 single-threaded processes, each against
the pandas engine with as many threads on the same Parquet file.

Targets (issue 18): 1M debts in at most 2 s and 1 GiB resident; the cost per debt-offer flat
from 10k to 1M. The workload is the harder one: the debts' contractual rate during plans, so
every plan's APR is solved. Each size runs in a fresh process, so its peak resident memory
(getrusage's ru_maxrss) is its own: the portfolio, the simulation and the interpreter.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from plans.policy import Policy

SIZES = (10_000, 100_000, 1_000_000)
CORES = 2
KINDS = 4
AS_OF = date(2026, 11, 25)
POLICY = Policy(plan_rate=None)  # the contractual rate: an APR to solve for every plan
TARGET_SECONDS, TARGET_BYTES = 2.0, 2**30


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _one_size(debts: int, keep_offers: bool) -> dict[str, float]:
    from plans.simulation import simulate
    from plans.synthetic import synthetic_portfolio

    simulate(synthetic_portfolio(1_000, seed=1), POLICY, as_of=AS_OF)  # imports, caches
    portfolio = synthetic_portfolio(debts)
    started, cpu = time.perf_counter(), time.process_time()
    simulate(portfolio, POLICY, as_of=AS_OF, workers=CORES, keep_offers=keep_offers)
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "rss": _peak_rss(),
    }


def _in_child(debts: int, keep_offers: bool = False) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, float] = pool.apply(_one_size, (debts, keep_offers))
    return result


def _dask(debts: int, workers: int) -> dict[str, Any]:
    from distributed import Client

    from app.finance.simulations import local_cluster, read_portfolio, run_dask, run_pandas
    from plans.simulation import grid_points
    from plans.synthetic import synthetic_portfolio

    points = grid_points(POLICY)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "portfolio.parquet"
        # 16 row groups: the Dask engine reads a partition per row group
        synthetic_portfolio(debts).to_parquet(path, row_group_size=debts // 16)
        started = time.perf_counter()
        pandas_sim = run_pandas(read_portfolio(path), points, as_of=AS_OF, workers=workers)
        on_pandas = time.perf_counter() - started
        started = time.perf_counter()
        with local_cluster(workers) as cluster, Client(cluster) as client:
            startup = time.perf_counter() - started
            client.run(lambda: __import__("plans.simulation"))  # workers import the engine
            started = time.perf_counter()
            dask_sim = run_dask(path, points, as_of=AS_OF, client=client)
            on_dask = time.perf_counter() - started
            peaks = sorted(client.run(_peak_rss).values())
    same = all(
        getattr(dask_sim, t).equals(getattr(pandas_sim, t))
        for t in ("totals", "kinds", "cash_flow")
    )
    return {
        "pandas": on_pandas,
        "dask": on_dask,
        "startup": startup,
        "workers": peaks,
        "same": same,
    }


def main() -> dict[str, Any]:
    print(
        f"== portfolio simulation: debts x {KINDS} offer kinds, every metric, {CORES} threads,"
        " contractual plan rate =="
    )
    print(f"  {'debts':>10}  {'seconds':>8}  {'cpu s':>7}  {'us/debt-offer':>13}  {'peak RSS':>9}")
    results = {}
    for debts in SIZES:
        r = results[debts] = _in_child(debts)
        per = r["seconds"] / (debts * KINDS) * 1e6
        print(
            f"  {debts:>10,}  {r['seconds']:>8.2f}  {r['cpu']:>7.2f}  {per:>13.3f}"
            f"  {r['rss'] / 2**20:>6.0f} MiB"
        )
    small, large = (results[n]["seconds"] / n for n in (SIZES[0], SIZES[-1]))
    top = results[SIZES[-1]]
    print(
        f"  cost per debt-offer, {SIZES[-1]:,} vs {SIZES[0]:,}: {large / small:.2f}x (target: flat)"
    )
    print(
        f"  {SIZES[-1]:,} debts: {top['seconds']:.2f} s (target <= {TARGET_SECONDS:.0f} s:"
        f" {_verdict(top['seconds'] <= TARGET_SECONDS)}), peak {top['rss'] / 2**30:.2f} GiB"
        f" (target <= {TARGET_BYTES / 2**30:g} GiB: {_verdict(top['rss'] <= TARGET_BYTES)})"
    )
    kept = _in_child(SIZES[-1], keep_offers=True)
    print(
        f"  {SIZES[-1]:,} debts keeping the {KINDS * SIZES[-1]:,}-row offers table in memory:"
        f" {kept['seconds']:.2f} s, peak {kept['rss'] / 2**30:.2f} GiB"
    )
    dask_runs = {}
    for workers in sorted({1, CORES}):
        print()
        d = dask_runs[workers] = _dask(SIZES[-1], workers)
        print(
            f"== the same {SIZES[-1]:,} debts from Parquet: pandas engine ({workers} threads) vs"
            f" Dask LocalCluster ({workers} processes x 1 thread) =="
        )
        print(f"  pandas engine (read + simulate)   {d['pandas']:6.2f} s")
        started = f"(cluster start {d['startup']:.2f} s)"
        print(f"  dask engine   (read + simulate)   {d['dask']:6.2f} s   {started}")
        print(f"  overhead ratio dask / pandas      {d['dask'] / d['pandas']:6.2f}x")
        peaks = ", ".join(f"{b / 2**20:.0f} MiB" for b in d["workers"])
        print(f"  worker peak RSS                   {peaks}")
        print(f"  totals equal to the minor unit    {d['same']}")
    return {
        "cores": CORES,
        "kinds": KINDS,
        "sizes": {
            str(n): {
                "seconds": r["seconds"],
                "cpu_seconds": r["cpu"],
                "us_per_debt_offer": r["seconds"] / (n * KINDS) * 1e6,
                "peak_rss_bytes": r["rss"],
            }
            for n, r in results.items()
        },
        "cost_per_debt_offer_1m_over_10k": large / small,
        "keeping_offers_1m": {"seconds": kept["seconds"], "peak_rss_bytes": kept["rss"]},
        "targets": {"seconds_1m": TARGET_SECONDS, "peak_rss_bytes_1m": TARGET_BYTES},
        "dask_1m": {
            str(workers): {
                "pandas_seconds": d["pandas"],
                "dask_seconds": d["dask"],
                "dask_over_pandas": d["dask"] / d["pandas"],
                "cluster_start_seconds": d["startup"],
                "worker_peak_rss_bytes": d["workers"],
                "same_totals": d["same"],
            }
            for workers, d in dask_runs.items()
        },
    }


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
