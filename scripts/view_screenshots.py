"""Screenshots of the analysts' views for docs/ (headless Chromium, see tests/chromium.py).

    .venv/bin/goftar predict data/examples -o runs/demo.jsonl --no-progress
    .venv/bin/python scripts/view_screenshots.py runs/demo.jsonl --out docs/img

Writes article-<id>.png for the seed article as annotated (tests/data/seed-article.jsonl)
and as predicted, article-narrow.png (700 px wide) and report.png.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from chromium import Browser  # noqa: E402

from goftar.inference.views import page_name  # noqa: E402
from goftar.inference.views.render import render_files  # noqa: E402
from goftar.inference.views.report import report_files  # noqa: E402

SEED_ID = "mehr-belarus-parliament-1403-05-10"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pred", help="predictions of data/examples (goftar predict)")
    ap.add_argument("--out", default="docs/img")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Browser() as b:
        tmp = Path(tmp)
        render_files([str(ROOT / "tests" / "data" / "seed-article.jsonl")], str(tmp / "gold"))
        render_files([args.pred], str(tmp / "pred"))
        report_files([args.pred], str(tmp / "report.html"), views=str(tmp / "pred"))
        shots = [
            (tmp / "gold" / page_name(SEED_ID), 1280, 900, "article-seed-gold.png", True),
            (tmp / "pred" / page_name(SEED_ID), 1280, 900, "article-seed-predicted.png", True),
            (tmp / "gold" / page_name(SEED_ID), 700, 1200, "article-narrow.png", False),
            (tmp / "report.html", 1100, 900, "report.png", True),
        ]
        for src, w, h, name, full in shots:
            page = b.open(src.as_uri(), width=w, height=h)
            page.screenshot(out / name, full_page=full, max_height=3200)
            print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
