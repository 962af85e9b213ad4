"""CPU and queries per operation of the submit scenario, in one process with the test client
(the shared machine makes requests/s noisy; CPU time per operation is what changes are judged by).

    .venv/bin/python bench/profile_submit.py            # figures per operation
    .venv/bin/python bench/profile_submit.py --profile  # and the top of a cProfile of each,
                                                        # kept in bench/results/profile-submit-*
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, create_database, in_django

DATABASE = "portal_bench_submit2"


def measure(*, token: str, rounds: int, repeats: int, profile: bool) -> dict:
    """Run in the child: `rounds` creates, submits and note creates, `repeats` times, in batches;
    CPU ms (lower quartile and median of the batches) and queries of each."""
    from django.db import connection
    from django.test import Client

    from bench.scenarios._portal import CREATE_BODY

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    post = lambda path, body=None: client.post(  # noqa: E731
        path, json.dumps(body or {}), content_type="application/json"
    )

    def create() -> str:
        response = post("/api/v1/applications/", CREATE_BODY)
        assert response.status_code == 201, response.content
        return response.json()["reference"]

    def submit(reference: str) -> None:
        response = post(f"/api/v1/applications/{reference}/submit/")
        assert response.status_code == 200, response.content

    def note() -> None:
        assert post("/bench/notes/", {"text": "a note"}).status_code == 201

    for _ in range(20):  # warm-up: imports, connections, caches
        submit(create())
        note()
    if profile:
        return _profile(create, submit, note, rounds=rounds)
    # Small batches of each operation in turn, many times: the machine is shared, and another
    # process's burst only ever adds CPU time (cache, frequency), so the lower quartile of the
    # batches is the figure; the median is reported too.
    batch = 20
    samples: dict[str, list[float]] = {"create": [], "submit": [], "note": []}
    queries: dict[str, float] = {}

    executed = [0]

    def count(execute, sql, params, many, context):  # cheaper than a debug cursor's log
        executed[0] += 1
        return execute(sql, params, many, context)

    def timed(name: str, work) -> list:
        executed[0] = 0
        with connection.execute_wrapper(count):
            cpu = time.process_time()
            results = [work() for _ in range(batch)]
            cpu = time.process_time() - cpu
        samples[name].append(1000 * cpu / batch)
        queries[name] = executed[0] / batch
        return results

    for _ in range(repeats * max(1, rounds // batch)):
        pending = timed("create", create)
        timed("submit", lambda pending=pending: submit(pending.pop()))
        timed("note", note)
    # Queries as Django's query log counts them (BEGIN, COMMIT and savepoints included), from
    # one more operation of each outside the timing.
    from django.test.utils import CaptureQueriesContext

    logged = {}
    for name, work in (("create", create), ("note", note)):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            reference = work()
        logged[name] = len(captured)
        if name == "create":
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                submit(reference)
            logged["submit"] = len(captured)
    figures = {}
    for name, values in samples.items():
        values.sort()
        figures[name] = {
            "queries": logged[name],
            "statements_via_cursors": queries[name],
            "cpu_ms": round(values[len(values) // 4], 2),
            "cpu_ms_median": round(values[len(values) // 2], 2),
            "batches": len(values),
        }
    return figures


def _profile(create, submit, note, *, rounds: int) -> dict:
    """cProfile (CPU clock) of `rounds` of each operation, written under /tmp."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    references = [create() for _ in range(rounds)]
    operations = {
        "create": lambda i: create(),
        "submit": lambda i: submit(references[i]),
        "note": lambda i: note(),
    }
    figures = {}
    for name, operation in operations.items():
        profiler = cProfile.Profile(time.process_time)
        with CaptureQueriesContext(connection) as queries:
            cpu = time.process_time()
            profiler.enable()
            for i in range(rounds):
                operation(i)
            profiler.disable()
            cpu = time.process_time() - cpu
        RESULTS.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(RESULTS / f"profile-submit-{name}.prof")
        out = RESULTS / f"profile-submit-{name}.txt"
        with out.open("w") as f:
            stats = pstats.Stats(profiler, stream=f)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
        figures[name] = {
            "queries": len(queries) / rounds,
            "cpu_ms": round(1000 * cpu / rounds, 2),
            "profile": str(out),
            "sql": [q["sql"][:160] for q in queries.captured_queries[: len(queries) // rounds]],
        }
    return figures


def seed_and_token() -> str:
    from bench.scenarios._portal import prepare

    return prepare(citizens=1)["citizens"][0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it exists")
    args = parser.parse_args()
    database = create_database(args.database, drop=not args.reuse)
    token = in_django("bench.profile_submit:seed_and_token", database=database)
    result = in_django(
        "bench.profile_submit:measure",
        database=database,
        token=token,
        rounds=args.rounds,
        repeats=args.repeats,
        profile=args.profile,
    )
    for name, figure in result.items():
        median = f" (median {figure['cpu_ms_median']:.2f})" if "cpu_ms_median" in figure else ""
        print(f"{name:8} {figure['queries']:5.1f} queries {figure['cpu_ms']:6.2f} ms CPU{median}")
        for sql in figure.get("sql", [])[: int(figure["queries"]) + 1]:
            print("    ", sql)


if __name__ == "__main__":
    main()
