"""Requests share the model fairly: one worker runs the model on slices of bounded size, each slice made of the
texts of the requests served least so far. A one-sentence request that arrives while a large one is being worked
through waits for one slice, not for the whole large request; requests arriving together still share one model
call. The model runs in a thread of its own, so the event loop keeps accepting requests meanwhile."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class Job:
    """One request: its texts, their results as they come, and how many characters it has been served."""

    texts: list
    pairs: list | None
    future: asyncio.Future
    results: list = field(default_factory=list)
    served: int = 0  # characters predicted so far

    @property
    def taken(self) -> int:
        return len(self.results)

    def cost(self, index: int) -> int:
        """Characters, plus what reading any text costs the model (its own row, special tokens, about 40 characters'
        worth): a slice of many short sentences takes as long as one of a few long ones."""
        return len(self.texts[index]) + len(self.pairs[index] if self.pairs else "") + 40


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
    """predict(texts, pairs or None) -> one result per text, called with texts of several requests at once; texts
    with pairs and texts without are never mixed in one call. A slice holds at most max_batch_texts texts and, past
    its first text, max_batch_characters characters."""

    def __init__(self, predict, max_batch_texts: int = 128, wait_seconds: float = 0.005,
                 max_batch_characters: int = 2000):
        self.predict = predict
        self.max_batch_texts = max_batch_texts
        self.max_batch_characters = max_batch_characters
        self.wait_seconds = wait_seconds
        self.jobs: list = []
        self.arrived = asyncio.Event()  # made again by start(), in the server's event loop
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
        self.statistics = BatchStatistics()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.arrived = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self.work())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, texts: list, pairs: list | None) -> list:
        future = asyncio.get_running_loop().create_future()
        self.jobs.append(Job(texts, pairs, future))
        self.arrived.set()
        return await future

    def next_slice(self) -> list:
        """[(job, first index, end index)]: texts of the jobs served least first, within the slice's bounds."""
        self.jobs = [job for job in self.jobs if not job.future.done()]  # a client that went away is dropped
        chosen: list = []
        texts = characters = 0
        for job in sorted(self.jobs, key=lambda job: job.served):
            if chosen and (job.pairs is not None) != (chosen[0][0].pairs is not None):
                continue  # the next slice takes it
            start = end = job.taken
            while end < len(job.texts) and texts < self.max_batch_texts and (
                    not texts or characters + job.cost(end) <= self.max_batch_characters):
                characters += job.cost(end)
                texts += 1
                end += 1
            if end > start:
                chosen.append((job, start, end))
            if texts >= self.max_batch_texts or characters >= self.max_batch_characters:
                break
        return chosen

    async def work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not any(not job.future.done() for job in self.jobs):
                self.arrived.clear()
                await self.arrived.wait()
                await asyncio.sleep(self.wait_seconds)  # requests arriving together share the first call
            chosen = self.next_slice()
            if chosen:
                await self.run(loop, chosen)

    async def run(self, loop, chosen: list) -> None:
        texts = [text for job, start, end in chosen for text in job.texts[start:end]]
        with_pairs = chosen[0][0].pairs is not None
        pairs = [pair for job, start, end in chosen for pair in job.pairs[start:end]] if with_pairs else None
        try:
            results = await loop.run_in_executor(self.executor, self.predict, texts, pairs)
        except Exception as error:  # noqa: BLE001 - the requests of this slice fail; the server keeps serving
            for job, _, _ in chosen:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        self.statistics.add(len(chosen), len(texts))
        at = 0
        for job, start, end in chosen:
            job.results += results[at:at + end - start]
            job.served += sum(job.cost(index) for index in range(start, end))
            at += end - start
            if job.taken == len(job.texts) and not job.future.done():
                job.future.set_result(job.results)
