"""The BIO module on hand-made arrays: no model."""
import numpy as np
import pytest

from goftar.inference import bio

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def lp(rows):
    """Log-probabilities from rows of probabilities (normalised)."""
    a = np.asarray(rows, dtype=float)
    return np.log(a / a.sum(-1, keepdims=True))


def test_words_keep_zwnj_words_whole():
    t = "بانک‌ها و همکاری‌های"
    assert [t[s:e] for s, e in bio.words(t)] == ["بانک‌ها", "و", "همکاری‌های"]


def test_words_split_punctuation_glued_to_names():
    t = "فارس- (یکشنبه) «قالیباف»"
    assert [t[s:e] for s, e in bio.words(t)] == ["فارس", "-", "(", "یکشنبه", ")", "«", "قالیباف", "»"]


def test_words_joiner_at_edge_is_not_part_of_word():
    t = "\u200cسلام\u200c دنیا"
    assert [t[s:e] for s, e in bio.words(t)] == ["سلام", "دنیا"]


def test_words_cuts():
    assert bio.words("abcdef", cuts=[3]) == [(0, 3), (3, 6)]


def test_words_empty():
    assert bio.words("") == []
    assert bio.words("  \n ") == []


def test_viterbi_repairs_o_to_i():
    # argmax: O, I-PER, I-PER — invalid; the best valid path starts the span with B
    x = lp([[0.9, 0.05, 0.03, 0.01, 0.01], [0.2, 0.35, 0.4, 0.03, 0.02], [0.1, 0.1, 0.7, 0.05, 0.05]])
    assert [LABELS[k] for k in x.argmax(-1)] == ["O", "I-PER", "I-PER"]
    path = [LABELS[k] for k in bio.viterbi(x, LABELS)]
    assert path == ["O", "B-PER", "I-PER"]


def test_viterbi_forbids_type_switch_inside_span():
    x = lp([[0.01, 0.9, 0.03, 0.03, 0.03], [0.05, 0.05, 0.4, 0.05, 0.45]])
    path = [LABELS[k] for k in bio.viterbi(x, LABELS)]
    assert path[1] != "I-LOC"
    _, trans = bio.transitions(LABELS)
    assert trans[bio.viterbi(x, LABELS)[0], bio.viterbi(x, LABELS)[1]]


def test_viterbi_never_starts_with_i():
    x = lp([[0.1, 0.15, 0.75, 0.0001, 0.0001]])
    assert LABELS[bio.viterbi(x, LABELS)[0]] == "B-PER"


def test_viterbi_equals_argmax_on_valid_sequence():
    x = lp([[0.1, 0.8, 0.05, 0.03, 0.02], [0.1, 0.1, 0.7, 0.05, 0.05], [0.8, 0.05, 0.05, 0.05, 0.05]])
    assert list(bio.viterbi(x, LABELS)) == list(x.argmax(-1))


def test_viterbi_empty():
    assert len(bio.viterbi(np.zeros((0, 5)), LABELS)) == 0


@pytest.mark.parametrize("seed", range(20))
def test_viterbi_output_always_valid(seed):
    rng = np.random.default_rng(seed)
    x = np.log(rng.dirichlet(np.ones(5), size=12))
    path = bio.viterbi(x, LABELS)
    start_ok, trans = bio.transitions(LABELS)
    assert start_ok[path[0]]
    assert all(trans[a, b] for a, b in zip(path[:-1], path[1:]))


def test_tags_spans_round_trip():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]
    spans = bio.tags_to_spans(tags)
    assert spans == [(0, 2, "PER"), (3, 4, "LOC"), (4, 6, "LOC")]
    assert bio.spans_to_tags(6, spans) == tags


def test_spans_to_tags_refuses_overlap():
    with pytest.raises(ValueError, match="overlaps"):
        bio.spans_to_tags(4, [(0, 2, "PER"), (1, 3, "LOC")])


def test_split_label_rejects_garbage():
    with pytest.raises(ValueError, match="IOB2"):
        bio.split_label("PER")


def test_char_tags_maps_character_spans_to_units():
    t = "رئیس مجلس گفت"
    units = bio.words(t)
    assert bio.char_tags(units, [(0, 9, "ROLE")]) == ["B-ROLE", "I-ROLE", "O"]


def _offsets(text, pieces):
    """Token offsets for ``pieces`` found in order in ``text``."""
    out, pos = [], 0
    for p in pieces:
        i = text.index(p, pos)
        out.append((i, i + len(p)))
        pos = i + len(p)
    return np.array(out)


def test_decode_never_cuts_words():
    text = "قالیباف گفت"
    offsets = _offsets(text, ["قالی", "باف", "گفت"])
    # the tagger marks only the first piece as a PER: the whole word comes out
    logits = lp([[0.05, 0.9, 0.02, 0.02, 0.01], [0.7, 0.05, 0.2, 0.03, 0.02], [0.9, 0.03, 0.03, 0.02, 0.02]])
    spans = bio.decode_words(text, offsets, logits, LABELS)
    assert [(text[d.start:d.end], d.type) for d in spans] == [("قالیباف", "PER")]
    # a B on the second piece of a word cannot start a span inside it
    logits2 = lp([[0.9, 0.03, 0.03, 0.02, 0.02], [0.05, 0.9, 0.02, 0.02, 0.01], [0.9, 0.03, 0.03, 0.02, 0.02]])
    for d in bio.decode_words(text, offsets, logits2, LABELS):
        assert (d.start, d.end) in {(0, 7), (8, 11)} or (d.start == 0 and d.end == 7)


def test_decode_zwnj_word_is_one_unit():
    text = "بانک‌ها"
    offsets = _offsets(text, ["بانک", "\u200cها"])
    logits = lp([[0.1, 0.1, 0.1, 0.6, 0.1], [0.1, 0.1, 0.1, 0.65, 0.05]])  # B-LOC twice by argmax
    spans = bio.decode_words(text, offsets, logits, LABELS)
    assert [(d.start, d.end, d.type) for d in spans] == [(0, 7, "LOC")]


def test_decode_token_aggregation_may_cut_words_for_comparison():
    text = "بانک‌ها"
    offsets = _offsets(text, ["بانک", "\u200cها"])
    logits = lp([[0.9, 0.02, 0.02, 0.03, 0.03], [0.1, 0.1, 0.1, 0.65, 0.05]])
    spans = bio.decode_words(text, offsets, logits, LABELS, aggregation="token")
    assert [(d.start, d.end) for d in spans] == [(4, 7)]
    assert bio.decode_words(text, offsets, logits, LABELS) == []


def test_decode_mean_aggregation_pools_type_evidence():
    text = "قالیباف"
    offsets = _offsets(text, ["قا", "لی", "باف"])
    logits = lp([[0.6, 0.3, 0.05, 0.03, 0.02], [0.1, 0.05, 0.8, 0.03, 0.02], [0.1, 0.05, 0.8, 0.03, 0.02]])
    assert bio.decode_words(text, offsets, logits, LABELS, aggregation="first") == []
    spans = bio.decode_words(text, offsets, logits, LABELS, aggregation="mean")
    assert [(d.start, d.end, d.type) for d in spans] == [(0, 7, "PER")]


def test_decode_empty_inputs():
    assert bio.decode_words("", np.zeros((0, 2), dtype=int), np.zeros((0, 5)), LABELS) == []
    assert bio.decode_words("   ", np.zeros((0, 2), dtype=int), np.zeros((0, 5)), LABELS) == []


def test_unknown_aggregation_is_an_error():
    with pytest.raises(ValueError, match="aggregation"):
        bio.aggregate(np.zeros((1, 5)), [[0]], LABELS, how="max")


@pytest.mark.parametrize("constrained", [True, False])
def test_decode_no_span_runs_across_a_line_break(constrained):
    text = "ملانیا\nدونالد ترامپ گفت"
    offsets = _offsets(text, ["ملانیا", "دونالد", "ترامپ", "گفت"])
    # the tagger runs one PER from the headline word into the next line
    logits = lp([[0.05, 0.9, 0.03, 0.01, 0.01], [0.05, 0.05, 0.88, 0.01, 0.01],
                 [0.05, 0.05, 0.88, 0.01, 0.01], [0.9, 0.03, 0.03, 0.02, 0.02]])
    spans = bio.decode_words(text, offsets, logits, LABELS, constrained=constrained)
    assert [(text[d.start:d.end], d.type) for d in spans] == [("ملانیا", "PER"), ("دونالد ترامپ", "PER")]


def test_viterbi_breaks_forbid_inside_labels():
    x = lp([[0.1, 0.8, 0.05, 0.03, 0.02], [0.1, 0.15, 0.65, 0.05, 0.05]])
    assert [LABELS[k] for k in bio.viterbi(x, LABELS)] == ["B-PER", "I-PER"]
    assert [LABELS[k] for k in bio.viterbi(x, LABELS, breaks=[1])] == ["B-PER", "B-PER"]


def test_line_starts():
    text = "یک دو\n\nسه\r\nچهار"
    assert bio.line_starts(text, bio.words(text)) == [2, 3]
