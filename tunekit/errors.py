"""One exception type for problems in the user's input, reported once at the entry point."""

import argparse
import sys
from functools import wraps
from typing import Callable, NoReturn


class UserError(Exception):
    """Bad input from the user: shown as one line on stderr, exit code 2, no traceback."""

    exit_code = 2


class Interrupted(UserError):
    """The user stopped the run (Ctrl-C, SIGTERM): one line that says what stands, the signal's exit code."""

    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code


def at(path: str, line: 'int | str | None', problem: str) -> UserError:
    """A UserError that names the file and line, in the `file:line: problem` form editors understand."""
    where = f"{path}:{line}" if line is not None else str(path)
    return UserError(f"{where}: {problem}")


def exits_cleanly_on_user_errors(main) -> 'Callable':
    """Wrap a script's main so that a UserError ends the process with one line and exit code 2."""

    @wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:  # Ctrl-C where no step saves first: files are written atomically, none is half
            print("error: interrupted (Ctrl-C)", file=sys.stderr)
            sys.exit(130)

    return wrapper


class OneLineErrors(argparse.ArgumentParser):
    """argparse for the programs: a bad flag is one line (exit 2), not the usage."""

    def error(self, message: str) -> NoReturn:  # argparse prints its usage and exits; one line instead
        raise UserError(f"{message} (see --help)")
