"""The batched generation worker with the real LineWriter on a tiny checkpoint."""

import asyncio
import threading

import pytest

from bot.generation import GenerationService, ServiceClosed
from bot.app import load_writer
from model.checkpoint import CheckpointError
from model.generate import GenerationRequest, LineWriter
from tests.bot.conftest import train_tiny_checkpoint


@pytest.fixture(scope="module")
def writer(bot_checkpoint):
    return load_writer(bot_checkpoint, max_prompt_chars=4)


class CountingWriter:
    """Wraps a LineWriter and records the size of every batch and the thread it ran on."""

    def __init__(self, inner: LineWriter) -> None:
        self.inner = inner
        self.version = inner.version
        self.checkpoint = inner.checkpoint
        self.batch_sizes: list[int] = []
        self.threads: set[str] = set()

    def write(self, requests):
        self.batch_sizes.append(len(requests))
        self.threads.add(threading.current_thread().name)
        return self.inner.write(requests)


async def test_concurrent_requests_share_batches(writer):
    counting = CountingWriter(writer)
    service = GenerationService(counting, batch_size=64, wait_s=0.05)
    try:
        requests = [GenerationRequest("春", seed=i) for i in range(40)]
        results = await asyncio.gather(*(service.generate(r) for r in requests))
    finally:
        service.close()

    assert all(g.result.lines[0].startswith("春") for g in results)
    assert sum(counting.batch_sizes) == 40
    assert max(counting.batch_sizes) > 1
    assert len(counting.batch_sizes) < 40
    assert counting.threads == {"generation-worker"}


async def test_batch_size_one_turns_batching_off(writer):
    counting = CountingWriter(writer)
    service = GenerationService(counting, batch_size=1, wait_s=0.05)
    try:
        await asyncio.gather(*(service.generate(GenerationRequest("春", seed=i)) for i in range(5)))
    finally:
        service.close()
    assert counting.batch_sizes == [1] * 5


async def test_seeded_result_same_alone_or_batched(writer):
    service = GenerationService(writer, batch_size=16, wait_s=0.05)
    try:
        alone = await service.write(GenerationRequest("春风", seed=7))
        together = await asyncio.gather(
            *(service.write(GenerationRequest("春风", seed=s)) for s in (1, 7, 3))
        )
    finally:
        service.close()
    assert together[1].text == alone.text


async def test_unknown_character_fails_only_its_request(writer):
    service = GenerationService(writer, batch_size=16, wait_s=0.05)
    try:
        good, bad = await asyncio.gather(
            service.write(GenerationRequest("春", seed=1)), service.write(GenerationRequest("龘", seed=1))
        )
    finally:
        service.close()
    assert good.error is None
    assert good.text.startswith("春")
    assert bad.error.character == "龘"


async def test_failing_batch_retried_per_request(writer):
    class PickyWriter(CountingWriter):
        def write(self, requests):
            if any(r.prompt == "山" for r in requests):
                raise RuntimeError("cannot write 山")
            return super().write(requests)

    service = GenerationService(PickyWriter(writer), batch_size=16, wait_s=0.05)
    try:
        outcomes = await asyncio.gather(
            service.write(GenerationRequest("春", seed=1)),
            service.write(GenerationRequest("山", seed=1)),
            return_exceptions=True,
        )
    finally:
        service.close()
    assert outcomes[0].text.startswith("春")
    assert isinstance(outcomes[1], RuntimeError)


async def test_swap_keeps_old_on_bad_file(writer, tmp_path):
    other = train_tiny_checkpoint(tmp_path / "other.pt", steps=5)
    service = GenerationService(writer, loader=lambda p: load_writer(p, max_prompt_chars=4))
    try:
        old_version = service.version
        new_version = await asyncio.to_thread(service.swap, other)
        assert new_version != old_version
        assert (await service.generate(GenerationRequest("春"))).model_version == new_version

        broken = tmp_path / "broken.pt"
        broken.write_bytes(b"not a checkpoint")
        with pytest.raises(CheckpointError):
            service.swap(broken)
        assert service.version == new_version
    finally:
        service.close()


async def test_close_finishes_queued_requests(writer):
    service = GenerationService(writer, batch_size=2, wait_s=0.01)
    pending = [asyncio.ensure_future(service.generate(GenerationRequest("春", seed=i))) for i in range(6)]
    await asyncio.sleep(0)  # let every request reach the queue
    await asyncio.to_thread(service.close)
    results = await asyncio.gather(*pending)
    assert len(results) == 6
    with pytest.raises(ServiceClosed):
        await service.generate(GenerationRequest("春"))
