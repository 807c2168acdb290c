"""Every file of an output folder, named once, and what a folder's training recorded about itself.

`OutputFolder(path)` names each file the suite writes or reads there, so no stage spells a file name of its own;
`saved_run_facts` reads tunekit_args.json (the task, data arguments, seed, base model, hardware and card settings
the training used). Imports only the split table: every stage may use it."""

import json
import os
from dataclasses import dataclass

from tunekit.splits import BY_PREFIX

RUN_ARGUMENTS_FILE = "tunekit_args.json"
RUN_CONFIG_FILE = "run_config.yaml"
DATA_REPORT_NAME = "data_report"
DATA_REPORT_FILES = {f"{DATA_REPORT_NAME}.json", f"{DATA_REPORT_NAME}.txt"}
REPORT_FILE = "report.html"
REPORT_PARTS_FILE = "report_parts.json"  # what the page shows, kept so that later evaluations add to it
THRESHOLDS_FILE = "thresholds.json"
SEEDS_SUMMARY_NAME = "seeds_summary"
ONNX_FOLDER = "onnx"
TRAINER_STATE_FILE = "trainer_state.json"  # Trainer's own, in the folder and in each checkpoint


@dataclass(frozen=True)
class OutputFolder:
    """The files of one output folder (a trained model's, or a --seeds parent's)."""

    path: str

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    @property
    def name(self) -> str:
        """The folder's own name (what charts, the card and the server call the model)."""
        return os.path.basename(os.path.abspath(self.path))

    # what the run was
    run_arguments = property(lambda self: self.file(RUN_ARGUMENTS_FILE))
    run_config = property(lambda self: self.file(RUN_CONFIG_FILE))
    model_config = property(lambda self: self.file("config.json"))
    train_results = property(lambda self: self.file("train_results.json"))
    trainer_state = property(lambda self: self.file(TRAINER_STATE_FILE))
    all_results = property(lambda self: self.file("all_results.json"))
    # what people read
    card = property(lambda self: self.file("README.md"))
    report = property(lambda self: self.file(REPORT_FILE))
    report_parts = property(lambda self: self.file(REPORT_PARTS_FILE))
    training_curves = property(lambda self: self.file("training_curves.png"))
    thresholds = property(lambda self: self.file(THRESHOLDS_FILE))
    onnx = property(lambda self: self.file(ONNX_FOLDER))
    hp_trials = property(lambda self: self.file("hp_search_trials.tsv"))
    hp_best = property(lambda self: self.file("hp_search_best.json"))
    predictions = property(lambda self: self.file("predictions.txt"))  # a tagger's test split, CoNLL-style

    def class_predictions(self, task_name: str) -> str:
        """A classifier's test predictions, predict_results_<task>.txt as the official script names them."""
        return self.file(f"predict_results_{task_name}.txt")

    def data_report(self, extension: str) -> str:
        return self.file(f"{DATA_REPORT_NAME}.{extension}")

    def seeds_summary(self, extension: str) -> str:
        return self.file(f"{SEEDS_SUMMARY_NAME}.{extension}")

    def seed(self, seed: int) -> str:
        return self.file(f"seed-{seed}")

    def results(self, prefix: str) -> str:
        """{prefix}_results.json: one split's metrics."""
        return self.file(f"{prefix}_results.json")

    def results_text(self, prefix: str) -> str | None:
        """The official scripts' `key = value` file of a scored split (eval_results.txt ...), or None."""
        split = BY_PREFIX.get(prefix)
        return self.file(split.results_file) if split is not None and split.results_file else None

    def split_file(self, name: str, what: str) -> str:
        """A scored split's own file: <name>_<what> (eval_classification_report.txt, test_confusion_matrix.png)."""
        return self.file(f"{name}_{what}")

    def facts(self) -> dict:
        """What the folder's training recorded (task, data, base_model, hardware, ...); empty when it recorded nothing."""
        if not os.path.exists(self.run_arguments):
            return {}
        with open(self.run_arguments, encoding="utf-8") as stream:
            return json.load(stream)


def saved_run_facts(output_dir: str) -> dict:
    """OutputFolder(output_dir).facts()."""
    return OutputFolder(output_dir).facts()
