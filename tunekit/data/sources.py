"""Where each split comes from (a data folder, explicit files, or the Hub) and turning a reader into a Dataset."""

import glob
import os
from typing import Iterator

import datasets

from tunekit.data.readers.lines import check_readable, file_signature
from tunekit.errors import UserError

SPLIT_FILE_STEMS = {
    "train": ("train",),
    "validation": ("dev", "valid", "validation"),
    "test": ("test",),
}
# Files in a data folder that are never data splits.
NOT_DATA = ("label", "labels", "readme", "source", "license")


def names_split(filename, stems) -> bool:
    """train.txt, train.tsv and weiboNER_2nd_conll.train all name the train split."""
    parts = filename.lower().split(".")
    if parts[0] in NOT_DATA:
        return False
    return parts[0] in stems or (len(parts) > 1 and parts[-1] in stems)


def find_split_files(data_dir) -> dict:
    """Map split name -> file for the train/dev/test files of a folder; two candidates for one split is an error."""
    if not os.path.isdir(data_dir):
        raise UserError(f"{data_dir}: --data_dir is not a folder")
    found = {}
    for split, stems in SPLIT_FILE_STEMS.items():
        candidates = sorted(
            path
            for path in glob.glob(os.path.join(data_dir, "*"))
            if os.path.isfile(path) and names_split(os.path.basename(path), stems)
        )
        if len(candidates) > 1:
            names = ", ".join(os.path.basename(path) for path in candidates)
            raise UserError(f"{data_dir}: several files could be the {split} split ({names}); pass it with --{flag(split)}")
        if candidates:
            found[split] = candidates[0]
    if not found:
        raise UserError(f"{data_dir}: no train.*, dev.* or test.* file in this folder")
    return found


def flag(split: str) -> str:
    return {"train": "train_file", "validation": "validation_file", "test": "test_file"}[split]


def resolve_split_files(data_args) -> dict:
    """Split name -> file: explicit --*_file flags win over what --data_dir holds."""
    files = find_split_files(data_args.data_dir) if data_args.data_dir else {}
    for split in SPLIT_FILE_STEMS:
        explicit = getattr(data_args, flag(split))
        if explicit:
            files[split] = explicit
    for path in files.values():
        check_readable(path)
    return files


def required_splits(training_args) -> list:
    """The splits this run reads: train for --do_train, validation for --do_eval, test for --do_predict."""
    wanted = []
    if training_args.do_train:
        wanted.append("train")
    if training_args.do_eval:
        wanted.append("validation")
    if training_args.do_predict:
        wanted.append("test")
    if not wanted:
        raise UserError("nothing to do: pass --do_train, --do_eval and/or --do_predict")
    return wanted


def dataset_from_reader(reader, path: str, options, features) -> 'datasets.Dataset':
    """Build a memory-mapped Dataset from a reader; the cache key includes the file's size and mtime."""
    try:
        dataset = datasets.Dataset.from_generator(
            generate_records,
            features=features,
            gen_kwargs={"reader": reader, "path": path, "options": options, "signature": file_signature(path)},
        )
    except datasets.exceptions.DatasetGenerationError as error:
        if isinstance(error.__cause__, UserError):
            raise error.__cause__ from None
        raise
    except ValueError as error:
        if "corresponds to no data" in str(error):  # the reader yielded nothing
            raise UserError(f"{path}: no examples found") from None
        raise
    if len(dataset) == 0:
        raise UserError(f"{path}: no examples found")
    return dataset


def stream_from_reader(reader, path: str, options, features) -> 'datasets.IterableDataset':
    """An IterableDataset reading the file lazily, for --streaming (errors surface when reached)."""
    return datasets.IterableDataset.from_generator(
        generate_records,
        features=features,
        gen_kwargs={"reader": reader, "path": path, "options": options, "signature": file_signature(path)},
    )


def first_record(dataset) -> dict:
    """The first example of a Dataset or an IterableDataset."""
    return next(iter(dataset))


def column_values(dataset, column: str) -> 'Iterator':
    """Iterate one column of a Dataset or an IterableDataset without loading the whole dataset."""
    for batch in dataset.iter(batch_size=2048):
        yield from batch[column]


def generate_records(reader, path: str, options, signature) -> 'Iterator[dict]':
    del signature  # only part of the cache key
    yield from reader(path, options)


def load_hub_dataset(data_args, model_args) -> dict:
    """A Hub dataset (streamed with --streaming), with one clear error when the Hub cannot be reached."""
    try:
        return datasets.load_dataset(
            data_args.dataset_name,
            data_args.dataset_config_name,
            cache_dir=model_args.cache_dir,
            token=model_args.token,
            streaming=data_args.streaming,
        )
    except (ConnectionError, OSError, FileNotFoundError, ValueError) as error:
        raise UserError(
            f"cannot load dataset '{data_args.dataset_name}' from the Hugging Face Hub ({str(error).splitlines()[0]}); "
            "offline, use local files with --data_dir or --train_file/--validation_file/--test_file"
        ) from None


class HeldOutSource(str):
    """The training file's path, naming a validation split held out of it (errors then say so)."""

    def __new__(cls, path, percentage):
        source = super().__new__(cls, path)
        source.percentage = percentage
        return source


def hold_out_validation(train, percentage, seed) -> tuple:
    """Split a seeded validation set off the training data when no validation file is given."""
    if not 0 < percentage < 100:
        raise UserError(
            "no validation data: pass --validation_file, a dev.* file in --data_dir, "
            "or a --validation_split_percentage between 1 and 99"
        )
    if len(train) < 2:
        raise UserError("too few training examples to hold out a validation set")
    parts = train.train_test_split(test_size=percentage / 100, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


def has_local_files(data_args) -> bool:
    """Whether the data comes from local files (a folder or any --*_file) rather than the Hub."""
    return bool(data_args.data_dir or data_args.train_file or data_args.validation_file or data_args.test_file)


def load_splits(data_args, training_args, read_file, options_for, features, hub_splits, files=None) -> dict:
    """split -> (Dataset, where it came from) for the splits this run needs.

    Data comes from the Hub (hub_splits()), from `files` (split -> path) or from --data_dir / --*_file.
    Splits beyond train/validation/test (MNLI's mismatched dev set) are evaluated with --do_eval.
    Without a validation split, one is held out of the training data.
    """
    wanted = required_splits(training_args)
    if data_args.dataset_name:
        splits = hub_splits()
        if data_args.predict_if_test_data and "test" in splits and "test" not in wanted:
            wanted.append("test")
    else:
        if files is None:
            if not has_local_files(data_args):
                raise UserError("no data: pass --data_dir, --train_file/--validation_file/--test_file, or --dataset_name")
            files = resolve_split_files(data_args)
        if data_args.predict_if_test_data and "test" in files and "test" not in wanted:
            wanted.append("test")
        if "validation" in wanted:
            wanted += [split for split in files if split not in SPLIT_FILE_STEMS]
        needs_train = "train" in wanted or ("validation" in wanted and "validation" not in files)
        splits = {
            split: (load_file(read_file, path, options_for(split), features, data_args.streaming and split == "train"), path)
            for split, path in files.items()
            if split in wanted or (split == "train" and needs_train)
        }
    if data_args.streaming:
        if training_args.do_train and training_args.max_steps <= 0:
            raise UserError("--streaming needs --max_steps: a stream has no length to count epochs by")
        if "validation" in wanted and "validation" not in splits:
            raise UserError("--streaming cannot hold out validation data from a stream: pass --validation_file")
        for split in list(splits):  # only training is streamed; evaluation needs the whole split
            if split != "train" and isinstance(splits[split][0], datasets.IterableDataset):
                stream, source = splits[split]
                splits[split] = (datasets.Dataset.from_list(list(stream), features=stream.features), source)
    if "validation" in wanted and "validation" not in splits and "train" in splits:
        train, source = splits["train"]
        held_train, held_out = hold_out_validation(train, data_args.validation_split_percentage, training_args.seed)
        splits["train"] = (held_train, source)
        # its line numbers are lines of the training file
        splits["validation"] = (held_out, HeldOutSource(source, data_args.validation_split_percentage))
    for split in wanted:
        if split not in splits:
            where = f"{data_args.data_dir}: no {split} file in this folder" if data_args.data_dir else f"no {split} data"
            raise UserError(f"{where}; pass --{flag(split)}" + ("" if split == "test" else " or a folder holding one"))
    limits = {"train": data_args.max_train_samples, "test": data_args.max_predict_samples}
    return {
        split: (first_samples(splits[split][0], limits.get(split, data_args.max_eval_samples)), splits[split][1])
        for split in wanted
    }


def load_file(read_file, path: str, options, features, streaming) -> tuple:
    if streaming:
        return stream_from_reader(read_file, path, options, features)
    return dataset_from_reader(read_file, path, options, features)


def first_samples(dataset, limit) -> 'datasets.Dataset':
    """The first `limit` examples (all when limit is None)."""
    if isinstance(dataset, datasets.IterableDataset):
        return dataset if limit is None else dataset.take(limit)
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.select(range(limit))


def size_or_none(dataset) -> 'int | None':
    """The number of examples, or None for a stream."""
    return None if isinstance(dataset, datasets.IterableDataset) else len(dataset)
