"""A score as the card, the closing table and report pages print it."""


def with_interval(results: dict, key: str, brackets: str = "[]") -> str:
    """`0.8031 [0.7913, 0.8149]`: a score and its 95% interval, where the run has one; "" where it has no score."""
    if key not in results:
        return ""
    if f"{key}_ci_low" not in results:
        return f"{results[key]:.4f}"
    return f"{results[key]:.4f} {brackets[0]}{results[f'{key}_ci_low']:.4f}, {results[f'{key}_ci_high']:.4f}{brackets[1]}"
