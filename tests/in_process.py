"""Run the project's programs inside the test process, as a user's command would run them, and undo what a run
changes globally so that runs cannot leak into each other or into the next test.

`run_program(*command)` takes the command a user types (`run_ner.py ...`, `run_glue.py ...`, `sh scripts/eval.sh
...`, `sh scripts/predict.sh ...`) and calls the entry point that command ends in (the script's `main()`,
tunekit.programs.cli's evaluate / predict), with stdin fed from `input_text`, stdout and stderr (the log included) captured,
and the exit code a process would have had: a `subprocess.CompletedProcess`, like `launch()` in conftest.py.
The shell scripts are one `exec python -m ...` line each; each has its own smoke test that really launches it.
"""

import contextlib
import io
import logging
import os
import random
import subprocess
import sys
import traceback

import numpy
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def entry_point(command: list) -> tuple:
    """(the function the command ends in, its argv) for a command of this project, or a ValueError."""
    first = os.path.basename(command[0])
    if first in ("run_ner.py", "run_glue.py"):
        script = script_module(first)
        return script.main, list(command[1:])
    if first == "tunekit-train":  # the console command, for a task that has no script of its own
        from tunekit.programs import cli

        return cli.train, list(command[1:])
    if first == "sh" and len(command) > 1:
        name = os.path.basename(command[1])
        from tunekit.programs import cli

        programs = {"eval.sh": cli.evaluate, "predict.sh": cli.predict}
        if name in programs:
            return programs[name], list(command[2:])
    raise ValueError(f"not a program that runs in-process: {command[:2]} (launch() it as a process)")


def script_module(name: str):
    """run_ner.py / run_glue.py imported as modules, as transformers' example tests import the official ones."""
    module_name = name[:-3]
    if module_name not in sys.modules:
        if REPO not in sys.path:
            sys.path.insert(0, REPO)
        __import__(module_name)
    return sys.modules[module_name]


def exit_code(error: SystemExit, stderr) -> int:
    """What the interpreter makes of sys.exit(value): None is 0, a number is itself, anything else is printed, 1."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=stderr)
    return 1


def _text_stream(data: bytes = b"") -> io.TextIOWrapper:
    """A text stream with a .buffer underneath, as sys.stdin/stdout/stderr have (predict.py reads stdin's bytes)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict", write_through=True)


def _contents(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8", errors="replace")


@contextlib.contextmanager
def _streams_moved(stdout, stderr):
    """Point sys.stdout/stderr, and the logging handlers that write to them (transformers' own handler was made
    at import time), at the captures for the run; empty the root logger's handlers so that the run's
    logging.basicConfig installs its own, as it does in a fresh process."""
    originals = {id(sys.stdout): stdout, id(sys.stderr): stderr, id(sys.__stdout__): stdout, id(sys.__stderr__): stderr}
    moved = []
    for handler in _all_handlers():
        # (logging.lastResort reads sys.stderr anew at each record: it has no stream of its own to move)
        if isinstance(handler, logging.StreamHandler) and id(handler.__dict__.get("stream")) in originals:
            moved.append((handler, handler.stream))
            handler.stream = originals[id(handler.stream)]
    root = logging.getLogger()
    root_handlers = root.handlers[:]
    root.handlers = []
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            yield
    finally:
        root.handlers = root_handlers
        for handler, stream in moved:
            handler.stream = stream


def _loggers() -> dict:
    """Every logger of the process by name, the root one as ""."""
    loggers = {"": logging.getLogger()}
    loggers.update((name, item) for name, item in logging.Logger.manager.loggerDict.items()
                   if isinstance(item, logging.Logger))
    return loggers


def _all_handlers() -> list:
    return [handler for logger in _loggers().values() for handler in logger.handlers]


def run_program(*command, cwd=REPO, env=None, input_text=None) -> subprocess.CompletedProcess:
    """Run a command of the project in this process; the result reads like subprocess.run's with text=True."""
    command = [str(part) for part in command]
    function, argv = entry_point(command)
    data = input_text.encode("utf-8") if isinstance(input_text, str) else (input_text or b"")
    stdin, stdout, stderr = _text_stream(data), _text_stream(), _text_stream()
    with restored_globals():
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = [command[1] if command[0] == "sh" else command[0], *argv]
        sys.stdin = stdin
        with _streams_moved(stdout, stderr):
            try:
                code = function(argv)
                code = 0 if code is None else code
            except SystemExit as error:
                code = exit_code(error, stderr)
            except Exception:  # a process would print the traceback and exit 1
                traceback.print_exc(file=stderr)
                code = 1
    return subprocess.CompletedProcess(command, code, _contents(stdout), _contents(stderr))


@contextlib.contextmanager
def restored_globals():
    """Snapshot what a run of the pipeline changes for the whole process and put it back afterwards: logger levels,
    handlers and propagation, warned-once sets, the environment, the working directory and argv, torch's thread
    count, default dtype and matmul precision, the random states of random / numpy / torch, progress bars and
    accelerate's process-wide state."""
    saved = _snapshot()
    try:
        yield
    finally:
        _restore(saved)


def _logger_states() -> dict:
    return {name: (logger.level, logger.handlers[:], logger.propagate, logger.disabled)
            for name, logger in _loggers().items()}


def _snapshot() -> dict:
    import datasets
    import transformers

    from tunekit import compat

    return {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "argv": sys.argv[:],
        "stdin": sys.stdin,
        "loggers": _logger_states(),
        "logging_disable": logging.root.manager.disable,
        "warned": set(compat._warned),
        "threads": torch.get_num_threads(),
        "dtype": torch.get_default_dtype(),
        "matmul": torch.get_float32_matmul_precision(),
        "random": random.getstate(),
        "numpy": numpy.random.get_state(),
        "torch": torch.get_rng_state(),
        "datasets_bars": not datasets.utils.are_progress_bars_disabled(),
        "transformers_bars": transformers.utils.logging.is_progress_bar_enabled(),
    }


def _restore(saved: dict) -> None:
    import datasets
    import transformers
    from accelerate.state import AcceleratorState, PartialState

    from tunekit import compat

    os.environ.clear()
    os.environ.update(saved["environ"])
    os.chdir(saved["cwd"])
    sys.argv = saved["argv"]
    sys.stdin = saved["stdin"]
    states = saved["loggers"]
    for name, item in _loggers().items():
        level, handlers, propagate, disabled = states.get(name, (logging.NOTSET, [], True, False))
        for handler in item.handlers:
            if handler not in handlers:
                handler.close()
        item.setLevel(level)
        item.handlers = handlers[:]
        item.propagate, item.disabled = propagate, disabled
    logging.disable(saved["logging_disable"])
    compat._warned.clear()
    compat._warned.update(saved["warned"])
    transformers.utils.logging.warning_once.cache_clear()
    transformers.utils.logging.info_once.cache_clear()
    torch.set_num_threads(saved["threads"])
    torch.set_default_dtype(saved["dtype"])
    torch.set_float32_matmul_precision(saved["matmul"])
    random.setstate(saved["random"])
    numpy.random.set_state(saved["numpy"])
    torch.set_rng_state(saved["torch"])
    (datasets.enable_progress_bars if saved["datasets_bars"] else datasets.disable_progress_bars)()
    (transformers.utils.logging.enable_progress_bar if saved["transformers_bars"]
     else transformers.utils.logging.disable_progress_bar)()
    # TrainingArguments and Trainer make accelerate's process-wide singletons; a fresh process starts without them
    AcceleratorState._reset_state(reset_partial_state=True)
    PartialState._reset_state()
