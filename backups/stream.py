"""The archive's encrypted container: AES-256-GCM over fixed-size chunks, each authenticated
on its own, in the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, 2015).

    header = MAGIC ‖ len(kid) ‖ kid ‖ salt (16) ‖ nonce prefix (7)
    chunk  = length (4, big-endian) ‖ AES-GCM(k, prefix ‖ counter (4) ‖ last (1), data, header)
    k      = HKDF-SHA256(backup key, salt, "portal backup archive v1")

Every chunk's nonce carries its position and whether it is the last one, and every tag covers
the header, so a chunk moved, dropped, replaced from another archive, or an archive cut short
(no chunk marked last) or extended (bytes after it) fails to decrypt. A fresh salt per archive
gives each archive its own key, so the counter never repeats a nonce under one key.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"PORTALBAK1"
CHUNK = 1024 * 1024
_TAG = 16
_LABEL = b"portal backup archive v1"


class ArchiveError(Exception):
    """The archive cannot be read: damaged, truncated, not an archive, or wrongly keyed."""


def _derive(key: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_LABEL).derive(key))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


class EncryptedWriter:
    """A file-like object that encrypts what is written to `out` in authenticated chunks;
    `close()` writes the last chunk (and must be called, or the archive reads as truncated)."""

    def __init__(self, out: BinaryIO, kid: str, key: bytes) -> None:
        salt, self._prefix = os.urandom(16), os.urandom(7)
        kid_bytes = kid.encode()
        self._header = MAGIC + bytes([len(kid_bytes)]) + kid_bytes + salt + self._prefix
        self._aead = _derive(key, salt)
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        out.write(self._header)

    def _emit(self, data: bytes, last: bool) -> None:
        if self._counter >= 2**32 - 1:
            raise ArchiveError("archive too large for one key")
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), data, self._header)
        self._out.write(struct.pack(">I", len(sealed)))
        self._out.write(sealed)
        self._counter += 1

    def write(self, data: bytes) -> int:
        self._buffer += data
        # Strictly more than a chunk: what is left for close() is never empty unless the
        # whole stream was.
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def _read_exactly(source: BinaryIO, size: int, what: str) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise ArchiveError(f"the archive is truncated ({what} cut short)")
    return data


def read_header(source: BinaryIO) -> tuple[bytes, str, bytes, bytes]:
    """(header bytes, key id, salt, nonce prefix) of an archive opened at its start."""
    magic = source.read(len(MAGIC))
    if magic != MAGIC:
        raise ArchiveError("this is not a portal backup archive (or its first bytes are damaged)")
    size = _read_exactly(source, 1, "header")[0]
    kid_bytes = _read_exactly(source, size, "header")
    salt = _read_exactly(source, 16, "header")
    prefix = _read_exactly(source, 7, "header")
    try:
        kid = kid_bytes.decode()
    except UnicodeDecodeError as exc:
        raise ArchiveError("the archive's header is damaged") from exc
    return magic + bytes([size]) + kid_bytes + salt + prefix, kid, salt, prefix


def decrypt_chunks(source: BinaryIO, keys: dict[str, bytes]) -> Iterator[bytes]:
    """The plaintext of an archive, chunk by chunk, each authenticated before it is handed
    out; raises ArchiveError at the first chunk that fails, at a missing last chunk, or at
    bytes after the last one."""
    header, kid, salt, prefix = read_header(source)
    key = keys.get(kid)
    if key is None:
        raise ArchiveError(
            f"the archive was made with the backup key {kid!r}, which is not configured "
            "(PORTAL_BACKUP_KEY, or PORTAL_BACKUP_OLD_KEYS for a retired key)"
        )
    aead = _derive(key, salt)
    counter = 0
    while True:
        raw_length = source.read(4)
        if not raw_length:
            raise ArchiveError("the archive is truncated (its last chunk is missing)")
        if len(raw_length) != 4:
            raise ArchiveError("the archive is truncated (a chunk's length is cut short)")
        (length,) = struct.unpack(">I", raw_length)
        if length < _TAG or length > CHUNK + _TAG:
            raise ArchiveError(f"the archive is damaged (chunk {counter} has a bad length)")
        sealed = _read_exactly(source, length, f"chunk {counter}")
        for last in (False, True):
            try:
                data = aead.decrypt(_nonce(prefix, counter, last), sealed, header)
            except InvalidTag:
                continue
            break
        else:
            if counter == 0:
                raise ArchiveError(
                    f"the archive cannot be decrypted with the backup key {kid!r}: the key is "
                    "wrong or the archive is damaged"
                )
            raise ArchiveError(f"the archive is damaged (chunk {counter} fails authentication)")
        yield data
        counter += 1
        if last:
            if source.read(1):
                raise ArchiveError("the archive is damaged (bytes after its last chunk)")
            return
