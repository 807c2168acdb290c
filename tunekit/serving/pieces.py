"""Long NER texts cut at sentence ends into pieces the batcher can interleave with other requests, and the pieces'
entities put back together with offsets into the whole text.

A model trained sentence by sentence reads every sentence of a text alone (inference/ner.py), and the sentence
splitter looks at a word and its neighbour only, so the pieces give exactly the entities of the whole text. A
model trained with --document_context reads across sentences: its texts are never cut."""

from tunekit.data.words import split_words
from tunekit.inference.sentences import sentence_lengths


def sentence_cuts(text: str, limit: int) -> list:
    """Character offsets where the text's pieces start (0 first): a text of up to `limit` characters is one piece,
    a longer one is cut before each of its sentences."""
    if len(text) <= limit:
        return [0]
    words = split_words(text)
    cuts, first_word = [0], 0
    for length in sentence_lengths(text, words):
        start = words[first_word][1]  # where this sentence's first word starts
        if start > 0:
            cuts.append(start)
        first_word += length
    return cuts


def split_texts(texts: list, limit: int) -> tuple:
    """(pieces, plan): the pieces of every text, shortest first (so that each slice the batcher takes holds pieces
    of about one length, padded little, as predict.sh's length-sorted batches are), and per text its cuts and the
    positions of its pieces in that order."""
    pieces: list = []
    plan: list = []
    for text in texts:
        cuts = sentence_cuts(text, limit)
        plan.append((cuts, range(len(pieces), len(pieces) + len(cuts))))
        pieces += [text[start:end] for start, end in zip(cuts, cuts[1:] + [len(text)])]
    order = sorted(range(len(pieces)), key=lambda index: len(pieces[index]))
    place = {index: position for position, index in enumerate(order)}
    plan = [(cuts, [place[index] for index in indices]) for cuts, indices in plan]
    return [pieces[index] for index in order], plan


def joined_records(texts: list, records: list, plan: list) -> list:
    """One record per text from its pieces' records: entities shifted to offsets in the text. A piece that failed
    makes its text's record that error."""
    joined = []
    for text, (cuts, positions) in zip(texts, plan):
        parts = [records[position] for position in positions]
        failed = next((part for part in parts if "error" in part), None)
        if failed is not None:
            joined.append(dict(failed, text=text))
            continue
        entities = [dict(entity, start=entity["start"] + offset, end=entity["end"] + offset)
                    for offset, part in zip(cuts, parts) for entity in part["entities"]]
        joined.append({"text": text, "entities": entities})
    return joined
