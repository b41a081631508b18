"""Throughput of POST /v1/offers/negotiate against a FastAPI hello-world, in one run.

Both apps are served the same way (uvicorn, one worker, the same flags) on loopback and driven
by the same load tool (wrk, from Debian's package) with the same connections and duration. The
negotiate requests cycle through 500 realistic CNY bodies (36-month policy at the contractual
rate, varied amounts and capacities), so no cache of any kind sees the same request twice in a
row. Target: negotiate throughput >= 0.5 x hello-world.
"""

from __future__ import annotations

import json
import os
import random
import re
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

CONNECTIONS = 16
DURATION = "10s"
UVICORN_FLAGS = ["--workers", "1", "--no-access-log", "--log-level", "warning"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: str, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_FLAGS,
        ],
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
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


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


def wrk(url: str, script: str | None = None) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} failed requests\n{output}")

    def latency(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output)
        assert match, output
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rps, output
    return {"rps": float(rps.group(1)), "p50_ms": latency("50"), "p99_ms": latency("99")}


def main() -> None:
    if shutil.which("wrk") is None:
        print("== api: wrk is not installed (apt-get install -y wrk); skipped ==")
        return
    root = Path(tempfile.mkdtemp(prefix="repay-bench-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{root / 'bench.db'}"}
    setup = (
        "from app.core.migrate import upgrade; upgrade()\n"
        "from app.core.db import get_sessionmaker\n"
        "from app.core.keys import create_key\n"
        "from app.finance.policies import default_policy_id\n"
        "s = get_sessionmaker()()\n"
        "k, _ = create_key(s, 'collector', 'bench'); default_policy_id(s); s.commit()\n"
        "print(k)\n"
    )
    key = subprocess.run(
        [sys.executable, "-c", setup], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / "bodies.txt").write_text("\n".join(bodies()) + "\n")
    (root / "negotiate.lua").write_text(LUA % {"bodies": root / "bodies.txt", "key": key})
    with served("tests.benchmarks.hello_app:app", env) as url:
        wrk(url + "/")  # warm-up
        hello = wrk(url + "/")
    with served("app.main:app", env) as url:
        wrk(url, str(root / "negotiate.lua"))  # warm-up: caches, first imports
        negotiate = wrk(url, str(root / "negotiate.lua"))
    shutil.rmtree(root, ignore_errors=True)
    ratio = negotiate["rps"] / hello["rps"]
    print(
        f"== api: uvicorn 1 worker, wrk -t1 -c{CONNECTIONS} -d{DURATION}, loopback, same flags =="
    )
    for name, figures in (("hello world (GET /)", hello), ("POST /v1/offers/negotiate", negotiate)):
        print(
            f"  {name:28s} {figures['rps']:9.1f} req/s   p50 {figures['p50_ms']:7.2f} ms"
            f"   p99 {figures['p99_ms']:7.2f} ms"
        )
    verdict = "met" if ratio >= 0.5 else "MISSED"
    print(f"  ratio negotiate / hello = {ratio:.3f}  (target >= 0.5: {verdict})")


if __name__ == "__main__":
    main()
