"""Requests that arrive together are predicted together: one worker takes the first waiting request, gathers the
ones arriving within a few milliseconds (up to a number of texts), runs the model once on all their texts in a
thread of its own (the event loop keeps accepting requests meanwhile) and hands each request its share back."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Waiting:
    texts: list
    pairs: list | None
    future: asyncio.Future
    arrived: float = 0.0


@dataclass
class BatchStatistics:
    batches: int = 0
    texts: int = 0
    largest: int = 0
    requests_per_batch: list = field(default_factory=list)

    def add(self, requests: int, texts: int) -> None:
        self.batches += 1
        self.texts += texts
        self.largest = max(self.largest, texts)
        self.requests_per_batch = (self.requests_per_batch + [requests])[-1000:]

    def summary(self) -> dict:
        shares = self.requests_per_batch
        return {"batches": self.batches, "texts": self.texts, "largest_batch_texts": self.largest,
                "mean_requests_per_batch": round(sum(shares) / len(shares), 2) if shares else 0.0}


class RequestBatcher:
    """predict(texts, pairs or None) -> one result per text, called with the texts of several requests at once;
    requests with pairs and requests without are never mixed in one call."""

    def __init__(self, predict, max_batch_texts: int = 128, wait_seconds: float = 0.005):
        self.predict = predict
        self.max_batch_texts = max_batch_texts
        self.wait_seconds = wait_seconds
        self.queue: asyncio.Queue | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self.statistics = BatchStatistics()
        self.task = None

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self.work())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, texts: list, pairs: list | None) -> list:
        future = asyncio.get_running_loop().create_future()
        await self.queue.put(Waiting(texts, pairs, future))
        return await future

    async def gather(self) -> list:
        """The first waiting request and those arriving within wait_seconds, up to max_batch_texts texts."""
        loop = asyncio.get_running_loop()
        batch = [await self.queue.get()]
        count, deadline = len(batch[0].texts), loop.time() + self.wait_seconds
        while count < self.max_batch_texts:
            remaining = deadline - loop.time()
            try:
                waiting = self.queue.get_nowait() if remaining <= 0 else await asyncio.wait_for(self.queue.get(), remaining)
            except (asyncio.TimeoutError, asyncio.QueueEmpty):
                break
            batch.append(waiting)
            count += len(waiting.texts)
        return batch

    async def work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self.gather()
            for with_pairs in (False, True):
                group = [waiting for waiting in batch if (waiting.pairs is not None) == with_pairs]
                if group:
                    await self.run(loop, group)

    async def run(self, loop, group: list) -> None:
        texts = [text for waiting in group for text in waiting.texts]
        pairs = [pair for waiting in group for pair in waiting.pairs] if group[0].pairs is not None else None
        try:
            results = await loop.run_in_executor(self.executor, self.predict, texts, pairs)
        except Exception as error:  # every request of the batch gets the error; the server keeps serving
            for waiting in group:
                if not waiting.future.done():
                    waiting.future.set_exception(error)
            return
        self.statistics.add(len(group), len(texts))
        start = 0
        for waiting in group:
            end = start + len(waiting.texts)
            if not waiting.future.done():  # a client that went away has its future cancelled
                waiting.future.set_result(results[start:end])
            start = end
