"""Memory: the resident memory (RSS) of each gunicorn web worker while it serves mixed requests:
the catalog, a citizen's create + submit, the citizen's list, a clerk's inbox and a case's detail
(token authentication), and /healthz. The submit scenario's server setup (gthread, 2 workers x
8 threads) with MALLOC_ARENA_MAX=2, 8 keep-alive connections.

Targets: after the warm-up the RSS stays flat (growth of at most a few MB, here 5 MB,
between the end of the warm-up and the last request) and under 200 MB, for every worker.
The figures are the largest over the workers. One run: a run is one long series.
"""

from __future__ import annotations

import threading
import time

from bench.common import (
    Context,
    Figure,
    HttpClient,
    children,
    create_database,
    gunicorn_server,
    in_django,
    redis_delete_prefix,
    rss_mb,
)
from bench.scenarios._portal import CREATE_BODY

CONNECTIONS = 8
WORKERS = 2
RSS_LIMIT_MB = 200.0
GROWTH_LIMIT_MB = 5.0
KEYPREFIX = "bench-memory:"
# Each citizen starts with more applications than a page of their list holds, so the list's
# response has its steady size from the first request (else RSS grows as the lists fill).
LIST_PAGE = 20
# glibc gives each thread that allocates its own malloc arena (up to 8 per core), so a gthread
# worker's RSS climbs by ~5 MB more until all of its threads have served requests. Two arenas
# (the usual setting for threaded Python servers) keep it flat and ~10 MB lower; see README.
ARENAS = "2"


def _mix(citizen: HttpClient, clerk: HttpClient, anonymous: HttpClient, cases: list[str]):
    """The request mix, in order; each item sends one or two requests and returns how many."""

    def catalog() -> int:
        _expect(anonymous.request("GET", "/api/v1/services/"), 200)
        return 1

    def submit() -> int:
        status, body = citizen.request("POST", "/api/v1/applications/", CREATE_BODY)
        _expect((status, body), 201)
        path = f"/api/v1/applications/{body['reference']}/submit/"
        _expect(citizen.request("POST", path), 200)
        return 2

    def my_applications() -> int:
        _expect(citizen.request("GET", f"/api/v1/applications/?page_size={LIST_PAGE}"), 200)
        return 1

    def inbox() -> int:
        _expect(clerk.request("GET", "/api/v1/cases/"), 200)
        return 1

    counter = iter(range(10**9))

    def case_detail() -> int:
        reference = cases[next(counter) % len(cases)]
        _expect(clerk.request("GET", f"/api/v1/cases/{reference}/"), 200)
        return 1

    def health() -> int:
        status, _body = anonymous.request("GET", "/healthz")
        if status not in (200, 503):  # 503 "degraded": no worker heartbeat in this benchmark
            raise RuntimeError(f"/healthz answered {status}")
        return 1

    return [catalog, submit, my_applications, inbox, case_detail, health, catalog, inbox]


def _workers(master: int, count: int, timeout: float = 30) -> list[int]:
    """The master's worker processes, once all `count` are forked (the port listens before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = children(master)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn started {len(children(master))} of {count} workers")


def _expect(response: tuple[int, object], status: int) -> None:
    if response[0] != status:
        raise RuntimeError(f"expected {status}, got {response[0]}: {str(response[1])[:300]}")


def run(ctx: Context) -> list[Figure]:
    total, warmup, step = (3000, 1000, 500) if ctx.quick else (10_000, 2000, 1000)
    database = create_database("portal_bench_memory")
    data = in_django(
        "bench.scenarios._portal:prepare", database=database, citizens=CONNECTIONS, clerks=True,
        routed=40, applications_each=LIST_PAGE + 5,
    )  # fmt: skip
    clerk_slug = "tax"
    cases = data["cases"][clerk_slug]
    series: list[tuple[int, dict[int, float]]] = []
    server = gunicorn_server(
        database, workers=WORKERS, PORTAL_BROKER_KEYPREFIX=KEYPREFIX, MALLOC_ARENA_MAX=ARENAS
    )
    with server as (url, master):
        workers = _workers(master.pid, WORKERS)
        lock = threading.Lock()
        sent = 0
        failures: list[BaseException] = []

        def client(n: int, until: int) -> None:
            nonlocal sent
            mix = _mix(
                HttpClient(url, token=data["citizens"][n]),
                HttpClient(url, token=data["clerks"][clerk_slug]),
                HttpClient(url),
                cases,
            )
            i = n  # each connection starts at a different point of the mix
            try:
                while True:
                    with lock:
                        if sent >= until:
                            return
                    done = mix[i % len(mix)]()
                    i += 1
                    with lock:
                        sent += done
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        series.append((0, {pid: rss_mb(pid) for pid in workers}))
        for until in range(step, total + 1, step):
            threads = [threading.Thread(target=client, args=(n, until)) for n in range(CONNECTIONS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise RuntimeError("a request of the mix failed") from failures[0]
            series.append((sent, {pid: rss_mb(pid) for pid in workers}))
            print(
                f"  {sent:6} requests  RSS "
                + ", ".join(f"{rss:.1f}" for rss in series[-1][1].values())
                + " MB",
                flush=True,
            )
        if children(master.pid) != workers:
            raise RuntimeError("a gunicorn worker was restarted during the run")
    redis_delete_prefix(KEYPREFIX)  # the wake-up messages no worker consumed here
    return _figures(series, warmup, ctx)


def _figures(series: list[tuple[int, dict[int, float]]], warmup: int, ctx: Context) -> list[Figure]:
    after_warmup = next(rss for sent, rss in series if sent >= warmup)
    final_sent, final = series[-1]
    growth = max(final[pid] - after_warmup[pid] for pid in final)
    peak = max(max(rss.values()) for _sent, rss in series)
    extra = {
        "requests": final_sent,
        "warmup_requests": warmup,
        "connections": CONNECTIONS,
        "server": f"gunicorn gthread, 2 workers x 8 threads, MALLOC_ARENA_MAX={ARENAS}",
        "series_mb": [[sent, [round(v, 1) for v in rss.values()]] for sent, rss in series],
    }
    return [
        Figure(
            "memory",
            f"worker RSS after {final_sent:,} requests (max)",
            max(final.values()),
            "MB",
            target=f"< {RSS_LIMIT_MB:g} MB",
            met=peak < RSS_LIMIT_MB,
            extra=extra,
        ),
        Figure(
            "memory",
            f"RSS growth {warmup:,} -> {final_sent:,} requests (max)",
            growth,
            "MB",
            target=f"<= {GROWTH_LIMIT_MB:g} MB",
            met=growth <= GROWTH_LIMIT_MB,
        ),
    ]
