"""An open-loop HTTP load at a fixed rate, as wrk2 measures it (Debian's wrk has no ``-R``).

Request k is due at ``start + k / rate`` whatever happened to the earlier ones, on the first
idle keep-alive connection (a new one when all are busy, up to ``max_connections``). Its
latency runs from the moment it was due to the last byte of the response, so a server that
falls behind is charged for the queue it builds (no coordinated omission). The generator is
a single asyncio loop: at 200 requests per second it uses a few per cent of one core.

    python bench/load.py http://127.0.0.1:8000 targets.tsv --rate 200 --seconds 20

``targets.tsv`` has one ``cookie<TAB>path`` line per request, used in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    async def get(self, host: str, path: str, cookie: str) -> int:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        self.writer.write((head + "\r\n").encode("latin-1"))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            raise ConnectionResetError("the server closed the connection")
        return status


async def run(
    base: str, targets: list[tuple[str, str]], rate: float, seconds: float, max_connections: int = 64
) -> dict:
    parts = urlsplit(base)
    host, port = parts.hostname, parts.port or 80
    idle: list[Connection] = []
    opened = 0
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    waiting_for_connection = asyncio.Condition()

    async def connection() -> Connection:
        nonlocal opened
        async with waiting_for_connection:
            while not idle and opened >= max_connections:
                await waiting_for_connection.wait()
            if idle:
                return idle.pop()
            opened += 1
        try:
            return Connection(*await asyncio.open_connection(host, port))
        except OSError:
            async with waiting_for_connection:
                opened -= 1
                waiting_for_connection.notify()
            raise

    async def release(conn: Connection | None) -> None:
        nonlocal opened
        async with waiting_for_connection:
            if conn is None:
                opened -= 1
            else:
                idle.append(conn)
            waiting_for_connection.notify()

    async def one(due: float, cookie: str, path: str) -> None:
        nonlocal errors
        conn = None
        try:
            conn = await connection()
            try:
                status = await conn.get(parts.netloc, path, cookie)
            except (ConnectionError, asyncio.IncompleteReadError):
                # A keep-alive connection the server closed while it was idle: open a
                # new one and send again, as a browser does.
                conn.writer.close()
                conn = Connection(*await asyncio.open_connection(host, port))
                status = await conn.get(parts.netloc, path, cookie)
            statuses[status] = statuses.get(status, 0) + 1
            latencies.append(time.perf_counter() - due)
            await release(conn)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            if conn is not None:
                conn.writer.close()
            await release(None)

    loop = asyncio.get_running_loop()
    start = time.perf_counter() + 0.05
    tasks = []
    total = int(rate * seconds)
    for k in range(total):
        due = start + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        cookie, path = targets[k % len(targets)]
        tasks.append(loop.create_task(one(due, cookie, path)))
    sent_by = time.perf_counter()
    await asyncio.gather(*tasks)
    finished = time.perf_counter()
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 2)

    return {
        "rate_target": rate,
        "requests": total,
        "completed": len(latencies),
        "errors": errors,
        "statuses": statuses,
        "connections_opened": opened,
        "achieved_rps": round(len(latencies) / (finished - start), 1),
        "sending_lag_ms": round((sent_by - (start + (total - 1) / rate)) * 1000, 1),
        "p50_ms": percentile(50),
        "p90_ms": percentile(90),
        "p95_ms": percentile(95),
        "p99_ms": percentile(99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
    }


def load(base: str, targets: list[tuple[str, str]], rate: float, seconds: float, warmup: float = 3.0) -> dict:
    """A warm-up at the same rate (workers compile templates, fill caches), then the measured run."""
    if warmup:
        asyncio.run(run(base, targets, rate, warmup))
    return asyncio.run(run(base, targets, rate, seconds))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("targets")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args(argv)
    with open(args.targets, encoding="utf-8") as handle:
        targets = [tuple(line.rstrip("\n").split("\t", 1)) for line in handle if line.strip()]
    print(json.dumps(load(args.base, targets, args.rate, args.seconds, args.warmup)))


if __name__ == "__main__":
    main()
