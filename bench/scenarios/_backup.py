"""The backup scenario's work inside Django (`bench.common.in_django`): the portal's backup
and restore of the scenario's database, each beside plain `pg_dump -Fc` / `pg_restore` of the
same database in the same run, alternating (ABBA) so the machine's load falls on both alike."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def measure(runs: int, events: int) -> dict:
    from django.conf import settings
    from django.db import connection

    from backups import actions, database
    from bench.scenarios._audit import fill

    if events:
        fill(events)
    settings_dict = dict(connection.settings_dict)
    params = database.pg_params(settings_dict)
    env = database.pg_env(params)
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    settings.PORTAL_BACKUP_DIR = str(folder / "archives")
    times: dict[str, list[float]] = {"backup": [], "pg_dump": [], "restore": [], "pg_restore": []}
    sizes: dict[str, int] = {}
    try:
        plain = folder / "plain.dump"

        def backup() -> None:
            start = time.perf_counter()
            path, _manifest = actions.backup_create(keep=1)
            times["backup"].append(time.perf_counter() - start)
            sizes["archive"] = path.stat().st_size

        def dump() -> None:
            start = time.perf_counter()
            subprocess.run(
                ["pg_dump", "--format=custom", "--no-sync", f"--file={plain}"], env=env, check=True
            )
            times["pg_dump"].append(time.perf_counter() - start)
            sizes["pg_dump"] = plain.stat().st_size

        def restore() -> None:
            path = actions.newest_archive(Path(settings.PORTAL_BACKUP_DIR))
            target = database.pg_scratch_create(settings_dict)
            media = folder / "restored-media"
            try:
                start = time.perf_counter()
                actions.restore_into(
                    path, settings_dict=settings_dict, target=target, media_root=media
                )
                times["restore"].append(time.perf_counter() - start)
            finally:
                database.pg_scratch_drop(settings_dict, target["dbname"])
                shutil.rmtree(media, ignore_errors=True)

        def pg_restore() -> None:
            target = database.pg_scratch_create(settings_dict)
            try:
                start = time.perf_counter()
                subprocess.run(
                    ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error",
                     "--single-transaction", f"--dbname={target['dbname']}", str(plain)],
                    env=database.pg_env(target),
                    check=True,
                )  # fmt: skip
                times["pg_restore"].append(time.perf_counter() - start)
            finally:
                database.pg_scratch_drop(settings_dict, target["dbname"])

        for n in range(runs):
            for step in (backup, dump) if n % 2 == 0 else (dump, backup):
                step()
            for step in (restore, pg_restore) if n % 2 == 0 else (pg_restore, restore):
                step()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM workflows_case")
            cases = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM audit_auditevent")
            audit_events = cursor.fetchone()[0]
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "times": times,
        "sizes": sizes,
        "cases": cases,
        "events": audit_events,
        "database_bytes": db_bytes,
    }
