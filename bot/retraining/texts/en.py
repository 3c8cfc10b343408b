"""Retraining texts in English, for users whose Telegram language is English."""

from bot.retraining.texts import RetrainTexts

TEXTS = RetrainTexts(
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
