"""Retraining texts in Simplified Chinese, the default."""

from bot.retraining.texts import RetrainTexts

TEXTS = RetrainTexts(
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
