"""File output: a result file is either complete or absent, never half-written; output paths are checked before
the work that fills them starts.

A FILE output (``--trace-out t.json``, ``sweep --out x.csv``) must go into a folder that exists; a DIR output
(``reproduce --out reports``) may create its folder. :func:`check_output_file` and :func:`check_output_dir`
raise :class:`~archsim.base.errors.ArchsimError` naming the path, the option and what was expected, so a command
fails at once instead of after a long simulation. Written files get the usual ``0o666 & ~umask`` permissions.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from archsim.base.errors import ArchsimError


def _error(path, key: str | None, message: str) -> ArchsimError:
    return ArchsimError(message, file=str(path), key=key)


def _probe_writable(folder: Path, path, key: str | None) -> None:
    """Create and remove a temporary file in ``folder`` (the only check that also holds for root, read-only
    mounts and virtual file systems such as /proc)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".archsim-probe.", dir=folder)
    except OSError as exc:
        raise _error(path, key, f"cannot create a file in the folder {folder} ({exc.strerror or exc}); "
                                f"expected a writable folder") from None
    os.close(fd)
    os.unlink(tmp)


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` that exists (as a file or a folder)."""
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(path.anchor or ".")


def check_output_file(path: str | Path, key: str | None = None) -> Path:
    """Check, before any work, that a result file can be written at ``path``: not a directory, not a device or
    other special file, in an existing, writable folder. Returns the path."""
    if path is None or str(path).strip() == "":
        raise _error("''", key, "expected a file path, got an empty string")
    p = Path(path)
    if p.is_dir():
        raise _error(p, key, "is a directory; expected a file path")
    if p.exists() and not p.is_file():
        raise _error(p, key, "exists and is not a regular file (a device, pipe or socket); expected a file path")
    folder = p.parent
    if not folder.is_dir():
        base = _existing_ancestor(p)
        if base.is_dir():
            raise _error(p, key, f"the folder {folder} does not exist; expected a file in an existing folder "
                                 f"(create it first)")
        raise _error(p, key, f"{base} is a file, not a folder; expected a file in an existing folder")
    _probe_writable(folder, p, key)
    return p


def check_output_dir(path: str | Path, key: str | None = None) -> Path:
    """Check, before any work, that results can be written under the folder ``path``, creating it (and its
    parents) if needed. Returns the path."""
    if path is None or str(path).strip() == "":
        raise _error("''", key, "expected a folder path, got an empty string")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise _error(p, key, "is a file, not a folder; expected a folder for the results")
    if not p.exists():
        base = _existing_ancestor(p)
        if not base.is_dir():
            raise _error(p, key, f"{base} is a file, not a folder; expected a folder path")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(p, key, f"cannot create the folder ({exc.strerror or exc}); expected a writable "
                                 f"location") from None
    _probe_writable(p, p, key)
    return p


def _umask() -> int:
    """The process umask, read without changing it where the system tells it (Linux), so other threads never
    see a temporary umask of 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename. The folder must
    exist (FILE outputs never create folders; a DIR output creates its folder with :func:`check_output_dir`).
    The file gets ``0o666 & ~umask``, as ``open()`` would give it."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ArchsimError(f"cannot write the file ({exc.strerror or exc}); expected a writable, existing folder "
                           f"{path.parent}", file=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), stat.S_IMODE(0o666 & ~_umask()))
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise ArchsimError(f"cannot write the file ({exc.strerror or exc})", file=str(path)) from None
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_figure(path: str | Path, fig, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG, atomically and without a timestamp/version in the metadata (so the
    same figure gives the same bytes)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return write_bytes_atomic(path, buf.getvalue())
