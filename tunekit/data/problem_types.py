"""The problem types of classification data (as transformers names them in config.problem_type)."""

SINGLE, REGRESSION, MULTI_LABEL = "single_label_classification", "regression", "multi_label_classification"
