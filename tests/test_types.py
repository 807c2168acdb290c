"""The package's types are checked: mypy (configured in pyproject.toml) passes on tunekit/, so every annotation,
string annotations included, names a type that exists and fits how the code uses it."""

import os

import pytest

from conftest import REPO


@pytest.mark.slow  # about 60 s of one worker on the slower CPU
def test_mypy_passes_on_the_package(tmp_path):
    from mypy import api

    # a fresh cache: what a checkout on a new machine gets, not what an earlier run left
    stdout, stderr, status = api.run(["--config-file", os.path.join(REPO, "pyproject.toml"), "--cache-dir",
                                      str(tmp_path / "cache"), os.path.join(REPO, "tunekit")])
    assert status == 0, stdout + stderr
    assert "Success: no issues found" in stdout
