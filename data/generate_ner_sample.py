#!/usr/bin/env python
"""Write the bundled English NER sample (data/ner_sample/{train,dev,test}.txt) from templates.

Short news-like sentences with PER / ORG / LOC / MISC entities in IOB2, CoNLL columns `token tag`.
The last names of each list appear only in dev and test, so scores measure generalisation to unseen names.
Deterministic: the same seed always writes the same files. Run: python data/generate_ner_sample.py
"""

import argparse
import os
import random

FIRST_NAMES = [
    "Anna", "Boris", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ines", "Jonas", "Kofi", "Lena",
    "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tomas", "Ulla", "Viktor", "Wen", "Yusuf",
]
LAST_NAMES = [
    "Almeida", "Brandt", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallagher", "Haddad", "Ivanova", "Jansen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schneider", "Tanaka",
]
ORGANISATIONS = [
    "Northwind Bank", "Helix Motors", "Bluewater Energy", "Atlas Airlines", "Crescent Pharma", "the Riverside Council",
    "Orion Telecom", "Summit Football Club", "the Harbour Authority", "Greenfield University", "Vantage Media",
    "Polar Shipping", "the Central Statistics Office", "Keystone Insurance", "Ironbridge Steel",
]
LOCATIONS = [
    "Lisbon", "Oslo", "Nairobi", "Montreal", "Kyoto", "Valparaiso", "Tbilisi", "Adelaide", "Marrakesh", "Gdansk",
    "the Rhine valley", "Lake Geneva", "Patagonia", "the Baltic coast", "Tasmania", "Rotterdam", "Cairo", "Lima",
]
MISC = [
    "Olympic", "European", "Brazilian", "Japanese", "Nordic", "Euro", "Winter Games", "Nobel", "Kenyan", "Canadian",
    "Grand Prix", "World Cup", "Christmas", "Australian",
]
TEMPLATES = [
    "{PER} joined {ORG} in {LOC} last year .",
    "{ORG} said on Tuesday that profits rose in {LOC} .",
    "{PER} , a spokesman for {ORG} , declined to comment .",
    "The {MISC} team beat the visitors in {LOC} .",
    "{PER} won the {MISC} title on Sunday .",
    "Shares in {ORG} fell 3 percent after {PER} resigned .",
    "Police in {LOC} arrested two men on Friday .",
    "{PER} told reporters in {LOC} that talks would resume .",
    "{ORG} and {ORG} agreed to merge .",
    "The {MISC} government approved the budget .",
    "{PER} will fly to {LOC} next week to meet {PER} .",
    "Rain delayed the {MISC} race near {LOC} .",
    "Analysts expect {ORG} to report higher sales .",
    "{PER} scored twice as {ORG} won in {LOC} .",
    "Officials from {ORG} visited {LOC} and {LOC} .",
    "Prices in {LOC} were unchanged on Monday .",
    "{PER} said the {MISC} market remained weak .",
    "The report was published by {ORG} .",
]


HELD_OUT = 4  # names at the end of each list are kept out of the training split


def names_for(names, split):
    return names[:-HELD_OUT] if split == "train" else names


def entity_tokens(kind, rng, split):
    if kind == "PER":
        names = [rng.choice(names_for(FIRST_NAMES, split)), rng.choice(names_for(LAST_NAMES, split))]
        return names if rng.random() < 0.7 else names[1:]
    return rng.choice(names_for({"ORG": ORGANISATIONS, "LOC": LOCATIONS, "MISC": MISC}[kind], split)).split()


def sentence(rng, split):
    """One sentence as (token, tag) pairs; a leading lower-case "the" of a name stays outside the entity."""
    pairs = []
    for piece in rng.choice(TEMPLATES).split():
        if piece.startswith("{") and piece.endswith("}"):
            kind = piece[1:-1]
            words = entity_tokens(kind, rng, split)
            if words[0] == "the":
                pairs.append(("the", "O"))
                words = words[1:]
            pairs.extend((word, ("B-" if i == 0 else "I-") + kind) for i, word in enumerate(words))
        else:
            pairs.append((piece, "O"))
    return pairs


def write_split(path, split, count, rng):
    with open(path, "w", encoding="utf-8") as stream:
        for _ in range(count):
            for token, tag in sentence(rng, split):
                stream.write(f"{token} {tag}\n")
            stream.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ner_sample"))
    parser.add_argument("--sizes", default="3000,400,400", help="train,dev,test sentence counts")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    rng = random.Random(args.seed)
    for split, count in zip(("train", "dev", "test"), map(int, args.sizes.split(","))):
        write_split(os.path.join(args.output_dir, f"{split}.txt"), split, count, rng)


if __name__ == "__main__":
    main()
