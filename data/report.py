"""The report of one prepare run: counts, drop reasons, problems and corpus statistics."""

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class PrepareReport:
    """The counts and problems of one prepare run: files and songs read, kept and dropped."""

    out: Path
    files_read: int = 0
    files_failed: int = 0
    files_skipped: Counter[str] = field(default_factory=Counter)
    songs_read: int = 0
    songs_kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[str, str]] = field(default_factory=list)
    lyric_lines: int = 0
    characters: int = 0
    vocabulary_size: int = 0
    top_characters: list[tuple[str, int]] = field(default_factory=list)
    written: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Return the report as plain JSON-ready values."""
        values = asdict(self)
        values["out"] = str(self.out)
        values["files_skipped"] = dict(sorted(self.files_skipped.items()))
        values["dropped"] = dict(sorted(self.dropped.items()))
        values["problems"] = [{"source": source, "reason": reason} for source, reason in self.problems]
        values["top_characters"] = [[char, count] for char, count in self.top_characters]
        return values

    def format(self) -> str:
        """Render the report as the text block the command prints."""
        dropped = ", ".join(f"{reason} {count:,}" for reason, count in sorted(self.dropped.items())) or "none"
        skipped = ", ".join(f"{kind} {count:,}" for kind, count in sorted(self.files_skipped.items())) or "none"
        top = "  ".join(f"{char} {count:,}" for char, count in self.top_characters) or "none"
        total_files = self.files_read + self.files_failed
        outcome = f"wrote {self.out}" if self.written else f"nothing written; {self.out} left as it was"
        rows = [
            ("files read", f"{self.files_read:,} of {total_files:,} lyric files ({self.files_failed:,} failed to read), skipped by type: {skipped}"),
            ("songs read", f"{self.songs_read:,}"),
            ("songs kept", f"{self.songs_kept:,}"),
            ("songs dropped", f"{sum(self.dropped.values()):,} ({dropped})"),
            ("problems", f"{len(self.problems):,}" + (" (listed above)" if self.problems else "")),
            ("lyric lines", f"{self.lyric_lines:,}"),
            ("characters", f'{self.characters:,} Han characters, not counting "/" and newlines'),
            ("vocabulary", f"{self.vocabulary_size:,} distinct Han characters"),
            ("most frequent", top),
            ("time", f"{self.seconds:.1f} s"),
        ]
        width = max(len(label) for label, _ in rows)
        return "\n".join([outcome, *(f"  {label:<{width}}  {value}" for label, value in rows)])
