"""Texts of /retrain, /status and the run reports, in Simplified Chinese (default) and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrainTexts:
    """All retraining texts of one language; fields name their `str.format` fields."""

    language: str
    admin_only: str
    usage: str
    started: str  # {run_id}, {trigger}
    already_active: str  # {run_id}, {status}, {since}
    nothing_to_cancel: str
    cancel_requested: str  # {run_id}
    not_ready: str
    progress: str  # {run_id}, {phase}, {details}
    progress_details: str  # {epoch}, {epochs}, {step}, {loss}, {val_loss}, {percent}, {eta}
    phases: dict[str, str]
    promoted: str  # {run_id}, {before}, {after}, {version}, {duration}
    rejected: str  # {run_id}, {before}, {after}, {tolerance}
    failed: str  # {run_id}, {status}, {reason}
    plot_caption: str  # {run_id}
    triggers: dict[str, str]
    statuses: dict[str, str]
    status_model: str  # {version}, {since}
    status_active: str  # {run_id}, {trigger}, {status}, {since}, {details}
    status_no_active: str
    status_recent_header: str
    status_recent_row: str  # {run_id}, {trigger}, {status}, {when}, {outcome}
    status_no_runs: str
    status_next: str  # {when}
    status_schedule_off: str
    unknown: str


ZH = RetrainTexts(
    language="zh",
    admin_only="这个命令只有管理员能用。",
    usage="用法：/retrain 立即开始重新训练；/retrain cancel 停止正在进行的训练。",
    started="训练 #{run_id}（{trigger}）已开始，进度会更新在这条消息里。",
    already_active="训练 #{run_id} 正在{status}，开始于 {since}。等它结束，或用 /retrain cancel 停止它。",
    nothing_to_cancel="现在没有正在进行的训练。",
    cancel_requested="已请求停止训练 #{run_id}。",
    not_ready="重新训练还没准备好，请稍后再试。",
    progress="训练 #{run_id}：{phase}{details}",
    progress_details="\n第 {epoch}/{epochs} 轮，第 {step} 步，训练损失 {loss}，验证损失 {val_loss}，{percent}%，预计还需 {eta}",
    phases={
        "queued": "排队中", "loading": "读取模型", "data": "整理训练数据", "evaluating": "评估当前模型",
        "training": "训练中", "comparing": "比较新旧模型", "promoting": "上线新模型", "finished": "已结束",
    },
    promoted="训练 #{run_id} 完成：新模型已上线（版本 {version}）。\n验证损失 {before} → {after}，用时 {duration}。",
    rejected="训练 #{run_id} 完成：新模型没有上线，因为它更差。\n验证损失 {before} → {after}（容差 {tolerance}）。旧模型继续服务。",
    failed="训练 #{run_id} {status}：{reason}\n旧模型继续服务。",
    plot_caption="训练 #{run_id} 的训练损失和验证损失",
    triggers={"admin": "管理员发起", "schedule": "定时"},
    statuses={
        "queued": "排队", "running": "运行", "succeeded": "已上线", "rejected": "未上线",
        "failed": "失败", "interrupted": "已中断",
    },
    status_model="当前模型：{version}（自 {since}）",
    status_active="进行中：训练 #{run_id}（{trigger}，{status}，开始于 {since}）{details}",
    status_no_active="没有进行中的训练。",
    status_recent_header="最近的训练：",
    status_recent_row="#{run_id} {trigger} {status} {when} {outcome}",
    status_no_runs="还没有训练记录。",
    status_next="下次定时训练：{when}",
    status_schedule_off="定时训练已关闭。",
    unknown="未知",
)

EN = RetrainTexts(
    language="en",
    admin_only="This command is for admins only.",
    usage="Usage: /retrain starts a retraining run now; /retrain cancel stops the active run.",
    started="Run #{run_id} ({trigger}) started; this message shows its progress.",
    already_active="Run #{run_id} is already {status} since {since}. Wait for it to finish or stop it with /retrain cancel.",
    nothing_to_cancel="No run is active.",
    cancel_requested="Asked run #{run_id} to stop.",
    not_ready="Retraining is not ready yet; try again in a moment.",
    progress="Run #{run_id}: {phase}{details}",
    progress_details="\nepoch {epoch}/{epochs}, step {step}, training loss {loss}, validation loss {val_loss}, "
    "{percent}%, about {eta} left",
    phases={
        "queued": "queued", "loading": "loading the model", "data": "building the training set",
        "evaluating": "scoring the current model", "training": "training", "comparing": "comparing the models",
        "promoting": "promoting the new model", "finished": "finished",
    },
    promoted="Run #{run_id} promoted model {version}.\nValidation loss {before} → {after}, took {duration}.",
    rejected="Run #{run_id} rejected its candidate because it is worse.\nValidation loss {before} → {after} "
    "(tolerance {tolerance}). The old model keeps serving.",
    failed="Run #{run_id} {status}: {reason}\nThe old model keeps serving.",
    plot_caption="Training and validation loss of run #{run_id}",
    triggers={"admin": "by an admin", "schedule": "scheduled"},
    statuses={
        "queued": "queued", "running": "running", "succeeded": "promoted", "rejected": "rejected",
        "failed": "failed", "interrupted": "interrupted",
    },
    status_model="Model: {version} (since {since})",
    status_active="Active: run #{run_id} ({trigger}, {status} since {since}){details}",
    status_no_active="No run is active.",
    status_recent_header="Last runs:",
    status_recent_row="#{run_id} {trigger} {status} {when} {outcome}",
    status_no_runs="No runs yet.",
    status_next="Next scheduled run: {when}",
    status_schedule_off="The schedule is off.",
    unknown="unknown",
)


def retrain_texts(language_code: str | None) -> RetrainTexts:
    """Return English texts for an English Telegram language code and Chinese ones otherwise."""
    if language_code and language_code.lower().split("-")[0] == "en":
        return EN
    return ZH
