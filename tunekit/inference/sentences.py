"""Raw text split into sentences, on the words split_words found, so every offset still points into the text.

A sentence ends at . ! ? … (or a CJK full stop, exclamation or question mark) and at a line break. After . ! ?
it ends only where the next word starts after a space and does not begin in lower case, and a full stop after a
single letter (an initial: "J. Smith", "U.S.") or a common abbreviation ("Mr.", "Dr.", "Inc.") ends nothing.
"""

ENDS = {".", "!", "?", "…"}
CLOSERS = {'"', "'", ")", "”", "’", "»"}  # may follow the end: 'He said "Go." Then ...' 
CJK_ENDS = {"。", "！", "？"}
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "no", "gen", "col",
    "lt", "sgt", "rep", "sen", "gov", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
}


def ends_sentence(text: str, words, index: int) -> bool:
    """Whether the sentence ends after words[index] (a (word, start, end) triple)."""
    word, start, end = words[index]
    if index + 1 == len(words):
        return True
    following, next_start, _ = words[index + 1]
    if "\n" in text[end:next_start]:
        return True
    mark = index
    if word in CLOSERS and index > 0 and words[index - 1][2] == start:
        mark = index - 1  # 'He said "Go." Then ...': the sentence ends after the closing quote
    if words[mark][0] in CJK_ENDS:
        return True
    if words[mark][0] not in ENDS or next_start == end or following[:1].islower():
        return False
    if words[mark][0] == "." and mark > 0:
        previous = words[mark - 1][0]
        if (len(previous) == 1 and previous.isalpha()) or previous.lower() in ABBREVIATIONS:
            return False
    return True


def sentence_lengths(text: str, words) -> list:
    """The number of words in each sentence of the text, in order; they add up to len(words)."""
    lengths, count = [], 0
    for index in range(len(words)):
        count += 1
        if ends_sentence(text, words, index):
            lengths.append(count)
            count = 0
    return lengths
