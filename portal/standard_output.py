"""Documents written to standard output whole, or a non-zero exit that says why.

A proof bundle, a checkpoint or a case file piped into another program is only worth
anything complete. Python's own streams do not promise that: with PYTHONUNBUFFERED=1
standard output is unbuffered, each write is one `write(2)`, and when the descriptor is
non-blocking (a pipe shares that flag with whoever else holds it) the kernel takes what
fits in the pipe, 64 KiB, and the rest was silently dropped while the command exited 0.
So every document goes through `write_document`: it loops until the kernel has taken
every byte, waits for the reader when the pipe is full, and turns a reader that went
away, or any other failure to write, into a message on standard error and exit status
`WRITE_FAILED`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import sys

import click

WRITE_FAILED = 74  # EX_IOERR from sysexits.h: an error while doing I/O on a file


class OutputFailed(click.ClickException):
    """Standard output did not take the whole document."""

    exit_code = WRITE_FAILED

    def show(self, file: object = None) -> None:
        # Straight to the descriptor: standard error may be as unreliable as standard
        # output was, and click's echo would go through the same kind of stream.
        message = f"Error: {self.format_message()}\n".encode(errors="replace")
        with contextlib.suppress(OSError):
            _write_all(sys.stderr.fileno(), message)


def write_document(document: str | bytes, *, newline: bool = False) -> None:
    """Write `document` (text as UTF-8) to standard output, all of it, after whatever
    Python had buffered there.

    Raises `OutputFailed` (exit 74, a message on standard error) when standard output
    will not take it: the reader closed the pipe, the disk is full, and the like.
    """
    data = document.encode() if isinstance(document, str) else document
    if newline:
        data += b"\n"
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError):  # io.UnsupportedOperation is a ValueError too
        # An in-memory stream (click's CliRunner, a capture): its write takes everything.
        binary = getattr(stream, "buffer", None)
        if binary is not None:
            binary.write(data)
        else:
            stream.write(data.decode())
        stream.flush()
        return
    try:
        # Whatever click or print left in Python's buffers goes first, in order.
        stream.flush()
        _write_all(fd, data)
    except OSError as exc:
        _quiet_stdout()
        raise OutputFailed(_reason(exc, len(data), getattr(exc, "written", 0))) from exc


def _write_all(fd: int, data: bytes) -> int:
    """`os.write` until every byte is taken, waiting on a full non-blocking descriptor."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        try:
            done += os.write(fd, view[done:])
        except BlockingIOError:
            # The pipe is full and the descriptor non-blocking: wait until the reader
            # makes room. A reader that never reads again holds us here, as it would
            # any blocking writer (`cat` included); one that exits gives EPIPE.
            select.select([], [fd], [])
        except InterruptedError:
            continue
        except OSError as exc:
            exc.written = done  # type: ignore[attr-defined]
            raise
    return done


def _reason(exc: OSError, total: int, written: int) -> str:
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        cause = "the program reading it closed the pipe"
    else:
        cause = exc.strerror or str(exc)
    return (
        f"standard output took {written} of {total} bytes: {cause}. "
        "The document is incomplete; run the command again, or write it to a file."
    )


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's flush at exit does not fail
    again on the broken descriptor (the advice in Python's `signal` documentation)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
