"""The embedded default's broker: kombu's filesystem transport let a consumer read a message
file between its creation and its write (the worker then stopped on a JSONDecodeError, and
honcho stopped the whole `make run` stack). config.broker writes every file under a temporary
name and renames it; the settings turn off the broadcast traffic (remote control, gossip,
mingle, worker heartbeats) the portal does not use."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from queue import Empty

from honcho.environ import parse_procfile
from kombu import Connection
from kombu.transport import filesystem

from config import broker

ROOT = Path(__file__).resolve().parent.parent


def channel_for(tmp_path: Path, transport=broker.FilesystemTransport):
    queue, control = tmp_path / "queue", tmp_path / "control"
    queue.mkdir(exist_ok=True)
    control.mkdir(exist_ok=True)
    conn = Connection(
        transport=transport,
        transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
        },
    )
    return conn, conn.channel()


def test_kombus_own_transport_exposes_a_message_before_its_body(tmp_path, monkeypatch):
    """The root cause, reproduced deterministically: a read between open() and write()."""
    conn, channel = channel_for(tmp_path, transport=filesystem.Transport)
    seen = []
    real_lock = filesystem.lock

    def read_during_write(f, flags):
        try:
            channel._get("routing")
        except json.JSONDecodeError as exc:
            seen.append(exc)
        return real_lock(f, flags)

    monkeypatch.setattr(filesystem, "lock", read_during_write)
    channel._put("routing", {"body": "x"})
    conn.release()
    assert seen, "kombu's transport no longer exposes partial files: config.broker may go"


def test_a_message_is_invisible_until_complete(tmp_path, monkeypatch):
    conn, channel = channel_for(tmp_path)
    during = []
    real_replace = broker.os.replace

    def read_before_rename(src, dst):
        try:
            during.append(channel._get("routing"))
        except Empty:
            during.append("empty")
        return real_replace(src, dst)

    monkeypatch.setattr(broker.os, "replace", read_before_rename)
    channel._put("routing", {"body": "x"})
    monkeypatch.setattr(broker.os, "replace", real_replace)
    assert during == ["empty"]
    assert channel._get("routing") == {"body": "x"}
    assert channel._size("routing") == 0
    conn.release()


def test_concurrent_writers_and_a_reader_lose_and_break_nothing(tmp_path):
    conn, reader = channel_for(tmp_path)
    writers = [channel_for(tmp_path) for _ in range(3)]
    per_writer = 200

    def write(channel, n):
        for i in range(per_writer):
            channel._put("routing", {"writer": n, "i": i, "pad": "x" * 2000})

    threads = [threading.Thread(target=write, args=(ch, n)) for n, (_c, ch) in enumerate(writers)]
    for t in threads:
        t.start()
    received = []
    while len(received) < 3 * per_writer:
        try:
            received.append(reader._get("routing"))
        except Empty:
            if not any(t.is_alive() for t in threads) and reader._size("routing") == 0:
                break
    for t in threads:
        t.join()
    assert sorted((m["writer"], m["i"]) for m in received) == [
        (n, i) for n in range(3) for i in range(per_writer)
    ]
    for c, _ch in [(conn, reader), *writers]:
        c.release()


def test_exchange_tables_are_replaced_whole(tmp_path):
    conn, channel = channel_for(tmp_path)
    channel._queue_bind("routing", "routing", "", "routing")
    channel._queue_bind("routing", "routing", "", "routing")  # idempotent
    channel._queue_bind("routing", "other", "", "other")
    assert [q.queue for q in channel.get_table("routing")] == ["other", "routing"]
    channel._delete("other", "routing", "other", "")
    assert [q.queue for q in channel.get_table("routing")] == ["routing"]
    leftovers = [p.name for p in (tmp_path / "control").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []
    conn.release()


def test_settings_use_the_atomic_transport_without_broadcasts(tmp_path):
    """The embedded default's settings (no REDIS_URL), in a process of their own."""
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup();"
        "from django.conf import settings as s; from config.celery import app;"
        "c = app.connection_for_write();"
        "print(s.CELERY_BROKER_URL, s.CELERY_WORKER_ENABLE_REMOTE_CONTROL,"
        " type(c.transport).__module__ + ':' + type(c.transport).__name__)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.dev", "PORTAL_VAR_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [
        "filesystem://",
        "False",
        "config.broker:FilesystemTransport",
    ]


def test_procfile_worker_runs_without_gossip_mingle_and_heartbeat():
    worker = parse_procfile((ROOT / "Procfile").read_text()).processes["worker"]
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat"):
        assert flag in worker
