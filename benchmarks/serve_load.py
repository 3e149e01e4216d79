"""Serving under load: C concurrent clients post to `rewardkit serve` for T seconds; beside it, in the same run
and on the same requests, the naive one-request-one-forward server (benchmarks/naive_server.py, the peer), and
offline batch scoring of the same samples (`model.score`, the ceiling a server can approach).

    python benchmarks/serve_load.py [--model DIR] [--clients 64] [--seconds 20] [--items 4] [--workload both]

Prints per workload: requests/s, samples/s, p50/p99 latency and errors of each server, the
`peer=… ours=… ratio=…` line (samples/s, ours over the naive server) and ours as a fraction of offline
throughput (target ≥ 0.7). Workloads: `short` (the verifiable suite's pairs, max_length 128) and `long`
(benchmarks/workloads.py: conversations of real preference-data lengths, max_length 512). Each client sends
requests of `--items` samples, one after another. Servers run in their own processes; the clients share this
one, so their cost lands on both servers alike.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import model_argument, synth_splits  # noqa: E402
from common import ROOT, quiet, ratio_line, save_results  # noqa: E402
from workloads import WORKLOADS, long_conversations  # noqa: E402



def workload_samples(name: str, n: int) -> list:
    if name == "long":
        return long_conversations(n, seed=11)
    train, test, heldout = synth_splits(max(n, 64), seed=11)
    return [s for sp in test + heldout + train for s in sp.pair.samples()][:n]


def item(sample) -> dict:
    return {"prompt": [{"role": m.role, "content": m.content} for m in sample.prompt], "response": sample.response}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free loopback port, ready once GET /health answers."""

    def __init__(self, command: list[str]):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # not a pipe: a server that logs a lot would block on a full one
        self.process = subprocess.Popen(command + ["--port", str(self.port)], stderr=self.log, cwd=ROOT,
                                        preexec_fn=_dies_with_this_process())

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def __enter__(self) -> "Server":
        import httpx

        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tail = self._log_tail()
        self.__exit__()  # __exit__ does not run when __enter__ raises
        raise RuntimeError(f"server not ready after 120 s: {tail}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)
        self.log.close()


def _dies_with_this_process():
    """A Popen `preexec_fn` that sends the server SIGTERM when this process dies (Linux; None elsewhere), so a
    benchmark killed before its cleanup leaves no server holding a port and both cores."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    return lambda: libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


async def _load(url: str, bodies: list[dict], clients: int, seconds: float) -> dict:
    """`clients` tasks posting bodies round-robin until `seconds` pass; latency and outcome of each request."""
    import httpx

    latencies, errors, samples, counter = [], 0, 0, iter(range(10**12))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal errors, samples
            while time.perf_counter() < deadline:
                body = bodies[next(counter) % len(bodies)]
                started = time.perf_counter()
                try:
                    answer = await http.post("/v1/score", json=body)
                    ok = answer.status_code == 200 and len(answer.json()["rewards"]) == len(body["items"])
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                    samples += len(body["items"])
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"seconds": round(elapsed, 2), "requests": len(latencies), "errors": errors,
            "requests_per_s": len(latencies) / elapsed, "samples_per_s": samples / elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else
            float("nan")}


def offline_samples_per_s(model_dir: Path, samples: list, max_length: int, batch_size: int) -> float:
    import rewardkit

    model = rewardkit.load(str(model_dir), max_length=max_length)
    model.score(samples[:batch_size], batch_size=batch_size)  # warm up
    started = time.perf_counter()
    model.score(samples, batch_size=batch_size)
    return len(samples) / (time.perf_counter() - started)


def run_workload(name: str, model_dir: Path, args) -> dict:
    max_length = WORKLOADS[name]
    samples = workload_samples(name, args.samples)
    bodies = [{"items": [item(s) for s in samples[i:i + args.items]]} for i in range(0, len(samples), args.items)]
    servers = {
        "peer": [sys.executable, str(ROOT / "benchmarks" / "naive_server.py"), "--model", str(model_dir),
                 "--max-length", str(max_length)],
        "ours": [sys.executable, "-m", "rewardkit.cli.app", "serve", "--model", str(model_dir),
                 "--max-length", str(max_length), "--max-batch", str(args.batch_size)],
    }
    runs: dict[str, list[dict]] = {"peer": [], "ours": []}
    for round_ in range(args.rounds):
        for side in ("peer", "ours") if round_ % 2 == 0 else ("ours", "peer"):
            with Server(servers[side]) as server:
                asyncio.run(_load(server.url, bodies[:args.clients], args.clients, min(2.0, args.seconds)))  # warm
                runs[side].append(asyncio.run(_load(server.url, bodies, args.clients, args.seconds)))
    offline = offline_samples_per_s(model_dir, samples, max_length, args.batch_size)

    def median(side: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[side])

    return {"max_length": max_length, "samples": len(samples), "items_per_request": args.items, "runs": runs,
            "peer_samples_per_s": median("peer", "samples_per_s"),
            "ours_samples_per_s": median("ours", "samples_per_s"),
            "ratio": statistics.median(o["samples_per_s"] / p["samples_per_s"]
                                       for o, p in zip(runs["ours"], runs["peer"])),
            "offline_samples_per_s": offline,
            "ours_over_offline": median("ours", "samples_per_s") / offline,
            "errors": sum(run["errors"] for side in runs.values() for run in side)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="reward model folder (default: the cached benchmark MiniLM RM)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--items", type=int, default=4, help="samples per request")
    parser.add_argument("--samples", type=int, default=1024, help="distinct samples the requests cycle through")
    parser.add_argument("--batch-size", type=int, default=64, help="our server's --max-batch and offline batch")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workload", choices=["short", "long", "both"], default="both")
    parser.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = parser.parse_args(argv)
    quiet()
    model_dir = model_argument(args.model)
    figures = {"clients": args.clients, "seconds": args.seconds, "model": str(model_dir),
               "peer": "benchmarks/naive_server.py: FastAPI, one forward per request", "workloads": {}}
    for name in WORKLOADS if args.workload == "both" else [args.workload]:
        result = run_workload(name, model_dir, args)
        figures["workloads"][name] = result
        for side in ("peer", "ours"):
            last = result["runs"][side][-1]
            print(f"[serve {name}] {side}: {last['requests_per_s']:.1f} req/s, {last['samples_per_s']:.1f} samples/s, "
                  f"p50 {last['p50_ms']:.0f} ms, p99 {last['p99_ms']:.0f} ms, errors {last['errors']}")
        print(ratio_line(result["peer_samples_per_s"], result["ours_samples_per_s"], result["ratio"], "samples/s",
                         f"serve {name}, {args.clients} clients"))
        print(f"[serve {name}] offline={result['offline_samples_per_s']:.1f} samples/s; "
              f"ours/offline={result['ours_over_offline']:.2f} (target >= 0.7)")
    if not args.no_save:
        save_results("serve_load", figures)
    return figures


if __name__ == "__main__":
    main()
