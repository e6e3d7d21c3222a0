"""A real public document set for the benchmarks: Debian's `python3.11-doc` HTML manual.

Fetched once with `apt-get download` (no root install: the package is only unpacked with
`dpkg-deb -x`) into a cache folder (BENCH_CACHE, default bench/out/cache, which git ignores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "python3.11-doc"
HTML_IN_PACKAGE = Path("usr/share/doc/python3.11/html")


def cache_dir() -> Path:
    """Where downloads and derived data are kept between runs."""
    folder = Path(os.environ.get("BENCH_CACHE") or Path(__file__).resolve().parent / "out" / "cache")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _download(folder: Path) -> Path:
    debs = sorted(folder.glob(f"{PACKAGE}_*.deb"))
    if debs:
        return debs[-1]
    if shutil.which("apt-get") is None:
        raise SystemExit(f"apt-get is needed to fetch {PACKAGE} (or set BENCH_CACHE to a folder holding its .deb)")
    _log(f"downloading {PACKAGE} with apt-get")
    attempt = subprocess.run(["apt-get", "download", PACKAGE], cwd=folder, capture_output=True, text=True)
    if attempt.returncode != 0:  # a fresh system may have no package lists yet
        _log("apt-get download failed; running apt-get update first")
        subprocess.run(["apt-get", "update"], capture_output=True, text=True, check=False)
        attempt = subprocess.run(["apt-get", "download", PACKAGE], cwd=folder, capture_output=True, text=True)
    debs = sorted(folder.glob(f"{PACKAGE}_*.deb"))
    if attempt.returncode != 0 or not debs:
        raise SystemExit(f"could not download {PACKAGE}: {attempt.stderr.strip()}")
    return debs[-1]


def html_root() -> Path:
    """The unpacked HTML manual (its folder holding library/, reference/, tutorial/, ...)."""
    folder = cache_dir() / PACKAGE
    root = folder / "unpacked" / HTML_IN_PACKAGE
    if (root / "library" / "json.html").is_file():
        return root
    folder.mkdir(parents=True, exist_ok=True)
    deb = _download(folder)
    shutil.rmtree(folder / "unpacked", ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "unpacked")], check=True)
    if not (root / "library" / "json.html").is_file():
        raise SystemExit(f"{deb.name} has no {HTML_IN_PACKAGE}/library/json.html")
    return root


def library_pages(root: Path) -> list[Path]:
    """The library reference pages, one per module or topic, in name order."""
    return sorted((root / "library").glob("*.html"))


def all_pages(root: Path) -> list[Path]:
    """Every prose page of the manual (no generated indexes), in path order."""
    skip = {"genindex", "search", "py-modindex", "contents", "copyright", "license", "download", "bugs", "about"}
    return sorted(
        p
        for p in root.rglob("*.html")
        if not p.relative_to(root).parts[0].startswith("_") and not p.stem.startswith(tuple(skip))
    )
