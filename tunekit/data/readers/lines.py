"""Read a text file line by line as UTF-8, with a clear error for bytes that are not UTF-8.

A leading BOM is dropped and CRLF / CR line ends are accepted, so files saved on Windows read as they look.
"""

import os
from typing import Iterator

from tunekit.errors import UserError, at


def check_readable(path: str) -> None:
    """Fail with a one-line error when the path is missing, a folder, or empty."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a folder, expected a file")
    if os.path.getsize(path) == 0:
        raise at(path, 1, "the file is empty")


def read_lines(path: str) -> 'Iterator[tuple[int, str]]':
    """Yield (line_number, text) for every line, without its line end; line numbers start at 1."""
    check_readable(path)
    with open(path, "rb") as handle:
        yield from decoded_lines(handle, path)


def decoded_lines(handle, where: str, undecodable: dict | None = None) -> 'Iterator[tuple[int, str]]':
    """(line_number, text) from a binary stream (a file, or standard input), named `where` in errors.

    undecodable: where a line that is not UTF-8 is a problem of that line alone (predict.sh), the error for it is
    put there under its line number, and the line is read as "".

    LF, CRLF and lone CR (old Mac files) all end a line: a CR is never dropped, which would merge two records.
    """
    number = 0
    for raw in handle:
        if number == 0 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise at(where, 1, "the file is UTF-16: save it as UTF-8")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            problem = at(where, number + 1, f"bytes that are not UTF-8 at column {error.start + 1}")
            if undecodable is None:
                raise problem from None
            number += 1
            undecodable[number] = str(problem)
            yield number, ""
            continue
        if number == 0:
            text = text.lstrip("\ufeff")
        body = text[:-1] if text.endswith("\n") else text
        body = body[:-1] if body.endswith("\r") else body
        for part in body.split("\r"):
            number += 1
            if "\x00" in part:
                raise at(where, number, "NUL bytes in the text: is the file UTF-16? save it as UTF-8")
            yield number, part


def file_signature(path: str) -> str:
    """What identifies a file's content for caching: absolute path, size and modification time."""
    stat = os.stat(path)
    return f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}"


def is_valid_unicode(text: str) -> bool:
    """False for a string that UTF-8 cannot hold: JSON's \\ud83d escapes without their other half decode to lone
    surrogates, which Arrow and the tokenizers refuse deep inside their own code."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
