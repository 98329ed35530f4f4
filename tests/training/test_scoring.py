"""The scorer (goftar.training.scoring) and ``goftar score``: numbers worked out by hand."""
from __future__ import annotations

import json

import pytest

from goftar.inference.document import Document, Entity, read_jsonl
from goftar.cli import main
from tests.helpers import make_doc
from goftar.training.scoring import (
    OVERLAP_RULE, _bio, _tracks, format_report, jaccard, match_quotes, score, tokenize,
)




def prf(m: dict) -> tuple:
    """(P, R, F1, support) of one score row, for comparison with pytest.approx."""
    return m["p"], m["r"], m["f1"], m["support"]


# -- tokens ---------------------------------------------------------------------
def test_tokenize_keeps_zwnj_words_and_splits_punctuation():
    text = "همکاری‌ها، «بانکی» ۱۰٪"
    toks = [text[s:e] for s, e in tokenize(text)]
    assert toks == ["همکاری‌ها", "،", "«", "بانکی", "»", "۱۰", "٪"]
    # Cuts split a word so that a span off by one character is another token run.
    name = "قالیباف گفت"
    assert [name[s:e] for s, e in tokenize(name, {6})] == ["قالیبا", "ف", "گفت"]


def test_tracks_keep_overlapping_predictions_as_false_positives():
    gold = {(0, 5, "PER")}
    pred = {(0, 5, "PER"), (0, 9, "ORG")}
    tracks = _tracks(gold, pred)
    assert tracks == [([(0, 5, "PER")], [(0, 5, "PER")]), ([], [(0, 9, "ORG")])]
    # «علی رضا ایران» cut at 5 (inside «رضا»): tokens علی / ر / ضا / ایران
    toks = tokenize("علی رضا ایران", {0, 5})
    assert _bio(toks, [(0, 5, "PER"), (8, 13, "LOC")]) == ["B-PER", "I-PER", "O", "B-LOC"]


# -- entities -------------------------------------------------------------------
NAMES = "علی رضایی و حسن محمدی و مریم احمدی در تهران دیدار کردند."


def test_entity_numbers_by_hand():
    gold = make_doc(NAMES, [("T1", "PER", "علی رضایی"), ("T2", "PER", "حسن محمدی"),
                            ("T3", "PER", "مریم احمدی"), ("T4", "LOC", "تهران")])
    pred = make_doc(NAMES, [("T1", "PER", "علی رضایی"),  # exact
                            ("T2", "PER", "حسن محمد"),    # one character short inside a word: wrong
                            ("T4", "LOC", "تهران")])
    m = score([gold], [pred])
    ne = m["entities"]["ne"]
    # PER: 3 gold, 2 predicted, 1 exact → P = 1/2, R = 1/3, F1 = 2·(1/2·1/3)/(1/2+1/3) = (1/3)/(5/6) = 0.4
    assert prf(ne["PER"]) == pytest.approx((0.5, 1 / 3, 0.4, 3))
    # LOC: 1 gold, 1 predicted, exact → 1, 1, 1
    assert prf(ne["LOC"]) == pytest.approx((1.0, 1.0, 1.0, 1))
    # micro: 2 correct, 3 predicted, 4 gold → P = 2/3, R = 1/2, F1 = (2/3)/(7/6) = 4/7
    assert prf(ne["micro"]) == pytest.approx((2 / 3, 0.5, 4 / 7, 4))
    assert (ne["micro"]["correct"], ne["micro"]["predicted"]) == (2, 3)
    # Type confusion is wrong under strict matching: PER «مریم احمدی» predicted as ORG.
    maryam = gold.entities[2]
    pred.entities.append(Entity("T5", "ORG", maryam.start, maryam.end))
    ne = score([gold], [pred])["entities"]["ne"]
    assert ne["ORG"]["predicted"] == 1 and ne["ORG"]["correct"] == 0 and ne["PER"]["correct"] == 1


def test_entity_counts_agree_with_seqeval_report():
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    gold = make_doc(NAMES, [("T1", "PER", "علی رضایی"), ("T2", "PER", "حسن محمدی"), ("T4", "LOC", "تهران")])
    pred = make_doc(NAMES, [("T1", "PER", "علی"), ("T2", "PER", "حسن محمدی"), ("T4", "LOC", "تهران")])
    toks = tokenize(NAMES, {b for e in gold.entities + pred.entities for b in (e.start, e.end)})
    y_true = [_bio(toks, [(e.start, e.end, e.type) for e in gold.entities])]
    y_pred = [_bio(toks, [(e.start, e.end, e.type) for e in pred.entities])]
    ref = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True)
    ne = score([gold], [pred])["entities"]["ne"]
    for t in ("PER", "LOC"):
        assert ne[t]["p"] == pytest.approx(ref[t]["precision"])
        assert ne[t]["r"] == pytest.approx(ref[t]["recall"])
        assert ne[t]["f1"] == pytest.approx(ref[t]["f1-score"])
    assert ne["micro"]["f1"] == pytest.approx(ref["micro avg"]["f1-score"])


def test_overlapping_prediction_in_one_layer_is_a_false_positive():
    gold = make_doc(NAMES, [("T1", "PER", "علی رضایی")])
    pred = make_doc(NAMES, [("T1", "PER", "علی رضایی"), ("T2", "ORG", "علی")])  # overlaps T1
    ne = score([gold], [pred])["entities"]["ne"]
    # PER 1/1 correct; ORG 0 of 1; micro: 1 correct, 2 predicted, 1 gold → P = 0.5, R = 1, F1 = 2/3
    assert prf(ne["micro"]) == pytest.approx((0.5, 1.0, 2 / 3, 1))


def test_sector_category_accuracy_and_category_f1():
    text = "روابط اقتصادی و تجاری و بانکی گسترش یابد."
    gold = make_doc(text, [("S1", "SECTOR", "اقتصادی", 0, "ECONOMY"), ("S2", "SECTOR", "تجاری", 0, "TRADE"),
                           ("S3", "SECTOR", "بانکی", 0, "BANKING_FINANCE")])
    pred = make_doc(text, [("S1", "SECTOR", "اقتصادی", 0, "ECONOMY"), ("S2", "SECTOR", "تجاری", 0, "ECONOMY")])
    m = score([gold], [pred])
    # By span only: 2 of 3 found, both exact → P = 1, R = 2/3, F1 = 2·(2/3)/(5/3) = 0.8
    assert prf(m["entities"]["sector"]["SECTOR"]) == pytest.approx((1.0, 2 / 3, 0.8, 3))
    # Category on the 2 exactly found sectors: «تجاری» TRADE predicted ECONOMY → 1/2
    assert m["sector_category_accuracy"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    # Span + category: 1 correct of 2 predicted, 3 gold → P = 1/2, R = 1/3, F1 = 0.4
    by_cat = m["entities"]["sector_by_category"]
    assert prf(by_cat["micro"]) == pytest.approx((0.5, 1 / 3, 0.4, 3))
    assert by_cat["ECONOMY"]["predicted"] == 2 and by_cat["TRADE"]["correct"] == 0


# -- perfect prediction -----------------------------------------------------------
def _all_scores(d, path=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _all_scores(v, f"{path}.{k}")
        elif k in ("p", "r", "f1", "accuracy"):
            yield f"{path}.{k}", v


def test_perfect_prediction_on_seed_article(seed_path):
    docs = read_jsonl(seed_path)
    m = score(docs, docs)
    values = dict(_all_scores(m))
    assert len(values) > 40
    assert all(v == 1.0 for v in values.values()), {k: v for k, v in values.items() if v != 1.0}
    assert m["speaker_attribution"]["total"] == 9
    assert m["relations"]["said_by"]["support"] == 9 and m["relations"]["topic"]["support"] == 28
    assert m["documents"] == {"gold": 1, "predicted": 1, "missing": 0, "missing_ids": [], "extra": 0,
                              "extra_ids": [], "text_mismatch_ids": []}
    json.dumps(m)  # serialisable as is
    report = format_report(m)
    assert "speaker attribution: 1.000 (9/9" in report and "ROLE" in report


def test_missing_prediction_is_an_empty_prediction(seed_path):
    docs = read_jsonl(seed_path)
    other = Document("second", "قالیباف گفت: کار ادامه دارد.", [Entity("T1", "PER", 0, 7)])
    m = score(docs + [other], docs)
    assert m["documents"]["missing"] == 1 and m["documents"]["missing_ids"] == ["second"]
    # PER: the seed's 6 found, the missing document's 1 not → R = 6/7, P = 1
    per = m["entities"]["ne"]["PER"]
    assert (per["p"], per["r"], per["support"]) == (1.0, pytest.approx(6 / 7), 7)
    assert "missing predictions (scored as empty): second" in format_report(m)


# -- relations --------------------------------------------------------------------
REL = "قالیباف گفت: روابط اقتصادی باید توسعه یابد."


def rel_gold() -> Document:
    return make_doc(REL, [("P1", "PER", "قالیباف"), ("Q1", "QUOTE", "روابط اقتصادی باید توسعه یابد"),
                          ("S1", "SECTOR", "اقتصادی", 0, "ECONOMY")],
                    [("said_by", "Q1", "P1"), ("topic", "Q1", "S1")])


def test_relation_tail_off_by_one_char_is_wrong():
    pred = make_doc(REL, [("P1", "PER", "قالیبا"), ("Q1", "QUOTE", "روابط اقتصادی باید توسعه یابد"),
                          ("S1", "SECTOR", "اقتصادی", 0, "ECONOMY")],
                    [("said_by", "Q1", "P1"), ("topic", "Q1", "S1")])
    m = score([rel_gold()], [pred])
    # said_by: the tail «قالیبا» ≠ «قالیباف» → 0 of 1; topic exact → 1 of 1
    assert prf(m["relations"]["said_by"]) == pytest.approx((0.0, 0.0, 0.0, 1))
    assert prf(m["relations"]["topic"]) == pytest.approx((1.0, 1.0, 1.0, 1))
    # micro: 1 correct, 2 predicted, 2 gold → 0.5 each
    assert prf(m["relations"]["micro"]) == pytest.approx((0.5, 0.5, 0.5, 2))


def test_relation_head_type_must_match():
    # Same spans, but the predicted tail is typed ORG: strict relation is wrong.
    pred = rel_gold()
    pred.entities[0] = Entity("P1", "ORG", 0, 7)
    m = score([rel_gold()], [pred])
    assert m["relations"]["said_by"]["correct"] == 0


def test_quote_overlap_variant():
    # The predicted quote stops before «یابد»: 24 of 29 characters, Jaccard 24/29 ≈ 0.83.
    pred = make_doc(REL, [("P1", "PER", "قالیباف"), ("Q1", "QUOTE", "روابط اقتصادی باید توسعه"),
                          ("S1", "SECTOR", "اقتصادی", 0, "ECONOMY")],
                    [("said_by", "Q1", "P1"), ("topic", "Q1", "S1")])
    m = score([rel_gold()], [pred])
    assert m["relations"]["said_by"]["correct"] == 0 and m["relations"]["topic"]["correct"] == 0
    assert m["relations_quote_overlap"]["said_by"]["f1"] == 1.0
    assert m["relations_quote_overlap"]["topic"]["f1"] == 1.0
    assert m["quotes"]["exact"]["f1"] == 0.0 and m["quotes"]["overlap"]["f1"] == 1.0
    assert m["quotes"]["overlap_rule"] == OVERLAP_RULE and ">= 0.5" in OVERLAP_RULE
    assert m["speaker_attribution"]["correct"] == 1


# -- the overlap rule ---------------------------------------------------------------
def Q(eid: str, start: int, end: int) -> Entity:
    return Entity(eid, "QUOTE", start, end)


def test_jaccard_threshold_edges():
    assert jaccard((0, 10), (0, 5)) == 0.5  # 5 / 10: exactly the threshold
    assert match_quotes([Q("g", 0, 10)], [Q("p", 0, 5)]) == {"g": "p"}
    assert jaccard((0, 10), (0, 4)) == 0.4
    assert match_quotes([Q("g", 0, 10)], [Q("p", 0, 4)]) == {}
    # 5 shared of 15: 1/3
    assert match_quotes([Q("g", 0, 10)], [Q("p", 5, 15)]) == {}
    # touching spans share nothing
    assert jaccard((0, 10), (10, 20)) == 0.0


def test_one_to_one_matching():
    # A predicted quote spanning two gold quotes reaches 0.5 with each (10/20)
    # but matches one only: the earlier gold on a tie.
    assert match_quotes([Q("a", 0, 10), Q("b", 10, 20)], [Q("p", 0, 20)]) == {"a": "p"}
    # Greedy by best Jaccard: g takes p2 (1.0) over p1 (0.9); p1 is left unmatched.
    assert match_quotes([Q("g", 0, 10)], [Q("p1", 0, 9), Q("p2", 0, 10)]) == {"g": "p2"}
    # Two golds, two preds: each gold gets its own best.
    assert match_quotes([Q("a", 0, 10), Q("b", 20, 30)], [Q("x", 21, 30), Q("y", 1, 10)]) == {"a": "y", "b": "x"}


def test_quote_counts_through_score():
    text = "ا" * 40
    gold = Document("d1", text, [Q("a", 0, 10), Q("b", 10, 20), Q("c", 30, 40)])
    pred = Document("d1", text, [Q("p", 0, 20), Q("r", 30, 40)])
    q = score([gold], [pred])["quotes"]
    # exact: only c = r → 1 correct, 2 predicted, 3 gold → P = 1/2, R = 1/3, F1 = 0.4
    assert prf(q["exact"]) == pytest.approx((0.5, 1 / 3, 0.4, 3))
    # overlap: a-p (0.5) and c-r (1.0) → 2 correct of 2 predicted, 3 gold → P = 1, R = 2/3, F1 = 0.8
    assert prf(q["overlap"]) == pytest.approx((1.0, 2 / 3, 0.8, 3))


# -- speaker attribution -------------------------------------------------------------
CHAIN = (
    "محمدباقر قالیباف در این دیدار گفت: همکاری بانکی مهم است. "
    "قالیباف ضمن تشکر افزود: تجارت باید بیشتر شود. "
    "وی تصریح کرد: موانع را برطرف کنیم. "
    "رئیس مجلس شورای اسلامی گفت: راه باز است. "
    "سخنگوی دولت گفت: خبر تازه‌ای نیست."
)
CHAIN_SPANS = [
    ("P1", "PER", "محمدباقر قالیباف"), ("P2", "PER", "قالیباف", 1),
    ("R1", "ROLE", "رئیس مجلس شورای اسلامی"), ("R2", "ROLE", "سخنگوی دولت"),
    ("Q1", "QUOTE", "همکاری بانکی مهم است"), ("Q2", "QUOTE", "تجارت باید بیشتر شود"),
    ("Q3", "QUOTE", "موانع را برطرف کنیم"), ("Q4", "QUOTE", "راه باز است"),
    ("Q5", "QUOTE", "خبر تازه‌ای نیست"),
]


def chain_gold() -> Document:
    return make_doc(CHAIN, CHAIN_SPANS, [
        ("said_by", "Q1", "P1"), ("said_by", "Q2", "P2"),
        ("said_by", "Q3", "P2"),  # «وی»: the nearest earlier PER mention
        ("role_of", "R1", "P2"), ("said_by", "Q4", "R1"),
        ("said_by", "Q5", "R2"),  # never named: the title is the speaker
    ])


def test_speaker_attribution_through_roles_and_pronoun_chains():
    # Every quote attributed by another path to the same person:
    # Q2, Q3 to the full name instead of «قالیباف»; Q4 to the name instead of
    # the ROLE → role_of → PER chain; Q5 to the same unnamed title.
    pred = make_doc(CHAIN, CHAIN_SPANS, [
        ("said_by", "Q1", "P1"), ("said_by", "Q2", "P1"), ("said_by", "Q3", "P1"),
        ("said_by", "Q4", "P2"), ("said_by", "Q5", "R2"),
    ])
    m = score([chain_gold()], [pred])
    assert m["speaker_attribution"] == {"accuracy": 1.0, "correct": 5, "total": 5,
                                        "unmatched_quote": 0, "no_speaker": 0, "wrong_speaker": 0}
    # Strict said_by only credits Q1 and Q5 (same tail span): 2 of 5
    assert m["relations"]["said_by"]["correct"] == 2


def test_speaker_attribution_errors():
    text_q1 = "همکاری بانکی مهم"  # inside gold Q1: Jaccard 16/20 = 0.8
    spans = [s for s in CHAIN_SPANS if s[0] not in ("Q1", "Q2")] + [("Q1", "QUOTE", text_q1)]
    pred = make_doc(CHAIN, spans, [
        ("said_by", "Q1", "P1"),  # overlapping quote, right person
        # Q2 not predicted at all                         → unmatched, wrong
        # Q3 predicted without a speaker                  → no speaker, wrong
        ("said_by", "Q4", "R1"),  # the ROLE without role_of names nobody: «رئیس مجلس…» ≠ «محمدباقر قالیباف»
        ("said_by", "Q5", "P1"),  # wrong person
    ])
    s = score([chain_gold()], [pred])["speaker_attribution"]
    # 1 correct of 5 gold quotes with a speaker → 0.2
    assert s == {"accuracy": pytest.approx(0.2), "correct": 1, "total": 5,
                 "unmatched_quote": 1, "no_speaker": 1, "wrong_speaker": 2}


def test_quotes_without_speaker_are_not_counted():
    text = "یک مقام آگاه گفت: مذاکرات ادامه دارد."
    gold = make_doc(text, [("Q1", "QUOTE", "مذاکرات ادامه دارد")])
    s = score([gold], [gold])["speaker_attribution"]
    assert (s["total"], s["accuracy"]) == (0, 0.0)


# -- command line ---------------------------------------------------------------------
def test_cli_score_in_process(tmp_path, capsys, seed_path):
    seed = seed_path.read_text(encoding="utf-8").strip()
    gold = tmp_path / "gold.jsonl"
    gold.write_text(seed + "\n", encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(seed + "\n{not json\n", encoding="utf-8")  # line 2 is broken
    out = tmp_path / "out" / "metrics.json"
    rc = main(["score", "--gold", str(gold), "--pred", str(pred), "--json", str(out)])
    assert rc == 0
    captured = capsys.readouterr()
    assert f"{pred}:2" in captured.err
    assert "entities, layer ne" in captured.out
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["entities"]["ne"]["micro"]["f1"] == 1.0
    assert metrics["speaker_attribution"]["accuracy"] == 1.0
    assert metrics["documents"]["skipped_lines"] and "pred.jsonl:2" in metrics["documents"]["skipped_lines"][0]


def test_cli_missing_file(tmp_path, capsys):
    rc = main(["score", "--gold", str(tmp_path / "nope.jsonl"), "--pred", str(tmp_path / "nope.jsonl")])
    assert rc == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_score_and_evaluate_read_gold_the_same_way(tmp_path, capsys, monkeypatch, seed_path):
    """One gold reading: a document that breaks the guide is left out (and named) by both commands."""
    from goftar.training import evaluate as evaluate_mod
    from goftar.training import scoring

    seed = seed_path.read_text(encoding="utf-8").strip()
    bad = json.dumps({"id": "off", "text": "کوتاه", "entities": [{"id": "T1", "type": "PER", "start": 2, "end": 40}]},
                     ensure_ascii=False)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(seed + "\n" + bad + "\n", encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(seed + "\n", encoding="utf-8")
    out = tmp_path / "m.json"
    assert main(["score", "--gold", str(gold), "--pred", str(pred), "--json", str(out)]) == 0
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["documents"]["gold"] == 1 and metrics["documents"]["missing"] == 0
    assert any(f"{gold}:2 off:" in p for p in metrics["documents"]["skipped_lines"])
    assert f"{gold}:2 off:" in capsys.readouterr().err

    calls = []

    def recorder(path, problems=None):
        calls.append(str(path))
        raise RuntimeError("stop before loading a model")

    monkeypatch.setattr(scoring, "read_gold", recorder)
    with pytest.raises(RuntimeError, match="stop before"):
        evaluate_mod.evaluate(None, str(gold))
    assert calls == [str(gold)]
