"""The tagging scheme of a token file, recognised from all of its tags, and its tags rewritten as IOB2.

Every scheme that says the same thing as IOB2 is converted without guessing: IO (`PER`), IOB1 (I- opens an
entity), IOBES / BIOES (S- E-), BILOU (U- L-), suffixes (`PER-B`), lower-case or `_`-joined prefixes (`b_per`)
and integer tag ids named by a label file. A tag that does not fit the scheme the rest of the file uses is an
error naming its line, never a silent re-reading: seqeval would take the `P` of `PER` as a prefix and the `O` of
`ORG` as outside. POS tags are labels of their own and are left as they are.
"""

import re
from dataclasses import dataclass, field

from tunekit.errors import at

PREFIX = re.compile(r"^([BIESLU])[-_](.+)$", re.IGNORECASE)
SUFFIX = re.compile(r"^(.+)[-_]([BIESLU])$", re.IGNORECASE)
# what each prefix becomes in IOB2 (an I- that opens an entity becomes B- afterwards)
TO_IOB2 = {"B": "B", "I": "I", "S": "B", "E": "I", "U": "B", "L": "I"}
PLAIN_TASKS = ("pos",)  # --task_name values whose tags are labels of their own, not entity tags in a scheme


@dataclass
class Scheme:
    """How a file's tags are read: its scheme's name and what rewrites them (`letters`, then `opened_by_b`)."""

    name: str  # IOB2, IOB1, IOBES, BILOU, IO, plain, or "" for a file without tags
    suffixes: bool = False  # PER-B rather than B-PER
    ids: list | None = None  # names of integer tag ids, in id order
    spellings: set = field(default_factory=set)  # what else was rewritten: "lower-case", "_ joins"

    def description(self) -> str:
        extras = (["integer ids"] if self.ids else []) + (["suffixes"] if self.suffixes else []) + sorted(self.spellings)
        return f"{self.name} with {', '.join(extras)}" if extras else self.name

    def letters(self, tags: list) -> list:
        """The tags with IOB2's prefix letters (B- I- O), names for ids; an entity may still open with I-."""
        if self.ids is not None:
            tags = [self.ids[int(tag)] for tag in tags]
        if self.name == "plain":
            return list(tags)
        converted = []
        for tag in tags:
            prefix, kind = tag_parts(tag, self.suffixes)
            if prefix == "O":
                converted.append("O")
            elif prefix is None:  # IO: every tag of a type is inside one
                converted.append(f"I-{kind}")
            else:
                converted.append(f"{TO_IOB2[prefix]}-{kind}")
        return converted


def opened_by_b(tags: list) -> list:
    """IOB2: an I- that does not continue an entity of its type (IOB1's way to open one) becomes B-."""
    opened = list(tags)
    for index, tag in enumerate(opened):
        previous = opened[index - 1] if index else "O"
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            opened[index] = "B-" + tag[2:]
    return opened


def tag_parts(tag: str, suffixes: bool = False) -> tuple:
    """(prefix letter upper-cased, "O" or None for a tag without one; the type)."""
    if tag.upper() == "O":
        return "O", None
    match = (SUFFIX if suffixes else PREFIX).match(tag)
    if match is None:
        return None, tag
    letter, kind = (match.group(2), match.group(1)) if suffixes else match.groups()
    return letter.upper(), kind


def recognise(first_lines: dict, path: str, entity_tags: bool = True, id_names: list | None = None) -> Scheme:
    """The scheme of a file from tag -> the first line it is on; a tag that does not fit it is a UserError
    naming that line. id_names: the label file's names, which integer ids index."""
    if not first_lines:
        return Scheme("")
    tags = list(first_lines)
    scheme = Scheme("plain")
    if all(tag.isdigit() for tag in tags):
        tags = integer_names(first_lines, path, id_names)
        scheme.ids = list(id_names or [])
    if not entity_tags:
        return scheme
    lines = dict(first_lines)
    if scheme.ids:
        lines = {scheme.ids[int(tag)]: line for tag, line in lines.items()}
    outside = [tag for tag in tags if tag.upper() == "O"]
    rest = [tag for tag in tags if tag.upper() != "O"]
    prefixed = [tag for tag in rest if PREFIX.match(tag)]
    suffixed = [tag for tag in rest if SUFFIX.match(tag)]
    scheme.suffixes = bool(rest) and not prefixed and len(suffixed) == len(rest)
    marked = suffixed if scheme.suffixes else prefixed
    if marked and len(marked) < len(rest):
        stray = min((tag for tag in rest if tag not in marked), key=lambda tag: lines[tag])
        example = min(marked, key=lambda tag: lines[tag])
        raise at(path, lines[stray], f"tag '{stray}' has no B-/I- {'suffix' if scheme.suffixes else 'prefix'} but the "
                                     f"rest of the file's tags have one (first '{example}' on line {lines[example]}): "
                                     f"write it with one, or as O")
    if not marked and rest and not outside:
        first = min(rest, key=lambda tag: lines[tag])
        raise at(path, lines[first], f"tag '{first}' is neither O nor B-/I-prefixed and no token is tagged O: these "
                                     "look like POS tags; pass --task_name pos (or tag the non-entities O)")
    letters = {tag_parts(tag, scheme.suffixes)[0] for tag in marked}
    if {"E", "S"} & letters and {"L", "U"} & letters:
        odd = min((tag for tag in marked if tag_parts(tag, scheme.suffixes)[0] in "LU"), key=lambda tag: lines[tag])
        raise at(path, lines[odd], f"tag '{odd}' is BILOU (L-/U-) but the file also has IOBES tags (E-/S-); use one "
                                   "scheme")
    if any(tag != "O" for tag in outside):
        scheme.spellings.add("lower-case O")
    for tag in marked:
        letter, joint = (tag[-1], tag[-2]) if scheme.suffixes else (tag[0], tag[1])
        if letter.islower():
            scheme.spellings.add("lower-case prefixes")
        if joint == "_":
            scheme.spellings.add("_-joined prefixes")
    if not marked:
        scheme.name = "IO" if rest else "IOB2"
    elif {"E", "S"} & letters:
        scheme.name = "IOBES"
    elif {"L", "U"} & letters:
        scheme.name = "BILOU"
    else:
        scheme.name = "IOB2"  # or IOB1: told apart by where entities start, which the conversion counts
    return scheme


def integer_names(first_lines: dict, path: str, id_names: list | None) -> list:
    """The names integer tag ids stand for, from the label file; a UserError without one or past its end."""
    first = min(first_lines, key=lambda tag: first_lines[tag])
    if id_names is None:
        raise at(path, first_lines[first], f"the tags are integer ids ('{first}') without names: pass --label_file "
                                              "listing the label names one per line, id 0 first, or write the names")
    for tag, line in sorted(first_lines.items(), key=lambda item: item[1]):
        if int(tag) >= len(id_names):
            raise at(path, line, f"tag id {tag} is past the {len(id_names)} names of the label file")
    return [id_names[int(tag)] for tag in first_lines]


def iob2_label_names(names: list, entity_tags: bool = True) -> list:
    """A label file's names as the IOB2 labels they stand for, in its order (IO `PER` gives B-PER and I-PER)."""
    if not entity_tags:
        return list(names)
    suffixes = bool(names) and all(SUFFIX.match(n) or n.upper() == "O" for n in names) and not any(
        PREFIX.match(n) for n in names)
    labels = []
    for name in names:
        prefix, kind = tag_parts(name, suffixes)
        # an I- label implies its B-: IOB2 opens every entity with one
        inside = [f"B-{kind}", f"I-{kind}"]
        for label in ["O"] if prefix == "O" else inside if prefix is None or TO_IOB2[prefix] == "I" else inside[:1]:
            if label not in labels:
                labels.append(label)
    return labels


def retag_file(tag_lists: list, lines: list, path: str, entity_tags: bool = True, id_names: list | None = None,
               token_per_line: bool = False) -> tuple:
    """(the Scheme of a whole file's tags, each sentence's tags in IOB2, how many tags each sentence had rewritten).
    tag_lists: the tags of every sentence, lines: the line each sentence starts on (in errors); token_per_line:
    CoNLL, where a tag's own line is its sentence's line plus its position."""
    first_lines: dict = {}
    for tags, line in zip(tag_lists, lines):
        for position, tag in enumerate(tags):
            first_lines.setdefault(tag, line + position if token_per_line else line)
    scheme = recognise(first_lines, path, entity_tags, id_names)
    lettered = [scheme.letters(tags) for tags in tag_lists]
    converted = lettered if scheme.name == "plain" else [opened_by_b(tags) for tags in lettered]
    changed = [sum(a != b for a, b in zip(old, new)) for old, new in zip(tag_lists, converted)]
    if scheme.name == "IOB2" and lettered != converted:
        scheme.name = "IOB1"  # B-/I- letters, with entities opened by I-
    return scheme, converted, changed
