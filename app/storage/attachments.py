"""A content-addressed file store: a file's name is the SHA-256 of its bytes.

Layout `root/ab/cd/abcd…` keeps directories small. A write goes to a temporary file in the target
directory, is flushed to disk, then renamed into place (os.replace is atomic), so a reader never sees
half a file and two writers of the same bytes cannot corrupt each other. Storing the same bytes twice
is a no-op. A file whose database row never committed is harmless: it is just unreferenced content.
"""
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")


class AttachmentStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the bytes with this digest live; refuses anything that is not a lower-case hex digest."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` (once) and return its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes, for reading; FileNotFoundError when they are not here."""
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
