"""Shared fixtures: tiny random BERT and RoBERTa models built from configs, so tests run fast and offline."""

import contextlib
import os
import subprocess
import sys

import pytest

from in_process import restored_globals, run_program  # noqa: F401 (run_program is imported by the tests)

pytest_plugins = ["folders"]  # the shared trained folders

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(REPO, "data", "samples")
NER_SAMPLE = os.path.join(REPO, "data", "ner_sample")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest -n N: N workers share the cores, one torch thread each
    import torch

    torch.set_num_threads(1)


def tiny_config(config_class, vocab_size, **extra):
    return config_class(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        **extra,
    )


@contextlib.contextmanager
def seeded(seed: int = 0):
    """The same random weights in every run, whatever ran before on the worker (a session fixture is made when its
    first test asks, under whatever random state that test left); the process's random state is left as it was."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A random 2-layer BERT with the offline MiniLM's WordPiece tokenizer (uncased)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from tunekit.modeling.loading import default_model_path

    folder = str(tmp_path_factory.mktemp("tiny_bert"))
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    with seeded():
        BertModel(tiny_config(BertConfig, tokenizer.vocab_size)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory):
    """A random 2-layer RoBERTa with a byte-level BPE tokenizer trained on the bundled sample."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    folder = str(tmp_path_factory.mktemp("tiny_roberta"))
    bpe = ByteLevelBPETokenizer()
    bpe.train(
        [os.path.join(NER_SAMPLE, "train.txt")],
        vocab_size=600,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    bpe.save_model(folder)
    tokenizer = RobertaTokenizerFast(
        vocab_file=os.path.join(folder, "vocab.json"), merges_file=os.path.join(folder, "merges.txt")
    )
    tokenizer.model_max_length = 126
    config = tiny_config(RobertaConfig, len(tokenizer), pad_token_id=1, bos_token_id=0, eos_token_id=2)
    config.max_position_embeddings = 130
    with seeded():
        RobertaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def launch(*args, cwd=REPO, env=None, input_text=None):
    """Start a command as a real process, for the tests whose subject is the process boundary (launchers, kill -9,
    the installed wheel, --help without torch, the shell scripts' smoke tests, the server): the completed process."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, *args] if args[0].endswith(".py") or args[0] == "-m" else list(args),
        cwd=cwd,
        env=full_env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=600,
    )


CHROMIUM_MISSING = ("Chromium is not installed (apt-get install -y chromium needs root); the tests that render a page "
                    "in it are skipped, every other test runs")


def chromium_binary() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


# The files that take longest (40 to 130 s of one worker each on the AVX2 machine), those that start processes
# (launchers, --seeds, the wheel) taking turns with those that train in-process, so that the two workers do not both
# run several processes at once: a scheduling hint only, a file missing here starts in its collection order.
LONGEST_FILES = ("test_multiprocess.py", "test_pooling.py", "test_seeds.py", "test_onnx_runtime.py", "test_launchers.py",
                 "test_distillation.py", "test_serving.py", "test_training_options.py", "test_package.py",
                 "test_bilstm.py", "test_scripts.py", "test_document_context.py", "test_run_ner_e2e.py", "test_types.py")


def pytest_collection_modifyitems(config, items):
    """The longest files first (LONGEST_FILES), so that the two workers, which take a file at a time, end together
    instead of one finishing a long file alone. Without Chromium (no root to install it) its tests are skipped with
    the reason; CI sets TUNEKIT_REQUIRE_CHROMIUM=1, where they run and fail instead."""
    first = {name: rank for rank, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: first.get(os.path.basename(item.nodeid.partition("::")[0]), len(first)))  # stable
    if chromium_binary() or os.environ.get("TUNEKIT_REQUIRE_CHROMIUM"):
        return
    for item in items:
        if "chromium" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=CHROMIUM_MISSING))


def chromium_dom(address: str, *flags: str) -> str:
    """The DOM headless Chromium makes of a page (a file:// or http:// address); flags such as
    --virtual-time-budget=10000 let the page's scripts run first."""
    browser = chromium_binary()
    assert browser, "headless Chromium is needed (Debian: apt-get install chromium; .ci/run installs it)"
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", *flags, "--dump-dom", address],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(autouse=True)
def isolated_globals():
    """Whatever a test's in-process runs change for the whole process (logging, environment, threads, random
    states, accelerate's state...) is put back before the next test."""
    with restored_globals():
        yield


def train_flags(model, output_dir, *extra):
    return [
        "run_ner.py",
        "--model_name_or_path", model,
        "--data_dir", NER_SAMPLE,
        "--output_dir", str(output_dir),
        "--do_train", "--do_eval", "--do_predict",
        "--max_train_samples", "600",
        "--max_eval_samples", "60",
        "--max_predict_samples", "80",
        "--num_train_epochs", "2",
        "--learning_rate", "3e-3",
        "--per_device_train_batch_size", "16",
        "--save_strategy", "epoch",
        "--save_total_limit", "1",
        "--report_to", "none",
        "--disable_tqdm", "true",
        *extra,
    ]


def quick_ner_flags(model, output_dir, *extra):
    """The quick profile, for tests of flow and files: 48 sentences, 6 steps, 16 to score, 20 resamples."""
    return train_flags(model, output_dir, "--max_train_samples", "48", "--max_eval_samples", "16",
                       "--max_predict_samples", "16", "--num_train_epochs", "1", "--per_device_train_batch_size", "8",
                       "--bootstrap_resamples", "20", *extra)


@pytest.fixture(scope="session")
def trained_ner(tiny_bert, tmp_path_factory):
    """A tiny BERT trained by run_ner.py on the bundled sample, with TensorBoard logs and an ONNX export."""
    output_dir = tmp_path_factory.mktemp("ner_bert") / "out"
    result = run_program(*train_flags(
        tiny_bert, output_dir, "--report_to", "tensorboard", "--export_onnx", "--return_entity_level_metrics",
        "--seqeval_mode", "strict", "--seqeval_scheme", "IOB2",
    ))
    assert result.returncode == 0, result.stderr[-3000:]
    return output_dir


def conll_sentences(path):
    """The rows of a CoNLL-style predictions file, split into sentences at blank lines."""
    sentences, current = [], []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                current.append(line.split())
            elif current:
                sentences.append(current)
                current = []
    return sentences
