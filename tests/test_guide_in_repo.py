"""The annotation guide ships in the repository (docs/ANNOTATION.md) and every reference points there.

A clean clone has no ../shared, so a shipped file that points at ../shared/ANNOTATION.md
(or an absolute /work/shared/ANNOTATION.md) sends its reader to a file that is not there.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "ANNOTATION.md"
OUTSIDE = re.compile(r"(\.\./|/work/)shared/ANNOTATION\.md")


def _shipped_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split("\n")
    # this test names the outside path on purpose; corpus data is not prose
    return [ROOT / p for p in out if p and p != "tests/test_guide_in_repo.py" and not p.endswith(".jsonl")]


def test_guide_is_in_the_repository_at_version_1_1() -> None:
    first = GUIDE.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Annotation guide") and "(version 1.1)" in first


def test_no_shipped_file_points_outside_the_repository_for_the_guide() -> None:
    offenders = []
    for path in _shipped_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)


def test_markdown_links_to_the_guide_resolve() -> None:
    for path in _shipped_files():
        if path.suffix != ".md":
            continue
        for target in re.findall(r"\]\(([^)#]*ANNOTATION\.md)", path.read_text(encoding="utf-8")):
            assert (path.parent / target).resolve() == GUIDE, f"{path.relative_to(ROOT)} links {target}"
