"""The retraining set: the corpus followed by the well-rated generated lines, weighted by copies.

Selection rule: a generation joins the set when the mean of its ratings is at
least `good_score` and none of its ratings is at or below `bad_score`, so one
strong dislike keeps a line out. Lines a user removed with /forget are gone
from the database and so never reach the set.

Weighting rule: a selected line is written `copies` times, where copies is 1,
plus 1 when its mean score is the maximum 5, plus 1 when at least
`AGREEMENT_RATINGS` users rated it. So a line lands 1 to 3 times in the stream
of training songs.

The corpus songs come first and in their own order, because a checkpoint's
validation songs are indices into the corpus: appending keeps those indices.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from db import queries

logger = logging.getLogger(__name__)

MAX_SCORE = 5
# Ratings from this many users make a line count once more.
AGREEMENT_RATINGS = 3
# Upper bound on feedback lines in one training set, best rated first.
DEFAULT_MAX_LINES = 5000


@dataclass(frozen=True)
class RatedLine:
    """A generation chosen for retraining, with its ratings summary and weight."""

    generation_id: int
    text: str
    mean_score: float
    lowest_score: int
    ratings: int

    @property
    def copies(self) -> int:
        """Times the line is written into the training set (see the module's weighting rule)."""
        copies = 1
        if self.mean_score >= MAX_SCORE:
            copies += 1
        if self.ratings >= AGREEMENT_RATINGS:
            copies += 1
        return copies


@dataclass(frozen=True)
class TrainingSet:
    """The file written for one run and what went into it."""

    path: Path
    corpus_songs: int
    feedback_lines: int
    feedback_copies: int
    skipped_lines: int


def select_rated_lines(
    *, session: Session, good_score: float, bad_score: float, limit: int = DEFAULT_MAX_LINES
) -> list[RatedLine]:
    """Return the generations that the selection rule keeps, best mean score first."""
    lines = queries.feedback_lines(session=session, min_score=good_score, bad_score=bad_score, limit=limit)
    return [
        RatedLine(
            generation_id=line.generation_id,
            text=line.text,
            mean_score=line.average_score,
            lowest_score=line.lowest_score,
            ratings=line.rating_count,
        )
        for line in lines
    ]


def song_from_generation(text: str) -> str | None:
    """Return a generation's text as one lyrics.txt song, or None when it cannot be one.

    A stored generation is its lines joined, each ending with "/". Whitespace and
    line breaks are dropped; an empty text or one that does not end with "/"
    is not a song.
    """
    song = "".join(text.split())
    if len(song) < 2 or not song.endswith("/"):
        return None
    return song


def write_training_set(corpus: list[str], lines: list[RatedLine], path: str | os.PathLike[str]) -> TrainingSet:
    """Write the corpus songs, then each rated line `copies` times, to `path` in the lyrics.txt format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    used = 0
    copies = 0
    skipped = 0
    with open(path, "w", encoding="utf-8") as stream:
        for song in corpus:
            stream.write(song + "\n")
        for line in lines:
            song = song_from_generation(line.text)
            if song is None:
                skipped += 1
                logger.warning("generation %s skipped: its text %r is not a lyric line", line.generation_id, line.text)
                continue
            used += 1
            copies += line.copies
            stream.write((song + "\n") * line.copies)
    return TrainingSet(path, len(corpus), used, copies, skipped)
