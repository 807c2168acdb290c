"""predict.sh's --output FILE, written as the answers come and resumable: a rerun of the same command continues
after the last complete chunk of answers, so that kill -9 at any moment neither loses nor duplicates a line nor
leaves half of one, and the finished file is byte for byte the file of an uninterrupted run.

While a prediction runs, FILE.partial.json beside the output says what command it belongs to (the folder, the
input file with its size and modification time, the options that decide the answers, the chunk size). Answers are
appended a chunk at a time and flushed to disk; a rerun whose command matches keeps the whole chunks already
written (a chunk cut by a kill is written again: the same texts in the same batches give the same bytes) and
skips their input lines. The note is removed when the output is complete.
"""

import json
import os
from dataclasses import dataclass
from typing import Optional

from tunekit.data.readers.lines import file_signature
from tunekit.errors import UserError
from tunekit.files import atomic_write

NOTE_SUFFIX = ".partial.json"


def checked_output(path: str, input_path: Optional[str]) -> str:
    """The output path, checked before any work: not a folder, not the input itself, in a folder that exists and
    can be written to; a one-line error otherwise."""
    if os.path.isdir(path):
        raise UserError(f"--output {path}: is a folder; name a file to write the answers to")
    if input_path is not None and os.path.exists(path) and os.path.samefile(path, input_path):
        raise UserError(f"--output {path}: is the input file; the answers would replace the texts")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"--output {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UserError(f"--output {path}: cannot write there (permission denied)")
    return path


@dataclass
class Resumed:
    """What an earlier run of the same command left: the answered input lines, how many of them are error
    records, and the first error."""

    lines: int = 0
    failed: int = 0
    first_error: Optional[str] = None


class ResumableOutput:
    """Appends chunks of answer lines to `path`; `resumed` says where an earlier run of `command` stopped."""

    def __init__(self, path: str, command: dict, chunk: int):
        self.path, self.note = path, path + NOTE_SUFFIX
        self.command = dict(command, chunk=chunk)
        self.chunk = chunk
        self.resumed = self._resume()
        self.stream = open(self.path, "ab")

    @staticmethod
    def command_of(model_dir: str, input_path: Optional[str], options: dict) -> dict:
        """What identifies a prediction command. Standard input (input None) cannot be checked to give the same
        lines again: its output is always written afresh."""
        return {"model_dir": os.path.abspath(model_dir),
                "input": file_signature(input_path) if input_path is not None else None, "options": options}

    def _resume(self) -> Resumed:
        saved = None
        if os.path.isfile(self.note):
            try:
                with open(self.note, encoding="utf-8") as stream:
                    saved = json.load(stream)
            except (OSError, ValueError):
                saved = None
        if self.command["input"] is None or saved != self.command or not os.path.isfile(self.path):
            self._start_afresh()
            return Resumed()
        with open(self.path, "rb") as stream:
            complete = [line for line in stream if line.endswith(b"\n")]  # a line cut by the kill has no end
        kept = complete[:len(complete) - len(complete) % self.chunk]  # whole chunks only: a cut one is done again
        with open(self.path, "r+b") as stream:
            stream.truncate(sum(len(line) for line in kept))
        resumed = Resumed(len(kept))
        for line in kept:
            record = json.loads(line)
            if "error" in record:
                resumed.failed += 1
                resumed.first_error = resumed.first_error or record["error"]
        return resumed

    def _start_afresh(self) -> None:
        atomic_write(self.note, json.dumps(self.command, indent=1) + "\n")
        with open(self.path, "wb"):
            pass

    def write(self, lines: list) -> None:
        """One chunk's answer lines, on disk before the next chunk starts."""
        self.stream.write("".join(lines).encode("utf-8"))
        self.stream.flush()
        os.fsync(self.stream.fileno())

    def finish(self) -> None:
        """The output is complete: the note goes."""
        self.stream.close()
        os.remove(self.note)

    def close(self) -> None:
        """Stopped before the end: the note stays, so that the same command continues."""
        self.stream.close()
