"""Soak test of the embedded default: the `make run` stack (honcho running the Procfile's web,
worker and beat on SQLite and the filesystem broker) under a steady trickle of submissions.

    .venv/bin/python bench/soak.py --seconds 1800

It seeds a fresh runtime folder of its own (never the developer's var/), starts honcho on a free
port of 127.0.0.1, and for `--seconds` creates and submits one moving-house application through
the API every `--interval` seconds (at most `--max-submissions`), checking that each one is
routed (its status leaves "submitted"). It fails (exit status 1) when any process of the stack
stops, when a request fails, or when a submission is not routed within `--route-timeout`
seconds. Only 127.0.0.1 is ever contacted. The figures are printed as one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, stop_group

BIN = Path(sys.executable).parent

ANSWERS = {
    "applicant.full_name": "王小明",
    "applicant.national_id": "11010519491231002X",
    "applicant.date_of_birth": "1990-05-17",
    "applicant.phone": "13812345678",
    "applicant.address": "北京市东城区景山前街4号",
    "move.new_address": "上海市黄浦区人民大道200号",
    "household.size": 3,
    "household.has_vehicle": True,
    "household.has_school_children": False,
    "vehicle.plate": "京A12345",
}


class Api:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def wait_healthy(port: int, honcho: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if honcho.poll() is not None:
            raise SystemExit("the stack stopped while starting")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if json.loads(r.read()).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit("the stack did not become healthy (web and a worker heartbeat)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 1800))
    )
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--max-submissions", type=int, default=5000)
    parser.add_argument("--route-timeout", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the runtime folder")
    args = parser.parse_args()

    (ROOT / "var").mkdir(exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / "var"))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PORT")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        PORTAL_VAR_DIR=str(var_dir),
        DEMO_PASSWORD="soak-password-0123456789",
        BIND_ADDRESS="127.0.0.1",
        LOG_LEVEL="INFO",
        PATH=f"{BIN}:{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    print(f"soak: runtime folder {var_dir}, port {port}", flush=True)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    token = manage(env, "issue_token", "citizen@demo.gov").strip().split()[-1]

    log_path = var_dir / "honcho.log"
    log = log_path.open("wb")
    honcho = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", str(ROOT / "Procfile"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )
    figures: dict = {"seconds": args.seconds, "interval": args.interval, "port": port}
    failures: list[str] = []
    started = time.monotonic()
    try:
        wait_healthy(port, honcho, timeout=180)
        figures["startup_seconds"] = round(time.monotonic() - started, 1)
        api = Api(port, token)
        pending: dict[str, float] = {}
        latencies: list[float] = []
        submitted = 0
        move_date = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        body = {"services": ["moving-house"], "answers": {**ANSWERS, "move.date": move_date}}
        begin = time.monotonic()
        next_at = begin

        def check_pending() -> None:
            for ref, at in list(pending.items()):
                status, data = api.call("GET", f"/api/v1/applications/{ref}/")
                if status != 200:
                    failures.append(f"GET {ref}: {status} {data}")
                    pending.pop(ref)
                elif data.get("status") != "submitted":
                    latencies.append(time.monotonic() - at)
                    pending.pop(ref)
                elif time.monotonic() - at > args.route_timeout:
                    failures.append(f"{ref} not routed after {args.route_timeout:.0f} s")
                    pending.pop(ref)

        while time.monotonic() - begin < args.seconds and submitted < args.max_submissions:
            if honcho.poll() is not None:
                failures.append(f"the stack stopped (honcho exit status {honcho.returncode})")
                break
            status, data = api.call("POST", "/api/v1/applications/", body)
            if status != 201:
                failures.append(f"create: {status} {data}")
                break
            ref = data["reference"]
            status, data = api.call("POST", f"/api/v1/applications/{ref}/submit/")
            if status != 200:
                failures.append(f"submit {ref}: {status} {data}")
                break
            submitted += 1
            pending[ref] = time.monotonic()
            check_pending()
            if failures:
                break
            next_at += args.interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        deadline = time.monotonic() + args.route_timeout
        while pending and not failures and time.monotonic() < deadline:
            if honcho.poll() is not None:
                failures.append(f"the stack stopped (honcho exit status {honcho.returncode})")
                break
            check_pending()
            time.sleep(1)
        check_pending()
        if honcho.poll() is not None and not any("stack stopped" in f for f in failures):
            failures.append(f"the stack stopped (honcho exit status {honcho.returncode})")
        latencies.sort()
        figures.update(
            ran_seconds=round(time.monotonic() - begin, 1),
            submitted=submitted,
            routed=len(latencies),
            routing_p50_seconds=round(latencies[len(latencies) // 2], 2) if latencies else None,
            routing_max_seconds=round(latencies[-1], 2) if latencies else None,
        )
    except SystemExit as exc:
        failures.append(str(exc))
    finally:
        if honcho.poll() is None:
            stop_group(honcho, timeout=30)
        log.close()
    text = log_path.read_text(errors="replace")
    # The audit log the stack kept must verify: every authenticator, the chain, and the
    # checkpoints the worker exported while it ran (AUDIT_CHECKPOINT_DIR under the folder).
    verified = subprocess.run(
        [str(BIN / "python"), "manage.py", "verify_audit", "--seal", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        audit = json.loads(verified.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        audit = {"valid": False, "reason": verified.stderr[-500:]}
    figures.update(
        audit_events=audit.get("checked"),
        audit_checkpoints_exported=audit.get("exported_checkpoints"),
    )
    if not audit.get("valid"):
        failures.append(f"the audit log does not verify: {audit.get('reason')}")
    elif not audit.get("exported_checkpoints"):
        failures.append("the worker exported no audit checkpoint")
    for marker in ("Unrecoverable error", "Traceback", "JSONDecodeError"):
        if marker in text:
            failures.append(f"{marker!r} in the stack's output")
    figures.update(ok=not failures, failures=failures[:20], log=str(log_path))
    print(json.dumps(figures, ensure_ascii=False, indent=2), flush=True)
    if failures:
        print(text[-4000:], file=sys.stderr)
    elif not args.keep:
        import shutil

        shutil.rmtree(var_dir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
