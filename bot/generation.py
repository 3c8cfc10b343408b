"""The batched generation worker: one thread runs the model so the event loop never blocks.

Handlers `await service.generate(request)`. The worker thread takes the first waiting request,
then keeps collecting for at most `wait_s` or until `batch_size` requests, and runs them all
in one `LineWriter.write` pass. `swap(path)` loads another checkpoint beside the running one
and installs it between batches, so a batch always runs on one model and each result names
the version that wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Writer(Protocol):
    """The part of `model.generate.LineWriter` that the service uses."""

    version: str
    checkpoint: Any

    def write(self, requests: Sequence[Any]) -> list[Any]: ...


@dataclass(frozen=True)
class Generated:
    """One request's result, with the model version that wrote it and the size of its batch."""

    result: Any  # model.generate.GenerationResult
    model_version: str
    batch_size: int


@dataclass
class _Job:
    request: Any
    future: asyncio.Future[Generated]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class ServiceClosed(RuntimeError):
    """The service was closed and takes no more requests."""


class GenerationService:
    """Run a `Writer` on one worker thread, batching requests that arrive close together."""

    def __init__(
        self,
        writer: Writer,
        *,
        batch_size: int = 64,
        wait_s: float = 0.005,
        loader: Callable[[Path], Writer] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.batches = 0
        self.requests = 0
        self._writer = writer
        self._loader = loader
        self._swap_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="generation-worker", daemon=True)
        self._thread.start()
        log.info(
            "generation worker started: model %s, batch size %d, wait %.1f ms",
            writer.version, batch_size, wait_s * 1000,
        )

    @property
    def writer(self) -> Writer:
        """The writer the next batch will use."""
        return self._writer

    @property
    def version(self) -> str:
        return self._writer.version

    async def generate(self, request: Any) -> Generated:
        """Queue `request` for the worker and wait for its result."""
        if self._closed:
            raise ServiceClosed("the generation service is closed")
        loop = asyncio.get_running_loop()
        job = _Job(request, loop.create_future(), loop)
        self._queue.put(job)
        return await job.future

    async def write(self, request: Any) -> Any:
        """Queue `request` and return only its `GenerationResult`."""
        return (await self.generate(request)).result

    def swap(self, path: Path | str) -> str:
        """Load the checkpoint at `path` and serve it from the next batch on; return its version.

        Loading happens in the calling thread while the worker keeps serving the old model.
        If loading fails, the error (for example `model.checkpoint.CheckpointError`) reaches
        the caller and the current model stays. Call it from async code through
        `asyncio.to_thread`, because loading takes a while.
        """
        if self._loader is None:
            raise RuntimeError("this service was built without a checkpoint loader")
        writer = self._loader(Path(path))
        self.swap_writer(writer)
        return writer.version

    def swap_writer(self, writer: Writer) -> None:
        """Serve `writer` from the next batch on."""
        with self._swap_lock:
            old, self._writer = self._writer, writer
        log.info("generation worker swapped model %s -> %s", old.version, writer.version)

    def close(self, timeout_s: float = 30.0) -> None:
        """Finish every queued request, then stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("generation worker did not stop within %.0f s", timeout_s)
        else:
            log.info("generation worker stopped after %d batches, %d requests", self.batches, self.requests)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch, stopping = self._collect(first)
            self._serve(batch)

    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        """Gather requests behind `first` until the batch is full or the wait limit passes."""
        batch = [first]
        deadline = time.perf_counter() + self.wait_s
        while len(batch) < self.batch_size:
            remaining = deadline - time.perf_counter()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _serve(self, batch: list[_Job]) -> None:
        with self._swap_lock:
            writer = self._writer

        try:
            results = writer.write([job.request for job in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.exception("generation failed for prompt %r", getattr(batch[0].request, "prompt", None))
                self._finish(batch[0], exc=exc)
                return
            # One bad request must not fail its neighbours: retry each one alone.
            log.exception("batch of %d failed; retrying each request alone", len(batch))
            for job in batch:
                self._serve([job])
            return

        self.batches += 1
        self.requests += len(batch)
        for job, result in zip(batch, results, strict=True):
            generated = Generated(result, writer.version, len(batch))
            self._finish(job, result=generated)

    @staticmethod
    def _finish(job: _Job, *, result: Generated | None = None, exc: BaseException | None = None) -> None:
        def resolve() -> None:
            if job.future.done():  # the awaiting handler was cancelled
                return
            if exc is not None:
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)

        try:
            job.loop.call_soon_threadsafe(resolve)
        except RuntimeError:
            log.warning("event loop closed before a generation result could be delivered")
