"""End to end through the local Bot API server: /retrain, /status, refusals, promotion, rejection and a killed job."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.app import build_application
from bot.retraining import register_retraining
from bot.retraining.service import RetrainingService
from bot.runtime import get_runtime
from db import queries
from db.engine import make_sync_engine
from db.models import Generation, RunStatus
from db.queries import process_is_alive
from model.checkpoint import load_checkpoint
from tests.bot.conftest import make_settings, rows
from tests.botapi import BotApiServer
from tests.retrain.conftest import ADMIN_ID, TOKEN, lengthen_corpus, read_runs, wait_for_run, with_changes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def test_retrain_promotes_and_new_answers_use_it(make_bot):
    bot = await make_bot()
    admin = bot.server.user(ADMIN_ID, language_code="en")
    user = bot.server.user()
    old_version = bot.generation.version
    await user.ask("春")

    started = await admin.ask("/retrain")
    assert started.text == "Run #1 (by an admin) started; this message shows its progress."
    refused = await admin.ask("/retrain")
    assert refused.text.startswith("Run #1 is already ")
    assert "Wait for it to finish or stop it with /retrain cancel." in refused.text

    outcome = await admin.next_message(timeout=90)
    [run] = read_runs(bot.settings.database_url)
    assert run.status is RunStatus.SUCCEEDED
    before, after = run.metrics["val_loss_before"], run.metrics["val_loss_after"]
    assert outcome.text.startswith(f"Run #1 promoted model {run.metrics['candidate_version']}.")
    assert f"Validation loss {before:.4f} → {after:.4f}" in outcome.text
    plot = await admin.next_message(timeout=30)
    assert plot.kind == "photo"
    assert plot.file.data.startswith(PNG_SIGNATURE)
    assert plot.text == "Training and validation loss of run #1"
    progress_edits = [edit.text for edit in bot.server.edits if edit.message_id == started.message_id]
    assert any(text.startswith("Run #1: ") for text in progress_edits), progress_edits
    assert progress_edits[-1] == outcome.text

    new_version = bot.generation.version
    assert new_version == run.metrics["candidate_version"] != old_version
    assert load_checkpoint(bot.settings.checkpoint_path).version == new_version
    await user.ask("风")
    answers = rows(bot.settings, Generation, user_id=user.id)
    assert [answer.model_version for answer in answers] == [old_version, new_version]

    status = await admin.ask("/status")
    assert f"Model: {new_version}" in status.text
    assert "No run is active." in status.text
    assert "#1 by an admin promoted" in status.text
    assert "The schedule is off." in status.text


async def test_worse_candidate_rejected_old_model_serves(make_bot, data_dir):
    served = load_checkpoint(data_dir / "checkpoints" / "current.pt")
    lyrics = data_dir / "lyrics.txt"
    validation = set(served.validation_songs)
    # the training songs become one repeated character, so the candidate unlearns the validation songs
    songs = lyrics.read_text(encoding="utf-8").splitlines()
    lyrics.write_text("".join((s if i in validation else "春" * 30 + "/") + "\n" for i, s in enumerate(songs)),
                      encoding="utf-8")
    bot = await make_bot(with_changes(learning_rate=0.05))
    admin = bot.server.user(ADMIN_ID)

    started = await admin.ask("/retrain")
    assert started.text.startswith("训练 #1（管理员发起）已开始")
    outcome = await admin.next_message(timeout=90)

    [run] = read_runs(bot.settings.database_url)
    assert run.status is RunStatus.REJECTED
    assert outcome.text.startswith("训练 #1 完成：新模型没有上线")
    assert f"{run.metrics['val_loss_before']:.4f} → {run.metrics['val_loss_after']:.4f}" in outcome.text
    assert (await admin.next_message(timeout=30)).kind == "photo"
    assert bot.generation.version == served.version
    user = bot.server.user()
    await user.ask("春")
    assert rows(bot.settings, Generation, user_id=user.id)[0].model_version == served.version


@pytest.mark.parametrize("command", ["/retrain", "/retrain cancel", "/status"])
async def test_non_admin_refused(make_bot, command):
    bot = await make_bot()
    stranger = bot.server.user(language_code="en")

    reply = await stranger.ask(command)

    assert reply.text == "This command is for admins only."
    assert read_runs(bot.settings.database_url) == []


async def test_retrain_usage_and_nothing_to_cancel(make_bot):
    bot = await make_bot()
    admin = bot.server.user(ADMIN_ID, language_code="en")

    assert (await admin.ask("/retrain now")).text.startswith("Usage: /retrain starts a retraining run now")
    assert (await admin.ask("/retrain cancel")).text == "No run is active."
    assert read_runs(bot.settings.database_url) == []


async def test_sigkill_mid_run_keeps_old_model(make_bot, data_dir):
    # a long epoch and a time budget keep the job training until it is killed
    lengthen_corpus(data_dir / "lyrics.txt")
    bot = await make_bot(with_changes(max_steps=None, minutes=1.0))
    admin = bot.server.user(ADMIN_ID, language_code="en")
    old_version = bot.generation.version

    await admin.ask("/retrain")
    run = await wait_for_run(bot.settings.database_url, lambda r: (r.progress or {}).get("phase") == "training")
    os.kill(run.worker_pid, signal.SIGKILL)

    outcome = await admin.next_message(timeout=30)
    [run] = read_runs(bot.settings.database_url)
    assert run.status is RunStatus.FAILED
    assert run.error.startswith("the training process was killed by SIGKILL")
    assert outcome.text.startswith("Run #1 failed: the training process was killed by SIGKILL")
    assert outcome.text.endswith("The old model keeps serving.")

    user = bot.server.user()
    await user.ask("春")
    assert rows(bot.settings, Generation, user_id=user.id)[0].model_version == old_version
    assert load_checkpoint(bot.settings.checkpoint_path).version == old_version


async def test_cancel_stops_active_run(make_bot, data_dir):
    lengthen_corpus(data_dir / "lyrics.txt")
    bot = await make_bot(with_changes(max_steps=None, minutes=1.0))
    admin = bot.server.user(ADMIN_ID, language_code="en")

    await admin.ask("/retrain")
    await wait_for_run(bot.settings.database_url, lambda r: (r.progress or {}).get("phase") == "training")
    status = await admin.ask("/status")
    assert "Active: run #1 (by an admin, running since " in status.text
    assert "training loss" in status.text
    assert (await admin.ask("/retrain cancel")).text == "Asked run #1 to stop."

    outcome = await admin.next_message(timeout=30)
    [run] = read_runs(bot.settings.database_url)
    assert run.status is RunStatus.INTERRUPTED
    assert run.error == "cancelled by an admin"
    assert outcome.text.startswith("Run #1 interrupted: cancelled by an admin")


async def test_restart_marks_orphaned_run_failed(make_bot, data_dir):
    lengthen_corpus(data_dir / "lyrics.txt")
    bot = await make_bot(with_changes(max_steps=None, minutes=1.0))
    admin = bot.server.user(ADMIN_ID, language_code="en")
    await admin.ask("/retrain")
    run = await wait_for_run(bot.settings.database_url, lambda r: (r.progress or {}).get("phase") == "training")

    # the bot dies without a clean shutdown: its watcher is gone, then the job dies too
    service: RetrainingService = bot.service
    for followed in list(service.followed.values()):
        followed.watcher.cancel()
    service.followed.clear()
    os.kill(run.worker_pid, signal.SIGKILL)
    # asyncio's child watcher reaps the process; a zombie would still count as alive
    for _ in range(100):
        if not process_is_alive(run.worker_pid):
            break
        await asyncio.sleep(0.05)

    await make_bot(server=bot.server)
    [run] = read_runs(bot.settings.database_url)
    assert run.status is RunStatus.FAILED
    assert run.error.startswith(f"orphaned: worker process {run.worker_pid}")


async def test_feedback_reaches_training_set_forgotten_does_not(make_bot, data_dir):
    bot = await make_bot()
    keeper, leaver = bot.server.user(), bot.server.user()
    kept = await keeper.ask("春")
    await keeper.press_and_wait(kept, "5")
    gone = await leaver.ask("秋")
    await leaver.press_and_wait(gone, "5")
    kept_text = rows(bot.settings, Generation, user_id=keeper.id)[0].text
    gone_text = rows(bot.settings, Generation, user_id=leaver.id)[0].text
    confirm = await leaver.ask("/forget")
    await leaver.press_and_wait(confirm, "删除")
    await bot.server.wait_for_edit(leaver.id, confirm.message_id)

    admin = bot.server.user(ADMIN_ID, language_code="en")
    await admin.ask("/retrain")
    await admin.next_message(timeout=90)

    [run] = read_runs(bot.settings.database_url)
    corpus = (data_dir / "lyrics.txt").read_text(encoding="utf-8").splitlines()
    training_set = (Path(run.metrics["run_dir"]) / "train.txt").read_text(encoding="utf-8").splitlines()
    assert training_set[: len(corpus)] == corpus
    # a mean score of 5 writes the line twice
    assert training_set[len(corpus):] == [kept_text, kept_text]
    assert gone_text not in training_set[len(corpus):]
    assert run.metrics["feedback_lines"] == 1
    assert run.metrics["feedback_copies"] == 2


async def test_application_hooks_open_and_close_retraining(data_dir):
    async with BotApiServer(token=TOKEN) as server:
        settings = make_settings(server, data_dir, data_dir / "checkpoints" / "current.pt",
                                 LYRICBOT_LYRICS=str(data_dir / "lyrics.txt"))
        application = build_application(settings)
        service = register_retraining(application, settings, with_changes())
        # registering again before the start changes only the settings
        changed = with_changes(schedule="0 3 * * *", min_ratings=1000)
        assert register_retraining(application, settings, changed) is service
        assert service.retrain.schedule == "0 3 * * *"
        assert len(application.handlers[-1]) == 2

        # run_polling and run_webhook call these hooks in this order
        await application.initialize()
        await application.post_init(application)
        assert service.opened
        assert get_runtime(application).service is not None
        assert service.next_scheduled() is not None
        with pytest.raises(RuntimeError, match="already open"):
            register_retraining(application, settings, with_changes())
        await application.start()
        await application.stop()  # shuts the job queue down before post_stop
        await application.post_stop(application)
        assert not service.opened
        await application.shutdown()
        await application.post_shutdown(application)


async def test_corrupt_promoted_checkpoint_keeps_old_model(make_bot, caplog):
    bot = await make_bot()
    old_version = bot.generation.version
    corrupt = bot.settings.data_dir / "checkpoints" / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    engine = make_sync_engine(bot.settings.database_url)
    with Session(engine) as session, session.begin():
        queries.record_model_version(session=session, version="corrupt-version", path=str(corrupt))
    engine.dispose()

    await bot.service.sync_model()

    assert bot.generation.version == old_version
    assert "model corrupt-version from" in caplog.text
    user = bot.server.user()
    await user.ask("春")
    assert rows(bot.settings, Generation, user_id=user.id)[0].model_version == old_version


async def test_bot_with_older_model_swaps_to_newest(make_bot, data_dir):
    first = await make_bot()
    old_version = first.generation.version
    admin = first.server.user(ADMIN_ID, language_code="en")
    await admin.ask("/retrain")
    await admin.next_message(timeout=90)  # the outcome, sent after the swap
    [run] = read_runs(first.settings.database_url)
    assert run.status is RunStatus.SUCCEEDED

    # a second bot starts on the old file, as one that loaded it just before the promotion would
    stale = data_dir / "checkpoints" / "stale.pt"
    shutil.copy(Path(run.metrics["run_dir"]) / "previous.pt", stale)
    second = await make_bot(LYRICBOT_CHECKPOINT=str(stale))
    assert second.generation.version == old_version

    await second.service.sync_model()
    assert second.generation.version == run.metrics["candidate_version"]
    assert first.generation.version == run.metrics["candidate_version"]
