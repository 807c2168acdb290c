"""Read a text file line by line as UTF-8, with a clear error for bytes that are not UTF-8.

A leading BOM is dropped and CRLF / CR line ends are accepted, so files saved on Windows read as they look.
"""

import os

from ..errors import UserError, at


def check_readable(path):
    """Fail with a one-line error when the path is missing, a folder, or empty."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a folder, expected a file")
    if os.path.getsize(path) == 0:
        raise at(path, 1, "the file is empty")


def read_lines(path):
    """Yield (line_number, text) for every line, without its line end; line numbers start at 1."""
    check_readable(path)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise at(path, number, f"bytes that are not UTF-8 at column {error.start + 1}") from None
            if number == 1:
                text = text.lstrip("\ufeff")
            yield number, text.rstrip("\r\n").replace("\r", "")


def file_signature(path):
    """What identifies a file's content for caching: absolute path, size and modification time."""
    stat = os.stat(path)
    return f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}"
