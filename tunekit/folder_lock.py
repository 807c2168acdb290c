"""An output folder belongs to one run at a time: the run that trains or evaluates into it holds
<folder>/.tunekit.lock (its process, host, start and what it does), taken with an exclusive create so two runs
cannot both take it. A second run stops with one line naming the first; a lock whose process is gone (kill -9, a
reboot) is recognised and taken over; predict.sh and the server refuse a folder a training is writing."""

import contextlib
import json
import os
import socket
import time
from typing import Iterator, Optional

from tunekit.errors import UserError

LOCK_FILE = ".tunekit.lock"


def process_start(pid: int) -> Optional[str]:
    """When a process started (clock ticks since boot, from /proc), so that a reused pid is not taken for the
    process that wrote a lock; None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stream:
            return stream.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def running(holder: dict) -> bool:
    """Whether the process that wrote the lock still runs (on this host; another host's run counts as running)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    started = process_start(pid)
    return started is None or holder.get("process_start") in (None, started)


def holder_of(folder: str) -> Optional[dict]:
    """What the folder's lock says (None: no lock; {} for one that cannot be read)."""
    try:
        with open(os.path.join(folder, LOCK_FILE), encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def described(holder: dict) -> str:
    where = "" if holder.get("host") == socket.gethostname() else f" on {holder.get('host')}"
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(holder["started"])) if holder.get("started") else "?"
    return f"{holder.get('doing', 'a run')} (process {holder.get('pid')}{where}, since {since})"


def check_not_training(folder: str) -> None:
    """A one-line error where a training is writing the folder (its model files may be half written)."""
    holder = holder_of(folder)
    if holder and holder.get("doing") == "training" and running(holder):
        raise UserError(f"{folder}: {described(holder)} is writing this folder; use it when the training has finished")


@contextlib.contextmanager
def folder_lock(folder: str, doing: str, logger=None) -> Iterator[None]:
    """Hold the folder's lock while the block runs ("training", "evaluation"); a one-line error where a live run
    holds it, a take-over (logged) where the run that holds it is gone."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LOCK_FILE)
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": process_start(os.getpid()),
            "started": time.time(), "doing": doing}
    for _ in range(2):
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = holder_of(folder)
            if holder and running(holder):
                raise UserError(f"{folder}: {described(holder)} is using this folder; wait for it to finish or "
                                f"choose another --output_dir (if that run is gone, delete {path})") from None
            if logger is not None:
                logger.warning("%s: the lock of %s, which is no longer running, is taken over", folder,
                               described(holder) if holder else "a run")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            continue
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(mine, stream)
        break
    else:
        raise UserError(f"{folder}: another run took its lock at the same moment; try again")
    try:
        yield
    finally:
        if holder_of(folder) == mine:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
