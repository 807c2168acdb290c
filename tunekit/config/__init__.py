"""Arguments: the dataclasses and parser, the checks of contradictory settings, the resolve step, --help."""
