"""Quotes tied to their cues, on hand-made probabilities: no model."""
import numpy as np

from goftar.inference import bio
from goftar.inference.anchor import anchor_quotes
from goftar.inference.cues import find_cues

TEXT = "وزیر گفت: بودجه کافی است و کار داریم. به گزارش فارس، قیمت‌ها بالا رفت."


def run(spans, p_in=None, **settings):
    ws = bio.words(TEXT)
    p = np.zeros(len(ws)) if p_in is None else p_in(ws)
    return [(TEXT[q.start:q.end]) for q in anchor_quotes(TEXT, spans, find_cues(TEXT), ws, p, settings)]


def span(s):
    i = TEXT.index(s)
    return (i, i + len(s), 0.8)


def inside(ws, region, value):
    i = TEXT.index(region)
    return np.array([value if i <= a < i + len(region) else 0.0 for a, _ in ws])


def test_a_cut_quote_runs_to_its_natural_end():
    # the tagger stopped mid-sentence: the quote runs to the paragraph end
    assert run([span("بودجه کافی")], lambda ws: inside(ws, "بودجه کافی است و کار داریم", 0.5)) == ["بودجه کافی است و کار داریم"]


def test_the_model_may_end_a_quote_at_a_sentence_end_it_is_sure_of():
    t = "وزیر گفت: بودجه کافی است. قیمت‌ها بالاست"
    ws = bio.words(t)
    p = np.array([0.95 if t.index("بودجه") <= a < t.index(".") else 0.0 for a, _ in ws])
    i = t.index("بودجه کافی است")
    out = anchor_quotes(t, [(i, i + len("بودجه کافی است"), 0.9)], find_cues(t), ws, p)
    assert [t[q.start:q.end] for q in out] == ["بودجه کافی است"]


def test_a_start_inside_the_cue_snaps_to_the_region():
    i = TEXT.index("گفت")
    assert run([(i, TEXT.index(" است"), 0.7)], lambda ws: inside(ws, "بودجه کافی است و کار داریم", 0.6)) == ["بودجه کافی است و کار داریم"]


def test_a_later_start_snaps_back_to_the_cue_even_where_the_tagger_is_sure():
    # «سرمربی بوریرام: در آینده …»: the tagger dropped the first word with near certainty; the quote still starts at the cue
    t = "سرمربی بوریرام: در آینده ترکیب تیمم را تغییر می‌دهم"
    ws = bio.words(t)
    i = t.index("آینده")
    p = np.array([0.99 if a >= i else 0.0 for a, _ in ws])
    out = anchor_quotes(t, [(i, len(t), 0.9)], find_cues(t), ws, p)
    assert [t[q.start:q.end] for q in out] == ["در آینده ترکیب تیمم را تغییر می‌دهم"]


def test_an_empty_cue_region_is_filled_when_the_tagger_leans_to_it():
    assert run([], lambda ws: inside(ws, "بودجه کافی است و کار داریم", 0.4)) == ["بودجه کافی است و کار داریم"]
    assert run([], lambda ws: inside(ws, "بودجه کافی است و کار داریم", 0.1)) == []


def test_uncued_and_source_quotes_are_dropped():
    assert run([span("قیمت‌ها بالا رفت")]) == []
    assert run([span("قیمت‌ها بالا رفت")], free=0.5) == []  # in the «به گزارش» narration: never
    t = "قیمت‌ها بالا رفت و بازار آرام شد"
    ws = bio.words(t)
    out = anchor_quotes(t, [(0, len(t), 0.95)], find_cues(t), ws, np.zeros(len(ws)), {"free": 0.9})
    assert [(q.start, q.end) for q in out] == [(0, len(t))]
    assert anchor_quotes(t, [(0, len(t), 0.95)], find_cues(t), ws, np.zeros(len(ws))) == []


def test_anchoring_can_be_switched_off_through_decode_settings():
    from goftar.inference.decode import DECODE_DEFAULTS, Mention, anchored_quotes

    t = "قیمت‌ها بالا رفت"
    m = [Mention("QUOTE", 0, 1, 0, len(t), None, 0.9)]
    offsets = np.array([[0, 7], [8, 12], [13, 16]])
    logits = np.zeros((3, 3))
    assert anchored_quotes(t, offsets, logits, ["O", "B-QUOTE", "I-QUOTE"], m, find_cues(t), bio.words(t), {"enabled": False}) == m
    assert anchored_quotes(t, offsets, logits, ["O", "B-QUOTE", "I-QUOTE"], m, find_cues(t), bio.words(t), DECODE_DEFAULTS["quote_anchor"]) == []
