#!/usr/bin/env python
"""Write the unlabelled text files the distillation benchmark gives `--distill_text`, from ../shared/data.

    python bench/distill_text.py --out /tmp/distill_text            # news.txt, pairs.tsv, tweets.txt

  news.txt    the news sentences of GLUE, one per line, each once: MRPC train and dev, RTE train, and STS-B train's
              news genre (none of them is in CoNLL-2003); text for a CoNLL-2003 student
  pairs.tsv   STS-B and RTE training pairs, sentence1<TAB>sentence2, labels dropped; text for an MRPC student
  tweets.txt  BTC's training tweets without their tags, words joined by spaces, one tweet per line
  mrpc-perturbed.tsv  each MRPC training pair twice more, perturbed (each word dropped with probability 0.15; the
              second copy with its two sentences swapped), labels dropped: in-domain pairs near the decision
              boundary for the teacher to label (the augmentation idea of TinyBERT, without its masked LM)
"""

import argparse
import os
import random
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tunekit.data.readers.conll import read_conll  # noqa: E402
from tunekit.data.readers.sentences import TokenReadOptions  # noqa: E402


def tsv_rows(path: str) -> list:
    """Rows of a GLUE TSV split on tabs without quote handling (GLUE's sentences hold unbalanced quotes)."""
    with open(path, encoding="utf-8-sig") as stream:
        return [line.rstrip("\n").split("\t") for line in stream][1:]


def clean(text: str) -> str:
    # MRPC opens some sentences with the quote mark that closes in the middle: drop it, keep the words
    return text.strip().strip('"').strip()


def news_sentences(glue: str) -> list:
    sources = [("MRPC/train.tsv", [3, 4], None), ("MRPC/dev.tsv", [3, 4], None), ("RTE/train.tsv", [1, 2], None),
               ("STS-B/train.tsv", [7, 8], "main-news")]
    seen: dict = {}
    for name, columns, genre in sources:
        for row in tsv_rows(os.path.join(glue, name)):
            if genre is not None and row[1] != genre:
                continue
            for column in columns:
                text = clean(row[column])
                if text:
                    seen.setdefault(text, None)
    return list(seen)


def sentence_pairs(glue: str) -> list:
    pairs = [(row[7], row[8]) for row in tsv_rows(os.path.join(glue, "STS-B", "train.tsv"))]
    pairs += [(row[1], row[2]) for row in tsv_rows(os.path.join(glue, "RTE", "train.tsv"))]
    return ["\t".join(text.strip() for text in pair) for pair in pairs]


def drop_words(text: str, rng: random.Random, rate: float = 0.15) -> str:
    words = text.split()
    kept = [word for word in words if rng.random() >= rate]
    return " ".join(kept or words[:1])


def perturbed_pairs(glue: str, seed: int = 0) -> list:
    rng = random.Random(seed)  # fixed: the file is the same on every machine
    lines = []
    for row in tsv_rows(os.path.join(glue, "MRPC", "train.tsv")):
        first, second = clean(row[3]), clean(row[4])
        lines.append(f"{drop_words(first, rng)}\t{drop_words(second, rng)}")
        lines.append(f"{drop_words(second, rng)}\t{drop_words(first, rng)}")
    return lines


def tweets(btc: str) -> list:
    """BTC's training tweets as run_ner.py reads them, words joined by spaces."""
    return [" ".join(sentence["tokens"]) for sentence in read_conll(os.path.join(btc, "btc.train"), TokenReadOptions())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    glue = os.path.join(args.data, "glue")
    for name, lines in [("news.txt", news_sentences(glue)), ("pairs.tsv", sentence_pairs(glue)),
                        ("tweets.txt", tweets(os.path.join(args.data, "btc"))),
                        ("mrpc-perturbed.tsv", perturbed_pairs(glue))]:
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write("\n".join(lines) + "\n")
        print(f"{path}: {len(lines):,} lines, {sum(len(line.split()) for line in lines):,} words")


if __name__ == "__main__":
    main()
