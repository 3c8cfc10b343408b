"""Texts of /retrain, /status and the run reports: one module per language, as in bot.texts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import is_english


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



def retrain_texts(language_code: str | None) -> RetrainTexts:
    """Return English texts for an English Telegram language code and Chinese ones otherwise."""
    from bot.retraining.texts import en, zh

    return en.TEXTS if is_english(language_code) else zh.TEXTS
