"""Helpers shared by several test modules (not a test module: pytest collects nothing here).

Fixtures live in conftest.py; plain functions and constants that tests import live here:
``from tests.helpers import make_doc``.
"""
from __future__ import annotations

import json
from pathlib import Path

from goftar.inference.document import Document, Entity, Relation

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
SEED = DATA / "seed-article.jsonl"
LONG = DATA / "fars-long.txt"
ZWNJ = "\u200c"

# Two short annotated articles the tiny encoder's vocabulary is trained on (tests/training/test_continue_training.py).
NEW_TEXTS = [
    "وزیر نفت در این نشست گفت: صادرات گاز و برق به عراق افزایش می‌یابد.\nزنگنه افزود: صنعت پتروشیمی نیز رشد کرده است.",
    "رئیس بانک مرکزی با بیان اینکه نظام بانکی باید اصلاح شود، گفت: بیمه و بورس نیز مهم هستند.\nهمتی این سخنان را در تهران بیان کرد.",
]


def make_doc(text: str, spans: list[tuple], relations: list[tuple] = (), doc_id: str = "d1") -> Document:
    """Build a document from surfaces instead of offsets.

    spans: ``(id, type, surface[, nth[, category]])``: the nth occurrence of
    ``surface`` in ``text``. relations: ``(type, head, tail[, score])``.
    """
    ents = []
    for sp in spans:
        eid, etype, surface = sp[:3]
        nth = sp[3] if len(sp) > 3 else 0
        cat = sp[4] if len(sp) > 4 else None
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        ents.append(Entity(eid, etype, start, start + len(surface), category=cat))
    return Document(doc_id, text, ents, [Relation(*r) for r in relations])


def write_jsonl(path: Path, docs: list[Document]) -> Path:
    path.write_text("".join(d.to_json() + "\n" for d in docs), encoding="utf-8")
    return path


def write_rows(path: Path, rows: list[dict]) -> Path:
    """JSONL from plain dicts."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def emoji_doc() -> Document:
    """An emoji (two UTF-16 units) before every span, ZWNJ and «» inside them, a sector in a quote,
    a ROLE beside its PER, and two crossing spans of different layers."""
    from goftar.inference.quotes import quotes_view

    text = "🙂🙂 محمدباقر قالیباف رئیس مجلس گفت: «همکاری‌های اقتصادی را توسعه می‌دهیم» 🇮🇷 وی افزود: بانک‌ها فعال‌اند."
    def at(s, after=0):
        i = text.index(s, after)
        return i, i + len(s)
    per, role = at("محمدباقر قالیباف"), at("رئیس مجلس")
    q1 = at("همکاری‌های اقتصادی را توسعه می‌دهیم")
    sec = at("همکاری‌های اقتصادی")
    q2 = at("بانک‌ها فعال‌اند")
    sec2 = at("بانک‌ها")
    org = (at("مجلس")[0], at("مجلس گفت")[1])  # crosses the ROLE: starts inside it, ends after it
    ents = [Entity("T1", "PER", *per), Entity("T2", "ROLE", *role), Entity("T3", "QUOTE", *q1),
            Entity("T4", "SECTOR", *sec, category="ECONOMY"), Entity("T5", "QUOTE", *q2, score=0.91),
            Entity("T6", "SECTOR", *sec2, category="BANKING_FINANCE", score=0.8), Entity("T7", "ORG", *org)]
    rels = [Relation("role_of", "T2", "T1"), Relation("said_by", "T3", "T1", score=0.99), Relation("said_by", "T5", "T1"),
            Relation("topic", "T3", "T4"), Relation("topic", "T5", "T6", score=0.7)]
    doc = Document("emoji/zwnj doc", text, ents, rels, meta={"source": "Test", "date": "2024-07-31"})
    doc.quotes = quotes_view(doc)
    return doc


def corpus_docs(seed_doc: Document) -> list[Document]:
    """Three articles for the report: the emoji one, a copy of the seed article, and a third that spells
    the seed's speaker with a space instead of a ZWNJ."""
    from goftar.inference.quotes import quotes_view

    a = emoji_doc()
    b = Document.from_dict(seed_doc.to_dict())
    b.quotes = quotes_view(b)
    text = "محمد باقر قالیباف گفت: بانک‌ها باید فعال شوند."
    c = Document("third", text, [Entity("T1", "PER", 0, 17), Entity("T2", "QUOTE", 23, len(text) - 1),
                                 Entity("T3", "SECTOR", 23, 30, category="BANKING_FINANCE")],
                 [Relation("said_by", "T2", "T1"), Relation("topic", "T2", "T3")], meta={"source": "Other", "date": "2024-08-01"})
    c.quotes = quotes_view(c)
    return [a, b, c]


def load_script(name: str):
    """Import scripts/<name>.py (scripts/ is not a package) as a module."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"goftar_script_{name}", ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def lexicon_without(word: str) -> dict:
    """The package's cue lexicon data with the simple speech verb ``word`` left out (a lexicon that differs)."""
    import yaml

    from goftar.inference.cues import LEXICON

    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    data["simple_verbs"] = [v for v in data["simple_verbs"] if v != word]
    return data
