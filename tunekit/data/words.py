"""Raw text split into words as CoNLL tokens are: CJK characters one by one, other text into runs of word characters
and single punctuation marks. predict.sh, the server and --distill_text read text this way."""

import re

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
WORD = re.compile(rf"[{CJK}]|[^\W{CJK}]+|[^\w\s]", re.UNICODE)


def split_words(text: str) -> list:
    """(word, start, end) for each word of a raw text."""
    return [(match.group(), match.start(), match.end()) for match in WORD.finditer(text)]
