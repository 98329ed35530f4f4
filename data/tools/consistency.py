"""Consistency report for the annotated corpus (a markdown report on stdout).

    python data/tools/consistency.py                  # whole report
    python data/tools/consistency.py --kinds a b      # only some kinds (a, b, c, d)
    python data/tools/consistency.py --summary        # item counts per kind only
    python data/tools/consistency.py FILE.jsonl ...   # other files instead of the batches

Reads the anchored batches ``data/annotations/batch-*.jsonl`` (not the
``.src.jsonl`` surface-string files) and the seed article
``tests/data/seed-article.jsonl`` and reports four kinds of items:

a. Surface strings labelled differently in different places. Strings are
   compared after goftar's offset-keeping normaliser (Arabic ي/ك → ی/ک, digits,
   bidi marks …) with ZWNJ, spaces and zero-width characters removed and
   أ/إ → ا, ة/ۀ → ه, so «هسته‌ای», «هسته ای» and «هستهاي» are one string.
   a1: a string that got different labels (entity types or SECTOR
       categories, across the ne, role and sector layers);
   a2: a string annotated in a layer in one place and left unannotated in
       that layer in another. An unannotated occurrence is the string at a
       word boundary (no letter, digit or ZWNJ glued to either side) that
       overlaps no span of that layer. For the sector layer, occurrences that
       overlap a ne or ROLE span are skipped (sectors are not annotated
       inside names and titles), and so are newsroom desk words: an
       occurrence right after «خبرنگار» or «گروه» with an ORG span starting
       within 30 characters after it («خبرنگار اقتصادی خبرگزاری فارس»,
       «گروه اقتصاد بین‌الملل فارس»). Only strings annotated at least twice
       or with at least two unannotated occurrences are reported.
b. Speech verbs with a colon («گفت:», «افزود:», «تصریح کرد:», «اظهار داشت:»,
   «خاطرنشان کرد:», «ادامه داد:», «خبر داد:») or the indirect forms «با بیان
   اینکه», «با اشاره به اینکه», «با تأکید بر اینکه», «گفت که» (matched with
   Arabic ي/ك, ZWNJ/space and spacing-before-colon variants).
   b1: sentences that contain such a trigger and no QUOTE span at all;
   b2: triggers in a sentence that has a QUOTE, but with no QUOTE starting
       right after the trigger (within a few characters) and the trigger not
       inside a QUOTE (nested speech is fine).
c. QUOTEs without a said_by relation.
d. ROLEs without a role_of relation in an article that has a PER mention.

Every item shows batch, article id, character offset and context
(``…left[mention]right…``, newlines shown as ⏎). Item keys (``a1:LABELKEY``,
``b1:DOC@OFFSET`` …) are stable across runs, so a decision log can cite them.
Uses the standard library and goftar.inference only.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
try:
    from goftar.inference.normalize import normalize
except ImportError:  # running without the package installed: load the checkout's module
    import importlib.util

    _spec = importlib.util.spec_from_file_location("_goftar_normalize", ROOT / "inference" / "normalize.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _mod
    _spec.loader.exec_module(_mod)  # type: ignore[union-attr]
    normalize = _mod.normalize

SEED = ROOT / "tests" / "data" / "seed-article.jsonl"
GAP = "\u200c\u200b \t"  # characters that may come and go between two letters
EXTRA = str.maketrans({"أ": "ا", "إ": "ا", "ٱ": "ا", "ة": "ه", "ۀ": "ه", "ؤ": "و"})
NE_TYPES = {"PER", "ORG", "LOC", "FAC", "PRO", "EVENT", "DATE", "TIME", "MONEY", "PERCENT"}
LAYER = {**{t: "ne" for t in NE_TYPES}, "ROLE": "role", "SECTOR": "sector", "QUOTE": "quote"}
CONTEXT = 35


# --------------------------------------------------------------------------- loading
def load(paths: list[Path]) -> list[dict]:
    docs = []
    for path in paths:
        batch = "seed" if path == SEED else path.name.split(".")[0]
        for line in path.open(encoding="utf-8"):
            if line.strip():
                d = json.loads(line)
                d["_batch"] = batch
                d["_norm"] = normalize(d["text"]).translate(EXTRA)
                d["_by_id"] = {e["id"]: e for e in d["entities"]}
                docs.append(d)
    return docs


def default_paths() -> list[Path]:
    ann = sorted(p for p in (ROOT / "data" / "annotations").glob("batch-*.jsonl") if not p.name.endswith(".src.jsonl"))
    return ann + ([SEED] if SEED.exists() else [])


# --------------------------------------------------------------------------- helpers
def key_of(s: str) -> str:
    """Comparison key of a surface string: normalised, gaps removed."""
    return "".join(c for c in normalize(s).translate(EXTRA) if c not in GAP)


def wordchar(c: str) -> bool:
    return c.isalnum() or c in "\u200c\u200b" or unicodedata.category(c).startswith("M")


def ctx(text: str, start: int, end: int, width: int = CONTEXT) -> str:
    left = text[max(0, start - width):start]
    right = text[end:end + width]
    s = f"…{left}[{text[start:end]}]{right}…"
    return s.replace("\n", " ⏎ ")


def where(d: dict, start: int) -> str:
    return f"{d['_batch']} `{d['id']}` @{start}"


def overlaps(spans: list[tuple[int, int]], s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in spans)


def pattern_of(key: str) -> re.Pattern:
    gap = f"[{GAP}]{{0,2}}"
    return re.compile(gap.join(re.escape(c) for c in key))


def occurrences(d: dict, pat: re.Pattern) -> list[tuple[int, int]]:
    norm, out, pos = d["_norm"], [], 0
    while True:
        m = pat.search(norm, pos)
        if not m:
            return out
        s, e = m.span()
        pos = s + 1
        if s > 0 and wordchar(norm[s - 1]):
            continue
        if e < len(norm) and wordchar(norm[e]):
            continue
        out.append((s, e))


DESK = re.compile("(?:" + "|".join(
    f"[{GAP}]?".join(re.escape(c) for c in normalize(w)) for w in ("خبرنگار", "گروه")) + f")[{GAP}]+$")


def desk_word(d: dict, s: int, e: int) -> bool:
    """A newsroom desk word: «خبرنگار اقتصادی خبرگزاری فارس», «گروه اقتصاد بین‌الملل فارس»."""
    if not DESK.search(d["_norm"][max(0, s - 12):s]):
        return False
    return any(x["type"] == "ORG" and e <= x["start"] <= e + 30 for x in d["entities"])


def label(e: dict) -> str:
    return f"SECTOR:{e['category']}" if e["type"] == "SECTOR" else e["type"]


# --------------------------------------------------------------------------- kind a
def kind_a(docs: list[dict]) -> tuple[list[str], list[str]]:
    ann = defaultdict(list)  # key -> [(doc, entity)]
    for d in docs:
        for e in d["entities"]:
            if e["type"] != "QUOTE":
                ann[key_of(d["text"][e["start"]:e["end"]])].append((d, e))
    a1, a2 = [], []
    for key in sorted(ann):
        items = ann[key]
        labels = Counter(label(e) for _, e in items)
        if len(labels) > 1:
            lines = [f"#### a1:`{key}` — " + ", ".join(f"{l}×{c}" for l, c in labels.most_common())]
            for d, e in sorted(items, key=lambda x: (label(x[1]), x[0]["_batch"], x[0]["id"], x[1]["start"])):
                lines.append(f"- {label(e)}: {where(d, e['start'])} {ctx(d['text'], e['start'], e['end'])}")
            a1.append("\n".join(lines))
    for layer in ("ne", "role", "sector"):
        for key in sorted(ann):
            items = [(d, e) for d, e in ann[key] if LAYER[e["type"]] == layer]
            if not items or len(key) < 2:
                continue
            pat = pattern_of(key)
            missing = []
            for d in docs:
                own = [(e["start"], e["end"]) for e in d["entities"] if LAYER[e["type"]] == layer]
                other = [(e["start"], e["end"]) for e in d["entities"] if LAYER[e["type"]] in ("ne", "role")]
                for s, e in occurrences(d, pat):
                    if overlaps(own, s, e):
                        continue
                    if layer == "sector" and (overlaps(other, s, e) or desk_word(d, s, e)):
                        continue
                    missing.append((d, s, e))
            if not missing or (len(items) < 2 and len(missing) < 2):
                continue
            labels = Counter(label(e) for _, e in items)
            lines = [f"#### a2:{layer}:`{key}` — annotated " + ", ".join(f"{l}×{c}" for l, c in labels.most_common())
                     + f"; unannotated ×{len(missing)}"]
            for d, e in items[:3]:
                lines.append(f"- annotated {label(e)}: {where(d, e['start'])} {ctx(d['text'], e['start'], e['end'])}")
            if len(items) > 3:
                lines.append(f"- … {len(items) - 3} more annotated")
            for d, s, e in missing:
                lines.append(f"- **unannotated**: {where(d, s)} {ctx(d['text'], s, e)}")
            a2.append("\n".join(lines))
    return a1, a2


# --------------------------------------------------------------------------- kind b
def _alt(word: str) -> str:
    """Regex for a trigger phrase on normalised text: any gap between words, optional gap inside."""
    parts = []
    for w in word.split(" "):
        parts.append(f"[{GAP}]?".join(re.escape(c) for c in normalize(w).translate(EXTRA)))
    return f"[{GAP}]*".join(parts)


COLON_VERBS = ["گفت", "افزود", "تصریح کرد", "اظهار داشت", "خاطرنشان کرد", "ادامه داد", "خبر داد"]
INDIRECT = ["با بیان اینکه", "با اشاره به اینکه", "با تاکید بر اینکه", "گفت که"]
TRIGGER = re.compile(
    r"(?<![\w\u200c\u200b])(?:"
    + "|".join(f"(?:{_alt(v)})[ \t\u200c\u200b]*:" for v in COLON_VERBS)
    + "|" + "|".join(f"(?:{_alt(v)})(?![\\w\u200c\u200b])" for v in INDIRECT)
    + ")"
)
SENT_END = re.compile(r"[.!?؟\n]")


def sentences(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in SENT_END.finditer(text):
        # a full stop between digits (2.5) is no sentence end
        if m.group() == "." and 0 < m.start() < len(text) - 1 and text[m.start() - 1].isdigit() and text[m.start() + 1].isdigit():
            continue
        out.append((start, m.end()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def kind_b(docs: list[dict]) -> tuple[list[str], list[str]]:
    b1, b2 = [], []
    for d in docs:
        quotes = sorted((e["start"], e["end"]) for e in d["entities"] if e["type"] == "QUOTE")
        for s0, e0 in sentences(d["text"]):
            trig = [m for m in TRIGGER.finditer(d["_norm"], s0, e0)]
            if not trig:
                continue
            sent = d["text"][s0:e0].strip()
            if not overlaps(quotes, s0, e0):
                t = trig[0]
                b1.append(f"- b1:`{d['id']}@{t.start()}` {where(d, t.start())} trigger «{d['text'][t.start():t.end()]}»: "
                          + ctx(d["text"], t.start(), t.end(), 60) + f"  \n  sentence: {sent[:300]}{'…' if len(sent) > 300 else ''}")
                continue
            for t in trig:
                if overlaps(quotes, t.start(), t.end()):
                    continue  # reported speech nested inside a quote
                follow = any(t.end() <= qs <= t.end() + 4 for qs, _ in quotes)
                if not follow:
                    b2.append(f"- b2:`{d['id']}@{t.start()}` {where(d, t.start())} trigger «{d['text'][t.start():t.end()]}»: "
                              + ctx(d["text"], t.start(), t.end(), 60))
    return b1, b2


# --------------------------------------------------------------------------- kinds c, d
def kind_c(docs: list[dict]) -> list[str]:
    out = []
    for d in docs:
        said = {r["head"] for r in d["relations"] if r["type"] == "said_by"}
        for e in d["entities"]:
            if e["type"] == "QUOTE" and e["id"] not in said:
                q = d["text"][e["start"]:e["end"]]
                left = d["text"][max(0, e["start"] - 90):e["start"]].replace("\n", " ⏎ ")
                out.append(f"- c:`{d['id']}@{e['start']}` {where(d, e['start'])} {e['id']}: …{left}[{q[:80]}{'…' if len(q) > 80 else ''}]")
    return out


def kind_d(docs: list[dict]) -> list[str]:
    out = []
    for d in docs:
        if not any(e["type"] == "PER" for e in d["entities"]):
            continue
        has = {r["head"] for r in d["relations"] if r["type"] == "role_of"}
        pers = sorted({d["text"][e["start"]:e["end"]] for e in d["entities"] if e["type"] == "PER"})
        for e in d["entities"]:
            if e["type"] == "ROLE" and e["id"] not in has:
                out.append(f"- d:`{d['id']}@{e['start']}` {where(d, e['start'])} {e['id']} "
                           + ctx(d["text"], e["start"], e["end"], 50) + f"  \n  PERs in article: {', '.join(pers)}")
    return out


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="JSONL files (default: the batches and the seed article)")
    ap.add_argument("--kinds", nargs="+", choices=list("abcd"), default=list("abcd"))
    ap.add_argument("--summary", action="store_true", help="print the number of items per kind only")
    args = ap.parse_args(argv)
    docs = load(args.files or default_paths())
    sections: list[tuple[str, str, list[str]]] = []
    if "a" in args.kinds:
        a1, a2 = kind_a(docs)
        sections += [("a1", "Surface strings with different labels", a1),
                     ("a2", "Surface strings annotated in one place, unannotated in another", a2)]
    if "b" in args.kinds:
        b1, b2 = kind_b(docs)
        sections += [("b1", "Sentences with a speech verb + colon or an indirect-quote form and no QUOTE", b1),
                     ("b2", "Speech-verb triggers not followed by a QUOTE (sentence has another QUOTE)", b2)]
    if "c" in args.kinds:
        sections.append(("c", "QUOTEs without said_by", kind_c(docs)))
    if "d" in args.kinds:
        sections.append(("d", "ROLEs without role_of in an article with a PER", kind_d(docs)))
    batches = Counter(d["_batch"] for d in docs)
    print("# Annotation consistency report\n")
    print(f"{len(docs)} articles (" + ", ".join(f"{b}: {n}" for b, n in sorted(batches.items())) + ").\n")
    print("| kind | what | items |\n|---|---|---|")
    for k, title, items in sections:
        print(f"| {k} | {title} | {len(items)} |")
    if args.summary:
        return 0
    for k, title, items in sections:
        print(f"\n## {k}. {title} ({len(items)})\n")
        sep = "\n\n" if k in ("a1", "a2") else "\n"
        print(sep.join(items) if items else "_none_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
