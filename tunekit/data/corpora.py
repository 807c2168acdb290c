"""Several corpora in one run (--corpora): each named, with its own data, its own map of its labels onto the
unified label set, and its own weight.

On the command line each item is `NAME=PATH` (a folder of train/dev/test files, or one training file),
`NAME.KEY=VALUE` (a key of that corpus: weight=2, map=person:PER,location:LOC,other:O, annotates=PER,ORG,
train_file=..., any data key below), or a .yaml/.json file holding the list. In a configuration file `corpora:`
holds the list itself, one mapping per corpus:

    corpora:
      - {name: conll, data_dir: data/conll2003}
      - {name: btc, data_dir: data/btc, weight: 2, label_map: {person: PER, other: O}}

A map sends a corpus's entity type (its tags' type, after the scheme is read as IOB2) to a unified type, or to O
(`O`, empty, or null). A type a mapped corpus uses must be mapped or be a unified type already. What a corpus
annotates is the unified types it maps onto (or `annotates`, given): training does not count the others as wrong
on its sentences, and its scores count only them.
"""

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Optional

from tunekit.config.arguments import nearest, read_config_file
from tunekit.errors import UserError

# the data arguments a corpus may set for itself; the rest (lengths, context, heads) are the run's
DATA_KEYS = ("data_dir", "train_file", "validation_file", "test_file", "dataset_name", "dataset_config_name",
             "file_format", "label_column", "text_column_name", "label_column_name", "strip_token_suffix",
             "validation_split_percentage")
CORPUS_KEYS = ("name", *DATA_KEYS, "label_map", "weight", "annotates")
PATH_KEYS = ("data_dir", "train_file", "validation_file", "test_file")
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
OUTSIDE = "O"


@dataclass(frozen=True)
class Corpus:
    """One corpus of a run: its name, its data arguments, its label map (its type -> unified type, None for O),
    its weight and, where given, the unified types it annotates."""

    name: str
    data: dict
    label_map: dict
    weight: float = 1.0
    annotates: Optional[tuple] = None

    def data_arguments(self, data_args: Any) -> Any:
        """The run's data arguments reading this corpus: its own source (and the keys it sets) instead of the run's."""
        sources = {key: None for key in ("data_dir", "train_file", "validation_file", "test_file", "dataset_name",
                                         "dataset_config_name")}
        own = {item.name: item.default for item in dataclasses.fields(data_args) if item.name.startswith("corpus_")}
        return dataclasses.replace(data_args, **{**sources, **self.data, **own}, corpora=None)

    def as_mapping(self) -> dict:
        """The corpus as a configuration file lists it, its paths made absolute (run_config.yaml replays it from
        any folder)."""
        data = {key: os.path.abspath(value) if key in PATH_KEYS else value for key, value in self.data.items()}
        annotates = {"annotates": list(self.annotates)} if self.annotates is not None else {}
        return {"name": self.name, **data, "weight": self.weight, "label_map": dict(self.label_map), **annotates}

    def unified(self, kind: str) -> Optional[str]:
        """The unified type of one of its types (None: O); a type it does not map stays as it is."""
        return self.label_map.get(kind, kind)


def corpora_of(value: Any) -> list:
    """The corpora a --corpora value describes (command-line items, a configuration file's list, or a file of it),
    checked: names, keys, weights and maps; one UserError naming the corpus otherwise."""
    if not value:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(items) == 1 and isinstance(items[0], str) and items[0].endswith(CONFIG_SUFFIXES) and "=" not in items[0]:
        return corpora_of_file(items[0])
    if all(isinstance(item, dict) for item in items):
        return checked([corpus_of_mapping(item, f"--corpora item {number}") for number, item in enumerate(items, 1)])
    if all(isinstance(item, str) for item in items):
        return checked(corpora_of_items(items))
    raise UserError("--corpora: give NAME=PATH and NAME.KEY=VALUE items, or a list of mappings, one per corpus")


def corpora_of_file(path: str) -> list:
    if not os.path.isfile(path):
        raise UserError(f"--corpora {path}: no such file")
    values: Any = read_corpora_file(path)
    if isinstance(values, dict) and "corpora" in values:
        values = values["corpora"]
    if not isinstance(values, list) or not all(isinstance(item, dict) for item in values):
        raise UserError(f"{path}: expected a list of corpora (a mapping each, with a name), or a `corpora:` key holding one")
    return checked([corpus_of_mapping(item, f"{path}: corpus {number}") for number, item in enumerate(values, 1)])


def read_corpora_file(path: str) -> Any:
    import yaml

    if not path.endswith(".json"):
        with open(path, encoding="utf-8") as stream:
            try:
                values = yaml.safe_load(stream)
            except yaml.YAMLError as error:
                raise UserError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
        if isinstance(values, list):
            return values
    return read_config_file(path)


def corpora_of_items(items: list) -> list:
    """NAME=PATH and NAME.KEY=VALUE items, in any order, as mappings; then as corpora."""
    mappings: dict = {}
    for item in items:
        key, separator, value = item.partition("=")
        name, dot, field = key.partition(".")
        if not separator or not name:
            raise UserError(f"--corpora: '{item}' is neither NAME=PATH, NAME.KEY=VALUE nor a .yaml/.json file of corpora")
        mapping = mappings.setdefault(name, {"name": name})
        if not dot:
            if "path" in mapping:
                raise UserError(f"--corpora: two corpora are named '{name}'")
            mapping["path"] = value
            continue
        if field in mapping:
            raise UserError(f"--corpora: corpus '{name}' sets {field} twice")
        mapping[field] = item_value(name, field, value)
    corpora = []
    for name, mapping in mappings.items():
        path = mapping.pop("path", None)
        if path is not None:
            mapping["data_dir" if os.path.isdir(path) or not os.path.splitext(path)[1] else "train_file"] = path
        corpora.append(corpus_of_mapping(mapping, f"corpus '{name}'"))
    return corpora


def item_value(name: str, field: str, value: str) -> Any:
    """A command-line value as the configuration file would hold it: a map as a mapping, annotates as a list."""
    if field in ("map", "label_map"):
        pairs = [part.partition(":") for part in value.split(",") if part.strip()]
        if any(not separator or not source.strip() for source, separator, _ in pairs):
            raise UserError(f"corpus '{name}': {field}={value}: write the map as THEIRS:UNIFIED pairs separated by "
                            "commas, e.g. person:PER,other:O")
        return {source.strip(): target.strip() for source, _, target in pairs}
    if field == "annotates":
        return [kind.strip() for kind in value.split(",") if kind.strip()]
    return value


def corpus_of_mapping(mapping: dict, where: str) -> Corpus:
    name = mapping.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{where}: no name (each corpus needs one: `name: conll`, or conll=PATH on the command line)")
    label = f"corpus '{name}'"
    if any(character in name for character in ".=/ \t"):
        raise UserError(f"{label}: a name of letters, digits, - and _ only (it names the corpus in flags and results)")
    keys = {"map": "label_map", **{key: key for key in CORPUS_KEYS}}
    unknown = [key for key in mapping if key not in keys]
    if unknown:
        raise UserError(f"{label}: unknown key '{unknown[0]}'{nearest(unknown[0], list(CORPUS_KEYS) + ['map'])}")
    values = {keys[key]: value for key, value in mapping.items()}
    data = {key: values[key] for key in DATA_KEYS if values.get(key) is not None}
    if not any(data.get(key) for key in ("data_dir", "train_file", "validation_file", "test_file", "dataset_name")):
        raise UserError(f"{label}: no data (give {name}=PATH, or a data_dir, train_file or dataset_name key)")
    for key in ("label_column", "validation_split_percentage"):
        if key in data:
            data[key] = number_of(label, key, data[key], int)
    weight = number_of(label, "weight", values.get("weight", 1.0), float)
    if not weight > 0:
        raise UserError(f"{label}: weight must be above 0, not {values['weight']}")
    label_map = values.get("label_map") or {}
    if not isinstance(label_map, dict):
        raise UserError(f"{label}: label_map must map its labels onto unified ones (a mapping), not {label_map!r}")
    label_map = {str(source): unified_name(target) for source, target in label_map.items()}
    annotates = values.get("annotates")
    if annotates is not None:
        if isinstance(annotates, str):
            annotates = [kind.strip() for kind in annotates.split(",") if kind.strip()]
        if not isinstance(annotates, list) or not annotates:
            raise UserError(f"{label}: annotates lists the unified types the corpus annotates, e.g. [PER, ORG, LOC]")
        annotates = tuple(str(kind) for kind in annotates)
    return Corpus(name, data, label_map, weight, annotates)


def number_of(label: str, key: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{label}: {key} must be a number, not {value!r}") from None


def unified_name(target: Any) -> Optional[str]:
    """A map's target: a unified type, or None for O (written O, empty or null)."""
    if target is None:
        return None
    text = str(target).strip()
    return None if text in ("", OUTSIDE, "o", "None", "null") else text


def checked(corpora: list) -> list:
    seen: set = set()
    for corpus in corpora:
        if corpus.name in seen:
            raise UserError(f"--corpora: two corpora are named '{corpus.name}'")
        seen.add(corpus.name)
    return corpora
