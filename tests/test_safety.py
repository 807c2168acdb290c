"""No unpickling of outside files, no remote code unless asked for."""

import pathlib
import re

from tunekit.config.arguments import ModelArguments
from tunekit.modeling.loading import hub_options

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tunekit"


def sources():
    return {path: path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_no_pickle_and_torch_load_only_with_weights_only():
    for path, text in sources().items():
        assert not re.search(r"^\s*(import|from)\s+(pickle|dill|joblib)\b", text, re.M), path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)


def test_remote_code_is_off_unless_asked_for():
    assert ModelArguments().trust_remote_code is False
    assert hub_options(ModelArguments())["trust_remote_code"] is False
    assert hub_options(ModelArguments(trust_remote_code=True))["trust_remote_code"] is True
