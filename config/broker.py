"""kombu's filesystem transport with atomic writes: the embedded default's broker.

kombu's own transport (kombu/transport/filesystem.py) creates a message file under its final
``*.msg`` name and only then locks it and writes the body; the consumer lists the folder, moves
the file away and reads it without taking the lock. A consumer that picks a file up between its
creation and its write reads an empty or partial body, and ``json.loads`` fails with
``JSONDecodeError``, which a Celery worker treats as an unrecoverable error (it stops, and
honcho then stops the web and beat processes too). Exchange tables in the control folder have
the same flaw: a new table is created empty (``open("wb")``) before it is locked and written,
so a publisher reading it at that moment fails the same way.

Here every file is written under a temporary name that no reader looks at, flushed, and renamed
to its final name (``os.replace`` is atomic on one filesystem): a reader sees the whole file or
none. A consumed message is moved into a folder beside the queue (same filesystem, so the move
is a rename too) rather than into the system's temporary folder, which may be another
filesystem, where a move is a copy.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

# Temporary names start with a dot and end with ".tmp": kombu's readers match files by their
# ".<queue>.msg" suffix (a message) or their name (an exchange table), never these.
_TMP_PREFIX = ".writing-"


def write_atomically(folder: str | Path, name: str, data: bytes) -> None:
    """Write `data` to `folder/name` so that no reader ever sees a partial file."""
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
        os.replace(tmp, os.path.join(folder, name))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put a message on `queue`: written under a temporary name, then renamed."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        try:
            write_atomically(self.data_folder_out, name, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc

    def _get(self, queue):
        """Take the oldest message of `queue`: renamed away (one consumer wins), then read."""
        wanted = f"{queue}.msg"
        taken_folder = self._taken_folder()
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.startswith(".") or filename.partition(".")[2] != wanted:
                continue
            taken = os.path.join(taken_folder, filename)
            try:
                os.rename(os.path.join(self.data_folder_in, filename), taken)
            except OSError:  # another consumer took it first
                continue
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
                if self.store_processed:
                    os.replace(taken, os.path.join(self.processed_folder, filename))
                else:
                    os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read the message {taken!r}") from exc
            return loads(bytes_to_str(payload))
        raise Empty()

    def _taken_folder(self) -> str:
        folder = os.path.join(self.data_folder_in, ".taken")
        os.makedirs(folder, exist_ok=True)
        return folder

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        """Add a binding to the exchange table, replacing the file whole (never truncating it in
        place under a reader). The lock file serialises concurrent binders."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock(exchange):
            table = self.get_table(exchange)
            if binding in table:
                return
            table.insert(0, binding)
            try:
                write_atomically(self.control_folder, file.name, str_to_bytes(dumps(table)))
            except OSError as exc:
                raise ChannelError(f"Cannot write {file}") from exc

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        filesystem.virtual.Channel._delete(
            self, queue, exchange, routing_key, pattern, *args, **kwargs
        )
        file = self._exchange_file(exchange)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock(exchange):
            table = self.get_table(exchange)
            if binding not in table:
                return
            table.remove(binding)
            write_atomically(self.control_folder, file.name, str_to_bytes(dumps(table)))

    def _table_lock(self, exchange):
        return _FileLock(self.control_folder / f".{exchange}.lock")


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = None

    def __enter__(self) -> _FileLock:
        self.file = self.path.open("ab")
        filesystem.lock(self.file, filesystem.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        filesystem.unlock(self.file)
        self.file.close()


class FilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport with the atomic channel above."""

    Channel = Channel


def register() -> None:
    """Serve ``filesystem://`` URLs with this transport in this process (kombu resolves a URL's
    scheme through its alias table). Called by config/celery.py, which every process imports
    before it connects; a URL of another scheme (Redis) is unaffected."""
    from kombu import transport

    name = f"{__name__}:FilesystemTransport"
    if transport.TRANSPORT_ALIASES.get("filesystem") != name:
        transport.TRANSPORT_ALIASES["filesystem"] = name
        transport._transport_cache.pop("filesystem", None)
