"""Query functions of the bot and the training job.

Every function takes the session as the keyword-only `session` argument and
never commits: the caller opens one short transaction per unit of work.
"""

from db.queries.generations import (
    ForgetResult,
    HistoryEntry,
    HistoryPage,
    forget_user,
    get_generation,
    record_generation,
    user_history,
)
from db.queries.ratings import RatingOutcome, get_rating, rate
from db.queries.runs import (
    active_run,
    cancel_run,
    finish_run,
    get_run,
    process_is_alive,
    queue_run,
    recent_runs,
    recover_orphan_runs,
    request_cancel,
    start_run,
    update_run_progress,
)
from db.queries.statistics import (
    FeedbackLine,
    Statistics,
    VersionStatistics,
    count_ratings_since_last_run,
    feedback_lines,
    statistics,
)
from db.queries.users import UserSettings, get_user, get_user_settings, set_user_settings, upsert_user
from db.queries.versions import current_model_version, record_model_version

__all__ = [
    "FeedbackLine",
    "ForgetResult",
    "HistoryEntry",
    "HistoryPage",
    "RatingOutcome",
    "Statistics",
    "UserSettings",
    "VersionStatistics",
    "active_run",
    "cancel_run",
    "count_ratings_since_last_run",
    "current_model_version",
    "feedback_lines",
    "finish_run",
    "forget_user",
    "get_generation",
    "get_rating",
    "get_run",
    "get_user",
    "get_user_settings",
    "process_is_alive",
    "queue_run",
    "rate",
    "recent_runs",
    "record_generation",
    "record_model_version",
    "recover_orphan_runs",
    "request_cancel",
    "set_user_settings",
    "start_run",
    "statistics",
    "update_run_progress",
    "user_history",
]
