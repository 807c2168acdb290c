"""predict.sh's progress on standard error: on a terminal one line redrawn in place (lines done, rate, time left
when the input's size is known); into a file or a pipe a plain line every PLAIN_EVERY seconds, never a carriage
return."""

import sys
import time
from typing import Optional, TextIO

PLAIN_EVERY = 30.0  # seconds between two lines into a log file
REDRAW_EVERY = 0.2  # seconds between two redraws on a terminal


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class Progress:
    """Lines answered out of `total` (None: unknown), counted from `start` (lines an earlier run answered)."""

    def __init__(self, total: Optional[int], start: int = 0, stream: TextIO = sys.stderr,
                 clock=time.monotonic):
        self.total, self.done, self.start = total, start, start
        self.stream, self.clock = stream, clock
        self.terminal = stream.isatty()
        self.began = self.shown = clock()

    def line(self) -> str:
        elapsed = max(self.clock() - self.began, 1e-9)
        rate = (self.done - self.start) / elapsed
        counted = f"{self.done:,}" + (f" of {self.total:,} lines" if self.total is not None else " lines")
        left = ""
        if self.total is not None and rate > 0 and self.done < self.total:
            left = f", {duration((self.total - self.done) / rate)} left"
        return f"Predicting: {counted} ({rate:,.1f} lines/s{left})"

    def advance(self, lines: int) -> None:
        self.done += lines
        now = self.clock()
        if now - self.shown < (REDRAW_EVERY if self.terminal else PLAIN_EVERY):
            return
        self.shown = now
        self._show()

    def _show(self) -> None:
        if self.terminal:
            self.stream.write("\r" + self.line() + "\x1b[K")
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """The last figures, on a line of their own."""
        self._show()
        if self.terminal:
            self.stream.write("\n")
            self.stream.flush()
