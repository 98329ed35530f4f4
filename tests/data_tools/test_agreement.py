"""data/tools/agreement.py and adjudicate.py on two tiny hand-made annotations of one article.

The expected figures are counted by hand in the comments; the tools compute them through
goftar's scorer, so a change in either shows up here."""
from __future__ import annotations

import importlib
import json
import sys

import pytest

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "data" / "tools"))
agreement = importlib.import_module("agreement")
adjudicate = importlib.import_module("adjudicate")

TEXT = "علی رضایی وزیر نفت گفت: صادرات نفت و گاز به ترکیه افزایش یافت. وی افزود: بانک‌ها وام می‌دهند"


def _doc(spans, rels, doc_id="x-1"):
    ents = []
    for i, typ, surf, n, *cat in spans:
        s = -1
        for _ in range(n):
            s = TEXT.find(surf, s + 1)
        assert s >= 0, surf
        ents.append({"id": i, "type": typ, "start": s, "end": s + len(surf), "text": surf,
                     **({"category": cat[0]} if cat else {})})
    return {"id": doc_id, "text": TEXT, "entities": ents,
            "relations": [{"type": t, "head": h, "tail": tl} for t, h, tl in rels], "meta": {}}


A = _doc([("T1", "PER", "علی رضایی", 1), ("T2", "ROLE", "وزیر نفت", 1),
          ("T3", "QUOTE", "صادرات نفت و گاز به ترکیه افزایش یافت", 1),
          ("T4", "SECTOR", "نفت", 2, "ENERGY"), ("T5", "SECTOR", "گاز", 1, "ENERGY"), ("T6", "LOC", "ترکیه", 1),
          ("T7", "QUOTE", "بانک‌ها وام می‌دهند", 1), ("T8", "SECTOR", "بانک‌ها", 1, "BANKING_FINANCE")],
         [("said_by", "T3", "T1"), ("said_by", "T7", "T1"), ("role_of", "T2", "T1"),
          ("topic", "T3", "T4"), ("topic", "T3", "T5"), ("topic", "T7", "T8")])
# B: «نفت و گاز» as one sector, ORG instead of LOC, a shorter second quote (Jaccard 11/19 with A's),
# another category on «بانک‌ها», an extra sector «وام», and the second quote said_by the ROLE.
B = _doc([("T1", "PER", "علی رضایی", 1), ("T2", "ROLE", "وزیر نفت", 1),
          ("T3", "QUOTE", "صادرات نفت و گاز به ترکیه افزایش یافت", 1),
          ("T4", "SECTOR", "نفت و گاز", 1, "ENERGY"), ("T6", "ORG", "ترکیه", 1),
          ("T7", "QUOTE", "بانک‌ها وام", 1), ("T8", "SECTOR", "بانک‌ها", 1, "ECONOMY"),
          ("T9", "SECTOR", "وام", 1, "BANKING_FINANCE")],
         [("said_by", "T3", "T1"), ("said_by", "T7", "T2"), ("role_of", "T2", "T1"),
          ("topic", "T3", "T4"), ("topic", "T7", "T8"), ("topic", "T7", "T9")])


def _docs(*ds):
    from goftar.inference.document import Document

    return [Document.from_dict(json.loads(json.dumps(d))) for d in ds]


def test_agreement_figures_counted_by_hand():
    other = _doc([], [], "only-in-b")
    res = agreement.agreement(_docs(A), _docs(B, other))
    assert res["articles"] == ["x-1"] and res["only_in_b"] == ["only-in-b"] and res["only_in_a"] == []
    r = {k: (v["a"], v["b"], v["both"], pytest.approx(v["f1"], abs=1e-4)) for k, v in res["rows"].items()}
    assert r["span ne"] == (2, 2, 1, 0.5)                    # PER agrees; LOC vs ORG «ترکیه»
    assert r["span ne PER"] == (1, 1, 1, 1.0)
    assert r["span ne LOC"] == (1, 0, 0, 0.0) and r["span ne ORG"] == (0, 1, 0, 0.0)
    assert r["span role"] == (1, 1, 1, 1.0)
    assert r["span sector"] == (3, 3, 1, 1 / 3)              # only «بانک‌ها» has the same offsets
    assert r["span sector + category"] == (3, 3, 0, 0.0)     # …and its category differs
    assert r["sector category on same-offset spans"] == (1, 1, 0, 0.0)
    assert r["span quote"] == (2, 2, 1, 0.5)
    assert r["quote overlap"] == (2, 2, 2, 1.0)              # 11/19 >= 0.5
    assert r["relation said_by"] == (2, 2, 1, 0.5)
    assert r["relation role_of"] == (1, 1, 1, 1.0)
    assert r["relation topic"] == (3, 3, 0, 0.0)             # every topic differs in a span
    assert r["relation all"] == (6, 6, 2, 1 / 3)
    assert r["relation topic, quote by overlap"] == (3, 3, 1, 1 / 3)   # «بانک‌ها» once the quotes match
    assert r["relation said_by, quote by overlap"] == (2, 2, 1, 0.5)   # PER vs ROLE stays a disagreement
    # F1 is symmetric: swapping the sides gives the same F1 everywhere
    swapped = agreement.agreement(_docs(B), _docs(A))["rows"]
    assert all(swapped[k]["f1"] == pytest.approx(v["f1"]) for k, v in res["rows"].items())
    table = agreement.markdown(res)
    assert "| span sector | 3 | 3 | 1 | 0.333 |" in table


def test_texts_must_match():
    other = json.loads(json.dumps(B))
    other["text"] = TEXT + "."
    with pytest.raises(SystemExit, match="texts differ in x-1"):
        agreement.agreement(_docs(A), _docs(other))


def test_disagreement_groups_and_adjudication(tmp_path):
    d = agreement.disagreements(A, B)
    groups = [([e["text"] for e in ga], [e["text"] for e in gb]) for ga, gb in d["spans"]]
    assert groups == [(["نفت"], ["نفت و گاز"]), (["گاز"], []), (["ترکیه"], ["ترکیه"]),
                      (["بانک‌ها"], ["بانک‌ها"]), (["بانک‌ها وام می‌دهند"], ["بانک‌ها وام"]), ([], ["وام"])]
    # said_by T3→T1 and role_of are shared; each side has its own said_by of the second quote and 3 topics
    assert sorted((side, r["type"]) for side, r, _, _ in d["relations"]) == \
        [("A", "said_by")] + [("A", "topic")] * 3 + [("B", "said_by")] + [("B", "topic")] * 3
    s = TEXT.find("گاز")
    dec = {"s1": "A", "s2": "A", "s3": "A", "s4": "A", "s5": "A", "s6": f"SECTOR/BANKING_FINANCE:{s}-{s + 3}"}
    with pytest.raises(SystemExit, match="s6"):
        adjudicate.merge(A, B, {k: v for k, v in dec.items() if k != "s6"})
    dec["s6"] = "B"
    with pytest.raises(SystemExit, match="drops T7"):   # B's said_by T7→T2 would lose its head
        adjudicate.merge(A, B, dec)
    dec["s5"] = "B"
    out = adjudicate.merge(A, B, dec)
    spans = {(e["text"], e["type"], e.get("category")) for e in out["entities"]}
    assert ("نفت", "SECTOR", "ENERGY") in spans and ("گاز", "SECTOR", "ENERGY") in spans
    assert ("نفت و گاز", "SECTOR", "ENERGY") not in spans and ("ترکیه", "LOC", None) in spans
    assert ("وام", "SECTOR", "BANKING_FINANCE") in spans and ("بانک‌ها", "SECTOR", "BANKING_FINANCE") in spans
    ids = {e["id"]: e["text"] for e in out["entities"]}
    topics = sorted((ids[r["head"]].split()[0], ids[r["tail"]]) for r in out["relations"] if r["type"] == "topic")
    assert topics == [("بانک‌ها", "بانک‌ها"), ("بانک‌ها", "وام"), ("صادرات", "نفت"), ("صادرات", "گاز")]
    assert len({e["id"] for e in out["entities"]}) == len(out["entities"])
