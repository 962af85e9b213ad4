"""One backup archive: the database, every file of the file store, and a manifest, in the
encrypted container of `backups.stream`.

Inside the container the parts follow one another, each as

    "P" ‖ length (4) ‖ JSON {"name", "kind"} ‖ blocks (length (4) ‖ bytes)… ‖ 0 (4)

and "E" ends the archive. The manifest comes last: it records the size and SHA-256 of every
part before it, so reading an archive to its end proves every byte of it. A restore reads the
archive twice: once to verify everything (writing nothing), then to write.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from . import database
from .keys import backup_key, backup_keys
from .stream import ArchiveError, EncryptedWriter, decrypt_chunks

FORMAT = 1
SUFFIX = ".pbak"
BLOCK = 1024 * 1024


def portal_version() -> str:
    try:
        return metadata.version("citizen-portal")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- Writing ------------------------------------------------------------------------------------


class _PartWriter:
    def __init__(self, out: EncryptedWriter) -> None:
        self.out = out
        self.parts: list[dict[str, Any]] = []

    def part(self, name: str, kind: str) -> _Part:
        meta = json.dumps({"name": name, "kind": kind}).encode()
        self.out.write(b"P" + struct.pack(">I", len(meta)) + meta)
        return _Part(self, name, kind)

    def end(self) -> None:
        self.out.write(b"E")


class _Part:
    def __init__(self, writer: _PartWriter, name: str, kind: str) -> None:
        self.writer, self.name, self.kind = writer, name, kind
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self.writer.out.write(struct.pack(">I", len(data)))
            self.writer.out.write(data)
            self.hash.update(data)
            self.size += len(data)

    def close(self) -> dict[str, Any]:
        self.writer.out.write(struct.pack(">I", 0))
        entry = {"name": self.name, "kind": self.kind, "size": self.size}
        entry["sha256"] = self.hash.hexdigest()
        self.writer.parts.append(entry)
        return entry


def _copy_file(path: Path, part: _Part) -> None:
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            part.write(block)
    part.close()


def _store_files(media_root: Path) -> Iterator[tuple[str, Path]]:
    """Every file of the file store, as (path relative to it, absolute path)."""
    if not media_root.is_dir():
        return
    for folder, _dirs, names in sorted(os.walk(media_root)):
        for name in sorted(names):
            path = Path(folder) / name
            yield path.relative_to(media_root).as_posix(), path


def write_archive(
    *, settings_dict: dict[str, Any], media_root: Path, folder: Path
) -> tuple[Path, dict[str, Any]]:
    """Write a new archive into `folder`; return its path and manifest. The archive appears
    under its final name only once complete."""
    folder.mkdir(parents=True, exist_ok=True)
    kid, key = backup_key()
    vendor = database.engine(settings_dict)
    created = timezone.now()
    name = f"portal-{created.strftime('%Y%m%dT%H%M%S%fZ')}{SUFFIX}"
    final = folder / name
    partial = folder / f".{name}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb", buffering=BLOCK) as raw:
            out = EncryptedWriter(raw, kid, key)
            parts = _PartWriter(out)
            if vendor == "postgresql":
                with database.pg_snapshot(settings_dict) as (cursor, snapshot):
                    found = database.facts(cursor, vendor)
                    dump = parts.part("database.dump", "database")
                    database.pg_dump(settings_dict, snapshot, dump.write)
                    dump.close()
            else:
                with tempfile.TemporaryDirectory(prefix="portal-backup-") as scratch:
                    copy = Path(scratch) / "database.sqlite3"
                    database.sqlite_copy(settings_dict["NAME"], copy)
                    conn = sqlite3.connect(copy)
                    try:
                        found = database.facts(conn.cursor(), vendor)
                    finally:
                        conn.close()
                    _copy_file(copy, parts.part("database.sqlite3", "database"))
            stored = []
            for relative, path in _store_files(media_root):
                try:
                    _copy_file(path, parts.part(f"files/{relative}", "file"))
                except FileNotFoundError:
                    continue  # deleted since it was listed: a replaced or rotated file
                stored.append(relative)
            in_archive = set(stored)
            manifest = {
                "format": FORMAT,
                "created_at": created.isoformat(),
                "engine": vendor,
                "portal_version": portal_version(),
                "backup_key_id": kid,
                "migrations": found["migrations"],
                "tables": found["tables"],
                "audit": found["audit"],
                "files": len(stored),
                "missing_files": [f for f in found["attachment_files"] if f not in in_archive],
                "parts": parts.parts,
            }
            body = parts.part("manifest.json", "manifest")
            body.write(json.dumps(manifest, sort_keys=True).encode())
            body.close()
            parts.end()
            out.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.rename(partial, final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final, manifest


# --- Reading ------------------------------------------------------------------------------------


class _Plain:
    """The decrypted bytes of an archive as a stream with exact reads."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                raise ArchiveError("the archive is damaged (its contents end early)") from None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def at_end(self) -> bool:
        if self.buffer:
            return False
        for chunk in self.chunks:
            if chunk:
                self.buffer += chunk
                return False
        return True


def _u32(plain: _Plain) -> int:
    return struct.unpack(">I", plain.read(4))[0]


def _parts(source: BinaryIO, keys: dict[str, bytes]) -> Iterator[tuple[dict, Iterator[bytes]]]:
    """The parts of an archive as (meta, blocks); each part's blocks must be consumed before
    the next part is read."""
    plain = _Plain(decrypt_chunks(source, keys))
    while True:
        tag = plain.read(1)
        if tag == b"E":
            if not plain.at_end():
                raise ArchiveError("the archive is damaged (data after its end)")
            return
        if tag != b"P":
            raise ArchiveError("the archive is damaged (a part's header is wrong)")
        try:
            meta = json.loads(plain.read(_u32(plain)))
        except ValueError as exc:
            raise ArchiveError("the archive is damaged (a part's header is wrong)") from exc

        def blocks() -> Iterator[bytes]:
            while size := _u32(plain):
                yield plain.read(size)

        yield meta, blocks()


def _safe_relative(name: str) -> str:
    relative = name.removeprefix("files/")
    parts = Path(relative).parts
    if not relative or Path(relative).is_absolute() or ".." in parts:
        raise ArchiveError(f"the archive is damaged (a file has a bad name: {name!r})")
    return relative


@dataclass
class Verified:
    manifest: dict[str, Any]
    parts: list[dict[str, Any]] = field(default_factory=list)


def open_archive(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ArchiveError(f"cannot open the archive: {exc.strerror}") from exc


def verify_archive(path: Path, source: BinaryIO | None = None) -> Verified:
    """Read the whole archive (from `source`, an open handle of it, when given), authenticating
    every chunk and checking every part against the manifest, the manifest against this code's
    migrations; write nothing."""
    if source is None:
        with open_archive(path) as source:
            return verify_archive(path, source)
    seen: list[dict[str, Any]] = []
    manifest: dict[str, Any] | None = None
    source.seek(0)
    for meta, blocks in _parts(source, backup_keys()):
        digest, size, body = hashlib.sha256(), 0, bytearray()
        for block in blocks:
            digest.update(block)
            size += len(block)
            if meta.get("kind") == "manifest":
                body += block
        if meta.get("kind") == "manifest":
            manifest = json.loads(body)
        else:
            if meta.get("kind") == "file":
                _safe_relative(meta.get("name", ""))
            seen.append({**meta, "size": size, "sha256": digest.hexdigest()})
    if manifest is None:
        raise ArchiveError("the archive is damaged (it has no manifest)")
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"the archive's format {manifest.get('format')!r} is not known here")
    if manifest.get("parts") != seen:
        raise ArchiveError("the archive is damaged (its parts differ from its manifest)")
    if sum(1 for p in seen if p["kind"] == "database") != 1:
        raise ArchiveError("the archive is damaged (it must hold exactly one database)")
    _check_migrations(manifest)
    return Verified(manifest, seen)


def _check_migrations(manifest: dict[str, Any]) -> None:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest.get("migrations", {}).items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise ArchiveError(
            "the archive comes from a newer version of the portal (migrations unknown here: "
            + ", ".join(unknown[:5])
            + "); restore it with that version"
        )


def restore_archive(
    source: BinaryIO,
    *,
    verified: Verified,
    write_database: Callable[[str], Callable[[bytes], None]],
    finish_database: Callable[[], None],
    abort_database: Callable[[], None],
    media_root: Path,
) -> int:
    """Write a verified archive, read again from the same open handle `source`: the database
    part through `write_database(engine)` (then `finish_database()`, or `abort_database()`
    when it differs from the verified one), the files into `media_root`. Each part's SHA-256
    is compared with the verified manifest before it is committed, so a file changed between
    the two reads is never written. Returns how many files were written."""
    files = 0
    expected = iter(verified.parts)
    source.seek(0)
    for meta, blocks in _parts(source, backup_keys()):
        kind = meta.get("kind")
        if kind == "manifest":
            for _block in blocks:
                pass
            continue
        want = next(expected, None)
        digest = hashlib.sha256()
        if kind == "database":
            write = write_database(verified.manifest["engine"])
            try:
                for block in blocks:
                    digest.update(block)
                    write(block)
                _check_part(meta, digest, want)
            except BaseException:
                abort_database()
                raise
            finish_database()
        elif kind == "file":
            target = media_root / _safe_relative(meta["name"])
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.restoring")
            try:
                with open(tmp, "wb") as out:
                    for block in blocks:
                        digest.update(block)
                        out.write(block)
                _check_part(meta, digest, want)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, target)
            files += 1
        else:
            for _block in blocks:
                pass
    return files


def database_blocks(source: BinaryIO) -> Iterator[bytes]:
    """The database part's blocks of an open archive, read from its start."""
    source.seek(0)
    for meta, blocks in _parts(source, backup_keys()):
        if meta.get("kind") == "database":
            yield from blocks
            return
        for _block in blocks:
            pass


def _check_part(meta: dict[str, Any], digest, want: dict[str, Any] | None) -> None:
    if (
        want is None
        or want.get("name") != meta.get("name")
        or want.get("sha256") != digest.hexdigest()
    ):
        raise ArchiveError("the archive changed after it was verified (a part differs)")


def newest_archive(folder: Path) -> Path | None:
    archives = sorted(folder.glob(f"portal-*{SUFFIX}")) if folder.is_dir() else []
    return archives[-1] if archives else None
