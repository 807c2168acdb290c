"""The server's batcher: requests arriving together share a model call, a long request is cut into slices that
interleave with short ones, each request gets its own results in order, a client that left is dropped."""

import asyncio
import time

from tunekit.serving.batcher import RequestBatcher


def run(coroutine):
    return asyncio.run(coroutine)


class Model:
    """predict() that takes time in proportion to the characters it reads and records each call."""

    def __init__(self, seconds_per_character=0.0):
        self.calls = []
        self.seconds_per_character = seconds_per_character

    def __call__(self, texts, pairs):
        self.calls.append(list(texts))
        time.sleep(self.seconds_per_character * sum(map(len, texts)))
        return [text.upper() + (f"|{pair}" if pair else "") for text, pair in zip(texts, pairs or [None] * len(texts))]


async def serve(batcher, *requests, delays=None):
    """Submit each (texts, pairs) after its delay; (results, finish time) of each."""
    batcher.start()
    started = time.perf_counter()

    async def one(request, delay):
        await asyncio.sleep(delay)
        results = await batcher.submit(*request)
        return results, time.perf_counter() - started

    try:
        return await asyncio.gather(*(one(r, d) for r, d in zip(requests, delays or [0] * len(requests))))
    finally:
        await batcher.stop()


def test_a_short_request_is_not_queued_behind_a_long_one():
    model = Model(seconds_per_character=0.0005)  # 100 characters: 50 ms
    batcher = RequestBatcher(model, max_batch_texts=64, wait_seconds=0.001, max_batch_characters=200)
    long_request = ([f"long text number {i:03d} " * 5 for i in range(40)], None)  # 40 x 115 characters: ~2.3 s
    short_request = (["short one"], None)
    (long_results, long_done), (short_results, short_done) = run(serve(batcher, long_request, short_request,
                                                                      delays=[0, 0.3]))
    assert long_results == [text.upper() for text in long_request[0]]  # every text, in order
    assert short_results == ["SHORT ONE"]
    short_call = next(i for i, call in enumerate(model.calls) if "short one" in call)
    # it arrived after about 0.3 s of the long request's 2.3 s: answered while most of the long one was still to come
    long_texts_before = sum(len(call) for call in model.calls[:short_call] if "short one" not in call)
    assert long_texts_before < 20 and short_done < long_done
    assert max(sum(map(len, call)) for call in model.calls) <= 200 + 115  # slices of bounded size


def test_requests_arriving_together_share_calls_and_pairs_are_kept_apart():
    model = Model()
    batcher = RequestBatcher(model, max_batch_texts=64, wait_seconds=0.05)
    answers = run(serve(batcher, (["a"], None), (["b", "c"], None), (["d"], ["e"]), (["f"], None)))
    assert [results for results, _ in answers] == [["A"], ["B", "C"], ["D|e"], ["F"]]
    assert sorted(map(sorted, model.calls)) == [["a", "b", "c", "f"], ["d"]]
    assert batcher.statistics.summary()["mean_requests_per_batch"] == 2.0


def test_a_request_whose_client_left_is_not_predicted():
    model = Model(seconds_per_character=0.001)
    batcher = RequestBatcher(model, max_batch_texts=1, wait_seconds=0.001)

    async def scenario():
        batcher.start()
        waiting = asyncio.ensure_future(batcher.submit(["x" * 50] * 20, None))
        await asyncio.sleep(0.12)
        waiting.cancel()  # what Starlette does when the client disconnects
        await asyncio.sleep(0.2)
        answered = await batcher.submit(["after"], None)
        await batcher.stop()
        return answered

    assert run(scenario()) == ["AFTER"]
    assert len(model.calls) < 10  # the rest of the 20 texts were never predicted
