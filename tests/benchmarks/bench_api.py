"""Throughput of POST /v1/offers/negotiate against a FastAPI hello-world, in one run, on one
worker and on one worker per core; and negotiate's latency at a fixed moderate load.

Both apps are served the same way (uvicorn with httptools and uvloop, as ``uvicorn[standard]``
installs them and ``repay serve`` uses them, the same flags and worker count) on loopback and
driven by the same load tool (wrk, from Debian's package) with the same connections and
duration. The negotiate requests cycle through 500 realistic CNY bodies (36-month policy at the
contractual rate, varied amounts and capacities), so no cache of any kind sees the same request
twice in a row. Target: negotiate throughput >= 0.5 x hello-world on one worker.

The latency figures are one connection sending requests back to back on one worker (a single
client, the load of one collector's screen): what a request costs end to end, without queueing.
The database is SQLite in WAL with a busy timeout (``app.core.db``); a failed request (a
"database is locked" among them) fails the run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONNECTIONS = 16
DURATION = "10s"
WARM_UP = "3s"
UVICORN_FLAGS = ["--http", "httptools", "--loop", "uvloop", "--no-access-log"]
UVICORN_FLAGS += ["--log-level", "warning"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def uvicorn_command(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *UVICORN_FLAGS,
    ]


@contextmanager
def served(app: str, env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, int]]:
    port = _free_port()
    process = subprocess.Popen(
        uvicorn_command(app, port, workers),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{app} did not start")
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    import psutil  # installed with dask's distributed

    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def bodies(count: int = 500, seed: int = 20261125) -> list[str]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        principal = rng.randrange(300_000, 8_000_000)  # 3,000.00 to 80,000.00 CNY
        debt = {
            "currency": "CNY",
            "principal": f"{principal / 100:.2f}",
            "interest": f"{rng.randrange(0, principal // 10) / 100:.2f}",
            "fees": f"{rng.randrange(0, 30_000) / 100:.2f}",
            "nominal_annual_rate": rng.choice(["0.12", "0.15", "0.18", "0.2399"]),
            "as_of": "2026-11-25",
            "days_past_due": rng.randrange(30, 900),
        }
        capacity = {
            "payment": f"{max(principal // rng.randrange(6, 34), 10_000) / 100:.2f}",
            "lump_sum": f"{rng.choice([0, principal // 5, principal]) / 100:.2f}",
            "earliest_start": "2026-12-15",
            "frequency": "monthly",
        }
        made.append(json.dumps({"debt": debt, "capacity": capacity, "locale": "zh-CN"}))
    return made


LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/v1/offers/negotiate",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}, bodies[i])
end
"""


def wrk_command(
    url: str, script: str | None = None, *, connections: int = CONNECTIONS, duration: str = DURATION
) -> list[str]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}", "--timeout", "10s", "--latency"]
    return [*command, *(["-s", script] if script else []), url]


def wrk(
    url: str, script: str | None = None, *, connections: int = CONNECTIONS, duration: str = DURATION
) -> dict[str, float]:
    command = wrk_command(url, script, connections=connections, duration=duration)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    # An answer other than 2xx (a "database is locked" would be a 500) fails the run; a
    # socket error (a request still unanswered after 10 s on a loaded machine) is reported.
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url}: failed requests\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output)
        assert match, output
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    done = re.search(r"(\d+) requests in", output)
    assert rps and done, output
    return {
        "requests": int(done.group(1)),
        "rps": float(rps.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _shown(command: list[str]) -> str:
    return shlex.join(["python" if part == sys.executable else part for part in command])


def _prepared(root: Path) -> tuple[dict[str, str], str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{root / 'bench.db'}"}
    setup = (
        "from app.core.migrate import upgrade; upgrade()\n"
        "from app.core.db import get_sessionmaker\n"
        "from app.core.keys import create_key\n"
        "from app.finance.policies import default_policy_id\n"
        "s = get_sessionmaker()()\n"
        "k, o = create_key(s, 'collector', 'bench'); default_policy_id(s, o.organisation_id)\n"
        "s.commit()\n"
        "print(k)\n"
    )
    key = subprocess.run(
        [sys.executable, "-c", setup], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / "bodies.txt").write_text("\n".join(bodies()) + "\n")
    (root / "negotiate.lua").write_text(LUA % {"bodies": root / "bodies.txt", "key": key})
    return env, str(root / "negotiate.lua")


def measure() -> dict[str, Any]:
    """Every figure of this benchmark, each with the commands that produced it."""
    root = Path(tempfile.mkdtemp(prefix="repay-bench-"))
    try:
        env, script = _prepared(root)
        figures: dict[str, Any] = {"throughput": []}
        for workers in sorted({1, _cores()}):
            row: dict[str, Any] = {"workers": workers}
            for name, app, url_script in (
                ("hello", "tests.benchmarks.hello_app:app", None),
                ("negotiate", "app.main:app", script),
            ):
                with served(app, env, workers) as (url, pid):
                    target = url if url_script else url + "/"
                    wrk(target, url_script, duration=WARM_UP)  # caches, first imports
                    cpu = server_cpu_seconds(pid)
                    row[name] = wrk(target, url_script)
                    used = server_cpu_seconds(pid) - cpu
                    # the server's own CPU per answer: what the ratio would be on cores of
                    # its own, whatever else loads the machine meanwhile
                    row[name]["server_cpu_us_per_request"] = used / row[name]["requests"] * 1e6
                    row[name]["command"] = (
                        f"{_shown(uvicorn_command(app, 0, workers))} & "
                        f"{_shown(wrk_command(target, url_script))}"
                    )
            row["ratio"] = row["negotiate"]["rps"] / row["hello"]["rps"]
            row["cpu_ratio"] = (
                row["hello"]["server_cpu_us_per_request"]
                / row["negotiate"]["server_cpu_us_per_request"]
            )
            figures["throughput"].append(row)
        with served("app.main:app", env, 1) as (url, _):
            wrk(url, script, connections=1, duration=WARM_UP)
            single = wrk(url, script, connections=1)
            single["command"] = (
                f"{_shown(uvicorn_command('app.main:app', 0, 1))} & "
                f"{_shown(wrk_command(url, script, connections=1))}"
            )
        figures["latency_one_client"] = single
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> dict[str, Any] | None:
    if shutil.which("wrk") is None:
        print("== api: wrk is not installed (apt-get install -y wrk); skipped ==")
        return None
    figures = measure()
    print(
        f"== api: uvicorn (httptools, uvloop), wrk -t1 -c{CONNECTIONS} -d{DURATION}, loopback,"
        " same flags =="
    )
    for row in figures["throughput"]:
        for name, label in (("hello", "hello world (GET /)"), ("negotiate", "POST negotiate")):
            f = row[name]
            print(
                f"  {row['workers']} worker(s) {label:22s} {f['rps']:9.1f} req/s"
                f"   p50 {f['p50_ms']:7.2f} ms   p99 {f['p99_ms']:7.2f} ms"
                + (f"   {f['socket_errors']} socket errors" if f["socket_errors"] else "")
            )
        verdict = "met" if row["ratio"] >= 0.5 else "MISSED"
        target = f"  (target >= 0.5: {verdict})" if row["workers"] == 1 else ""
        print(f"  {row['workers']} worker(s) ratio negotiate / hello = {row['ratio']:.3f}{target}")
        print(
            f"  {row['workers']} worker(s) server CPU per request: hello"
            f" {row['hello']['server_cpu_us_per_request']:.0f} us, negotiate"
            f" {row['negotiate']['server_cpu_us_per_request']:.0f} us;"
            f" ratio {row['cpu_ratio']:.3f} (the throughput ratio on unloaded cores)"
        )
    one = figures["latency_one_client"]
    print(
        f"  one client (wrk -c1), 1 worker: negotiate p50 {one['p50_ms']:.2f} ms"
        f"   p99 {one['p99_ms']:.2f} ms   ({one['rps']:.0f} req/s)"
    )
    return figures


if __name__ == "__main__":
    main()
