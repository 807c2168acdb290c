"""What POST /predict accepts, checked before anything is predicted: a JSON list whose items are texts (strings),
{"text": ..., "text_pair": ...} objects or [text, pair] lists, within the server's limits. A bad request is a
RequestError with its HTTP status and a message naming the item and the problem."""

import json
from dataclasses import dataclass

from tunekit.data.readers.table import json_problem
from tunekit.inference.inputs import record_text, text_problem

# what an entity's start and end count, as /health says
OFFSETS = ("start and end count Unicode code points, as Python's str indices do; in JavaScript use "
           "Array.from(text).slice(start, end), not text.slice, which counts UTF-16 units")
SHAPE = 'a JSON list of texts: strings, {"text": ..., "text_pair": ...} objects or [text, pair] lists'


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Limits:
    max_texts: int = 64  # texts in one request
    max_text_length: int = 10000  # characters in one text (a pair counts both)
    max_body_bytes: int = 4 * 1024 * 1024


def item_text(item, number: int) -> tuple:
    """(text, pair or None) of one item of the list."""
    if isinstance(item, str):
        return item, None
    if isinstance(item, list):
        if len(item) == 2 and all(isinstance(part, str) for part in item):
            return item[0], item[1]
        raise RequestError(400, f"item {number}: a list item must be [text, pair], two strings")
    if isinstance(item, dict):
        try:
            return record_text(item)  # the rule predict.sh's JSON lines follow
        except ValueError as problem:
            raise RequestError(400, f"item {number}: {problem}") from None
    raise RequestError(400, f"item {number}: expected a string, an object or a [text, pair] list, not {type(item).__name__}")


def parse_request(body: bytes, limits: Limits, pairs_allowed: bool) -> tuple:
    """(texts, pairs or None) of a request body, or a RequestError."""
    if len(body) > limits.max_body_bytes:
        raise RequestError(413, f"the request body has {len(body)} bytes; this server takes at most {limits.max_body_bytes}")
    try:
        items = json.loads(body)
    except (ValueError, RecursionError) as error:  # bad UTF-8, bad JSON, 5,000-digit numbers, deep nesting
        raise RequestError(400, f"the request body is not JSON ({json_problem(error)}); send {SHAPE}") from None
    if isinstance(items, dict) and isinstance(items.get("texts"), list):
        items = items["texts"]
    if not isinstance(items, list):
        raise RequestError(400, f"expected {SHAPE}, not a JSON {type(items).__name__}")
    if len(items) > limits.max_texts:
        raise RequestError(413, f"{len(items)} texts in one request; this server takes at most {limits.max_texts} "
                                "(split the list, or start it with a larger --max_texts)")
    texts, pairs = [], []
    for number, item in enumerate(items):
        text, pair = item_text(item, number)
        problem = text_problem(text + (pair or ""))
        if problem:
            raise RequestError(400, f"item {number}: {problem}")
        length = len(text) + len(pair or "")
        if length > limits.max_text_length:
            raise RequestError(413, f"item {number}: {length} characters; this server takes at most "
                                    f"{limits.max_text_length} per text (--max_text_length)")
        texts.append(text)
        pairs.append(pair)
    given = [pair is not None for pair in pairs]
    if any(given) and not pairs_allowed:
        raise RequestError(400, "this model tags texts (NER): give texts, not pairs")
    if any(given) and not all(given):
        raise RequestError(400, "either every item or no item gives a text_pair")
    return texts, (pairs if any(given) else None)
