"""The archive's container: every chunk authenticated, its order and its end fixed, so a
damaged, cut, extended or wrongly keyed archive is refused before anything is read from it."""

from __future__ import annotations

import io
import os
import struct

import pytest

from backups.stream import CHUNK, MAGIC, ArchiveError, EncryptedWriter, decrypt_chunks

KEY = os.urandom(32)


def sealed(data: bytes, kid: str = "b1", key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    writer = EncryptedWriter(out, kid, key)
    writer.write(data)
    writer.close()
    return out.getvalue()


def opened(blob: bytes, keys=None) -> bytes:
    return b"".join(decrypt_chunks(io.BytesIO(blob), keys or {"b1": KEY}))


def chunk_offsets(blob: bytes) -> list[int]:
    """Where each chunk (its length field) starts."""
    offset = len(MAGIC) + 1 + blob[len(MAGIC)] + 16 + 7
    offsets = []
    while offset < len(blob):
        offsets.append(offset)
        offset += 4 + struct.unpack(">I", blob[offset : offset + 4])[0]
    return offsets


DATA = os.urandom(2 * CHUNK + 1234)


@pytest.mark.parametrize("size", [0, 1, CHUNK, CHUNK + 1, 2 * CHUNK + 1234])
def test_round_trip(size):
    assert opened(sealed(DATA[:size])) == DATA[:size]


def test_last_chunk_dropped_is_truncation():
    blob = sealed(DATA)
    offsets = chunk_offsets(blob)
    assert len(offsets) == 3
    with pytest.raises(ArchiveError, match="truncated"):
        opened(blob[: offsets[-1]])


def test_cut_inside_a_chunk_is_truncation():
    blob = sealed(DATA)
    with pytest.raises(ArchiveError, match="truncated"):
        opened(blob[:-10])


def test_a_flipped_bit_anywhere_is_refused():
    blob = bytearray(sealed(DATA))
    for position in (chunk_offsets(bytes(blob))[1] + 100, len(blob) - 1):
        damaged = bytearray(blob)
        damaged[position] ^= 1
        with pytest.raises(ArchiveError, match="damaged"):
            opened(bytes(damaged))


def test_chunks_swapped_are_refused():
    blob = sealed(DATA)
    a, b, c = chunk_offsets(blob)
    swapped = blob[:a] + blob[b:c] + blob[a:b] + blob[c:]
    with pytest.raises(ArchiveError):
        opened(swapped)


def test_bytes_after_the_end_are_refused():
    with pytest.raises(ArchiveError, match="after its last chunk"):
        opened(sealed(b"x") + b"more")


def test_wrong_key_and_unknown_key_id():
    blob = sealed(b"secret")
    with pytest.raises(ArchiveError, match="key is wrong"):
        opened(blob, {"b1": os.urandom(32)})
    with pytest.raises(ArchiveError, match="not configured"):
        opened(blob, {"b2": KEY})


def test_not_an_archive():
    with pytest.raises(ArchiveError, match="not a portal backup"):
        opened(b"PK\x03\x04 a zip file")


def test_the_key_is_not_in_the_archive():
    blob = sealed(DATA)
    assert KEY not in blob
    assert b"secret" not in sealed(b"secret")


def test_the_backup_key_comes_from_the_environment_in_its_validated_form(monkeypatch, settings):
    from backups.keys import backup_key, backup_keys
    from privacy.keyring import KeyConfigurationError

    settings.PORTAL_BACKUP_KEY_FILE = ""  # as in production
    monkeypatch.delenv("PORTAL_BACKUP_KEY", raising=False)
    with pytest.raises(KeyConfigurationError, match="PORTAL_BACKUP_KEY"):
        backup_key()
    monkeypatch.setenv("PORTAL_BACKUP_KEY", "b2:not-base64!")
    with pytest.raises(KeyConfigurationError, match="base64"):
        backup_key()
    new, old = "b2:" + "B" * 43, "b1:" + "A" * 43
    monkeypatch.setenv("PORTAL_BACKUP_KEY", new)
    monkeypatch.setenv("PORTAL_BACKUP_OLD_KEYS", old)
    assert backup_key()[0] == "b2"
    assert set(backup_keys()) == {"b1", "b2"}
    monkeypatch.setenv("PORTAL_BACKUP_OLD_KEYS", "b2:" + "C" * 43)
    with pytest.raises(KeyConfigurationError, match="two different keys"):
        backup_keys()


def test_beat_schedules_backups_and_drills_as_configured():
    from celery import current_app

    from config.settings import base

    schedule = {e["task"]: e["schedule"] for e in base.CELERY_BEAT_SCHEDULE.values()}
    backup = schedule["backups.tasks.maintenance_backup"]
    drill = schedule["backups.tasks.maintenance_restore_drill"]
    assert backup.hour == {1} and backup.minute == {30}
    assert drill.hour == {4} and drill.minute == {30}
    # Both run on the maintenance queue.
    routes = current_app.conf.task_routes
    assert routes["*.tasks.maintenance_*"] == {"queue": "maintenance"}
