"""--seeds: one run per seed in its own folder, then every metric as mean and standard deviation."""

import json
import statistics

import pytest

from conftest import NER_SAMPLE, launch, run_program


def seed_flags(tiny_bert, output):
    return ["run_ner.py", "--model_name_or_path", tiny_bert, "--data_dir", NER_SAMPLE, "--output_dir", str(output),
            "--do_train", "--do_eval", "--max_train_samples", "200", "--max_eval_samples", "40", "--max_steps", "4",
            "--learning_rate", "3e-3", "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true",
            "--bootstrap_resamples", "200"]


@pytest.mark.slow
def test_each_seed_trains_into_its_folder_and_the_summary_gives_mean_and_std(tiny_bert, tmp_path):
    """--seeds starts a process per seed; the rerun is launched too, since the seeds' own log lines reach the user
    through the launching process's output, which only a launched command captures."""
    output = tmp_path / "seeds"
    result = run_program(*seed_flags(tiny_bert, output), "--seeds", "3,4")
    assert result.returncode == 0, result.stderr[-3000:]
    results = [json.loads((output / f"seed-{seed}" / "all_results.json").read_text()) for seed in (3, 4)]
    for seed in (3, 4):
        assert json.loads((output / f"seed-{seed}" / "tunekit_args.json").read_text())["seed"] == seed
        assert (output / f"seed-{seed}" / "model.safetensors").exists()
    assert results[0]["train_loss"] != results[1]["train_loss"]  # two seeds, two different runs
    summary = json.loads((output / "seeds_summary.json").read_text())
    assert summary["seeds"] == [3, 4]
    loss = summary["metrics"]["eval_loss"]
    values = [r["eval_loss"] for r in results]
    assert loss["values"] == values
    assert loss["mean"] == pytest.approx(statistics.fmean(values))
    assert loss["std"] == pytest.approx(statistics.stdev(values))
    table = (output / "seeds_summary.md").read_text()
    assert "| metric | mean ± std | seed 3 | seed 4 |" in table and "| eval_f1 |" in table
    assert "Over 2 seeds" in result.stdout
    # the seeds folder has its own page: the table and a link to each seed's report.html, which exists
    page = (output / "report.html").read_text(encoding="utf-8")
    assert "eval_f1" in page and "mean ± std" in page
    for seed in (3, 4):
        assert f"href='seed-{seed}/report.html'" in page and (output / f"seed-{seed}" / "report.html").exists()

    # the same command again continues: the finished seeds are evaluated, not trained again
    trained_at = [(output / f"seed-{s}" / "model.safetensors").stat().st_mtime_ns for s in (3, 4)]
    again = launch(*seed_flags(tiny_bert, output), "--seeds=3,4")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [(output / f"seed-{s}" / "model.safetensors").stat().st_mtime_ns for s in (3, 4)] == trained_at
    assert "not training again" in again.stdout + again.stderr


@pytest.mark.slow
def test_seeds_from_a_config_file_and_bad_seed_lists(tiny_bert, tmp_path):
    flags = seed_flags(tiny_bert, tmp_path / "from_file")[1:]
    values = {flags[i][2:]: flags[i + 1] for i in range(0, len(flags) - 1) if flags[i].startswith("--")
              and not flags[i + 1].startswith("--")}
    values = {key: int(value) if value.isdigit() else value for key, value in values.items()}
    values["learning_rate"] = 3e-3
    values.update(do_train=True, do_eval=True, seeds="5,6", max_steps=2)
    config = tmp_path / "run.json"
    config.write_text(json.dumps(values))
    result = run_program("run_ner.py", str(config))  # the seeds' processes start from here
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "from_file" / "seeds_summary.json").read_text())["seeds"] == [5, 6]
    for bad, message in (("1,x", "--seeds must be comma-separated whole numbers"), ("1,1", "--seeds names a seed twice")):
        result = run_program(*seed_flags(tiny_bert, tmp_path / "bad"), "--seeds", bad)
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]


def test_a_config_value_of_the_wrong_type_is_one_line(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"output_dir": str(tmp_path / "out"), "bootstrap_resamples": "200"}))
    result = run_program("run_ner.py", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "run.json: a value of the wrong type" in result.stderr
