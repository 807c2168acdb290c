"""A task is a plug-in: the toy counting task (toy_task.py, kept in the tests) registers from outside the package and
trains, evaluates, predicts and serves through the suite's own programs, while no line of tunekit names it."""

import glob
import json
import os
import random

import pytest

from conftest import REPO
from in_process import run_program
from toy_task import capitalised

WORDS = ("anna", "bergen", "river", "went", "the", "to", "oslo", "met", "a", "boat", "kari", "north")


def write_data(folder, seed: int = 0) -> None:
    rng = random.Random(seed)
    for name, count in (("train.jsonl", 64), ("dev.jsonl", 16), ("test.jsonl", 16)):
        lines = []
        for _ in range(count):
            words = [word.capitalize() if rng.random() < 0.3 else word for word in rng.choices(WORDS, k=rng.randint(3, 8))]
            text = " ".join(words)
            lines.append(json.dumps({"text": text, "count": capitalised(text)}))
        (folder / name).write_text("\n".join(lines) + "\n")


@pytest.mark.slow  # trains a model
def test_a_task_registered_from_outside_the_package_trains_evaluates_predicts_and_serves(tiny_bert, tmp_path):
    from starlette.testclient import TestClient

    from tunekit import tasks

    package = glob.glob(os.path.join(REPO, "tunekit", "**", "*.py"), recursive=True)
    assert not [path for path in package if "counting" in open(path, encoding="utf-8").read().lower()]
    data, output = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    write_data(data)
    tasks.register("counting", "toy_task:TASK", "toy_task:CountingArguments")
    try:
        trained = run_program("tunekit-train", "counting", "--model_name_or_path", tiny_bert, "--data_dir", data,
                              "--output_dir", output, "--do_train", "--do_eval", "--do_predict", "--num_train_epochs",
                              "2", "--per_device_train_batch_size", "16", "--max_seq_length", "32", "--report_to", "none")
        assert trained.returncode == 0, trained.stderr[-3000:]
        results = json.loads((output / "all_results.json").read_text())
        assert {"eval_exact", "eval_mae", "predict_exact", "predict_exact_ci_low", "train_loss"} <= set(results)
        facts = json.loads((output / "tunekit_args.json").read_text())
        assert facts["task"] == "counting" and facts["task_plugin"] == "toy_task:TASK"
        assert len((output / "counts.txt").read_text().splitlines()) == 16  # its own writer, for test
        assert "texts" in (output / "data_report.txt").read_text()
        card = (output / "README.md").read_text()
        assert "tunekit-train counting" in card and "A toy: it counts capitalised words." in card
        assert "16 texts counted" in (output / "report.html").read_text()

        evaluated = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), output)
        assert evaluated.returncode == 0, evaluated.stderr[-3000:]
        assert json.loads((output / "eval_results.json").read_text())["eval_exact"] == results["eval_exact"]

        predicted = run_program("sh", os.path.join(REPO, "scripts", "predict.sh"), output,
                                input_text="Anna met Bergen\nthe river\n")
        assert predicted.returncode == 0, predicted.stderr[-3000:]
        records = [json.loads(line) for line in predicted.stdout.splitlines()]
        assert [record["text"] for record in records] == ["Anna met Bergen", "the river"]
        assert all(isinstance(record["value"], float) for record in records)

        from tunekit.programs.serve import make_app

        with TestClient(make_app(str(output))) as client:
            answer = client.post("/predict", json=["Anna met Bergen"])
            assert answer.status_code == 200 and answer.json() == records[:1]
            assert client.get("/health").json()["task"] == "counting"
            assert "Counting model out" in client.get("/").text

        # a task whose models give no soft targets cannot teach: one line, not an AttributeError
        student = run_program("tunekit-train", "counting", "--data_dir", data, "--output_dir", tmp_path / "student",
                              "--do_train", "--distill_from", output, "--max_seq_length", "32", "--report_to", "none")
        assert student.returncode == 2 and "Traceback" not in student.stderr, student.stderr[-3000:]
        assert student.stderr.strip().splitlines()[-1].endswith(
            "--distill_from: counting models cannot be distilled (the task gives no soft targets)")
    finally:
        del tasks.TASKS["counting"]
    # a new process knows no plug-in: the folder says where its task lives
    from tunekit.programs.predict import load_predictor

    assert load_predictor(str(output)).records(["Anna met Bergen"])[0]["value"] == records[0]["value"]
    del tasks.TASKS["counting"]
