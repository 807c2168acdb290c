"""Files the user keeps: results as JSON and `key = value` text, reports and predictions, all written atomically."""

import json
import os
import tempfile
from contextlib import contextmanager
from typing import Iterator

from tunekit.folder import OutputFolder
from tunekit.splits import title


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# The mode every other file the user writes gets (0o644 under the usual umask 022). tempfile.mkstemp and
# safetensors create 0o600 files, which another user, a serving container or a copied folder cannot read.
FILE_MODE = 0o666 & ~_umask()


@contextmanager
def replaced_atomically(path: str) -> 'Iterator[str]':
    """Yield a temporary path beside `path` (same extension); when the block succeeds it is renamed to `path`,
    otherwise removed, so a kill or an error never leaves half a file where the user looks."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def give_usual_permissions(folder: str) -> None:
    """Every file directly in `folder` gets FILE_MODE (a saved model or checkpoint: safetensors writes 0o600)."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and not os.path.islink(path):
            os.chmod(path, FILE_MODE)


def atomic_write(path: str, text: str) -> None:
    """Write text through a temporary file and an atomic rename."""
    with replaced_atomically(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())


def write_json(path: str, value) -> None:
    atomic_write(path, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def key_value_lines(metrics: dict) -> str:
    return "".join(f"{key} = {value}\n" for key, value in sorted(metrics.items()))


def save_results(output_dir: str, split: str, metrics: dict) -> None:
    """{split}_results.json, the merged all_results.json, and for eval/predict the `key = value` text file."""
    folder = OutputFolder(output_dir)
    write_json(folder.results(split), metrics)
    all_path = folder.all_results
    merged = {}
    if os.path.exists(all_path):
        with open(all_path, encoding="utf-8") as stream:
            merged = json.load(stream)
    merged.update(metrics)
    write_json(all_path, merged)
    results_text = folder.results_text(split)
    if results_text:
        atomic_write(results_text, key_value_lines(metrics))


def chart_title(output_dir: str, split: str, what) -> str:
    """`<run>, <split>: <what>`: the run is the output folder's name."""
    return f"{OutputFolder(output_dir).name}, {title(split)}: {what}"
