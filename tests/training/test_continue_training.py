"""Train on new annotations: continue from a trained checkpoint on two new documents; their scores rise."""
import json

from goftar.inference.document import Document, Entity, Relation, read_jsonl, write_jsonl
from goftar.inference.extractor import Extractor
from goftar.cli import main
from goftar.training.scoring import score
from goftar.training.train import selection_score

from tests.helpers import NEW_TEXTS


def _doc(i, text, spans, rels):
    ents = []
    for eid, typ, surface, cat in spans:
        start = text.index(surface)
        ents.append(Entity(eid, typ, start, start + len(surface), cat))
    return Document(f"new-{i}", text, ents, [Relation(*r) for r in rels])


def new_documents():
    a = _doc(1, NEW_TEXTS[0], [
        ("T1", "ROLE", "وزیر نفت", None),
        ("T2", "QUOTE", "صادرات گاز و برق به عراق افزایش می‌یابد", None),
        ("T3", "SECTOR", "صادرات", "TRADE"), ("T4", "SECTOR", "گاز", "ENERGY"), ("T5", "SECTOR", "برق", "ENERGY"),
        ("T6", "LOC", "عراق", None), ("T7", "PER", "زنگنه", None),
        ("T8", "QUOTE", "صنعت پتروشیمی نیز رشد کرده است", None), ("T9", "SECTOR", "صنعت پتروشیمی", "ENERGY"),
    ], [("said_by", "T2", "T1"), ("topic", "T2", "T3"), ("topic", "T2", "T4"), ("topic", "T2", "T5"),
        ("role_of", "T1", "T7"), ("said_by", "T8", "T7"), ("topic", "T8", "T9")])
    b = _doc(2, NEW_TEXTS[1], [
        ("T1", "ROLE", "رئیس بانک مرکزی", None), ("T2", "ORG", "بانک مرکزی", None),
        ("T3", "QUOTE", "نظام بانکی باید اصلاح شود", None), ("T4", "SECTOR", "بانکی", "BANKING_FINANCE"),
        ("T5", "QUOTE", "بیمه و بورس نیز مهم هستند", None), ("T6", "SECTOR", "بیمه", "BANKING_FINANCE"),
        ("T7", "SECTOR", "بورس", "BANKING_FINANCE"), ("T8", "PER", "همتی", None), ("T9", "LOC", "تهران", None),
    ], [("said_by", "T3", "T1"), ("said_by", "T5", "T1"), ("topic", "T3", "T4"), ("topic", "T5", "T6"),
        ("topic", "T5", "T7"), ("role_of", "T1", "T8")])
    return [a, b]


def _score(model_dir, docs):
    pred = Extractor.from_pretrained(model_dir)([{"id": d.id, "text": d.text} for d in docs])
    return selection_score(score(docs, pred))


def test_continue_from_checkpoint_on_new_documents_raises_their_scores(trained_tiny, tmp_path, capsys):
    docs = new_documents()
    path = tmp_path / "theirs.jsonl"
    write_jsonl(docs, path)
    assert main(["validate", str(path)]) == 0
    before = _score(trained_tiny, docs)
    rc = main(["train", "--init-from", str(trained_tiny), "--train", str(path), "--dev", str(path),
               "--output-dir", str(tmp_path / "mine"), "--epochs", "25", "--lr", "3e-3", "--head-lr", "3e-3"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    after = _score(tmp_path / "mine" / "best", docs)
    assert after > before + 0.1, (before, after)
    assert out["checkpoint"].endswith("best")
