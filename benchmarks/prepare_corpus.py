"""Time `prepare` over the shared pop and songci corpora and check its output.

    python benchmarks/prepare_corpus.py [--corpus ../shared/corpus] [--out PATH]

Target: 20 s or less of wall time on a 2-core machine. The output check reads
every line of the written lyrics.txt. It counts songs that contain anything but
Han characters and "/" (timestamps, Latin letters, kana, hangul), songs that do
not end in "/", and songs with a lyric line that is a bare credit word. Figures
print and are saved to benchmarks/results/prepare_corpus.json (or --results).
"""

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from benchmarks.results_io import save  # noqa: E402
from data.charset import HAN_RANGES  # noqa: E402
from data.prepare import prepare_corpus  # noqa: E402

TARGET_S = 20.0
SONG_LINE = re.compile(f"^(?:[{HAN_RANGES}]+/)+$")
FOREIGN = {
    "digits or colons (timestamps)": re.compile(r"[0-9:：]"),
    "Latin letters": re.compile(r"[A-Za-z\u00c0-\u024f]"),
    "kana": re.compile(r"[\u3041-\u30ff\u31f0-\u31ff]"),
    "hangul": re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"),
}
CREDIT_START = re.compile(r"(?:^|/)(?:作词|作曲|编曲|混音|监制|制作人|演唱|出品)(?:/|$)")


def check_output(path: Path) -> dict[str, object]:
    """Count the lines of a lyrics.txt that break its format or hold leftovers."""
    songs = path.read_text(encoding="utf-8").split("\n")
    trailing = songs.pop()
    counts: dict[str, int] = {name: 0 for name in FOREIGN}
    malformed = [song[:60] for song in songs if not SONG_LINE.match(song)]
    for song in songs:
        for name, pattern in FOREIGN.items():
            counts[name] += 1 if pattern.search(song) else 0
    credits = [song[:60] for song in songs if CREDIT_START.search(song)]
    return {
        "songs": len(songs),
        "ends_with_newline": trailing == "",
        "malformed_songs": len(malformed),
        "malformed_examples": malformed[:5],
        "songs_with": counts,
        "songs_with_credit_lines": len(credits),
        "credit_examples": credits[:5],
        "passed": trailing == "" and not malformed and not credits and not any(counts.values()),
    }


def main() -> int:
    """Run the benchmark, print its figures and save them; exit 1 when the output check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPOSITORY / ".." / "shared" / "corpus")
    parser.add_argument("--out", type=Path, help="lyrics.txt to write (default: a temporary file)")
    parser.add_argument("--results", type=Path, default=REPOSITORY / "benchmarks" / "results" / "prepare_corpus.json")
    args = parser.parse_args()

    sources = [args.corpus / "pop", args.corpus / "songci"]
    missing = [str(source) for source in sources if not source.is_dir()]
    if missing:
        print(f"corpus folders not found: {', '.join(missing)}; pass --corpus", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as folder:
        out = args.out or Path(folder) / "lyrics.txt"
        wall_started, cpu_started = time.perf_counter(), time.process_time()
        report = prepare_corpus(sources, out, progress=False)
        wall, cpu = time.perf_counter() - wall_started, time.process_time() - cpu_started
        check = check_output(out)
        size = out.stat().st_size

    print(report.format())
    print(f"wall time {wall:.2f} s, CPU time {cpu:.2f} s (target: {TARGET_S:.0f} s wall)")
    print(f"output {size:,} bytes; check {'passed' if check['passed'] else 'FAILED'}: {json.dumps(check, ensure_ascii=False)}")

    results = {
        "benchmark": "prepare_corpus",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "sources": [str(source.resolve()) for source in sources],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "target_wall_s": TARGET_S,
        "target_met": wall <= TARGET_S,
        "output_bytes": size,
        "check": check,
        "report": report.to_dict(),
    }
    save(results, args.results)
    return 0 if check["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
