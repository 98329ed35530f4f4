"""inference/decode.py on hand-made arrays and mentions: no model.

Every expected value below is worked out by hand from the toy text (token = whitespace word unless
said otherwise); tests/inference/test_relation_features.py covers the cue/apposition/title features
on the seed-like sentence and is not repeated here.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from goftar.inference.cues import find_cues
from goftar.inference.decode import (
    ALL_FEATURES, DECODE_DEFAULTS, LEGACY_FEATURES, MAX_RANK, MAX_SENTENCES, N_ADJACENT, N_BUCKETS, N_CUE_SUBJECT,
    N_DIRECTIONS, N_TITLE_CONTEXT, Mention, _context_features, candidate_pairs, cut_at_words, decide_relations,
    decode_bio, feature_spec, merge_touching, pair_types, propagate_titles, strip_honorifics,
)
from goftar.inference.schema import Schema

SCHEMA = Schema.default()
PER_LABELS = ["O", "B-PER", "I-PER"]


def word_offsets(text: str) -> np.ndarray:
    return np.array([[m.start(), m.end()] for m in re.finditer(r"\S+", text)], dtype=np.int64)


def logits_for(tags: list[str], labels: list[str], sure: float = 4.0) -> np.ndarray:
    """One row per token: ``sure`` on the given tag, 0 elsewhere."""
    out = np.zeros((len(tags), len(labels)))
    for i, t in enumerate(tags):
        out[i, labels.index(t)] = sure
    return out


def mention(text: str, typ: str, surface: str, nth: int = 0, category: str | None = None) -> Mention:
    """A mention whose token range is its whitespace-word range in ``text``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(surface, i + 1)
    offs = word_offsets(text)
    toks = np.nonzero((offs[:, 0] < i + len(surface)) & (offs[:, 1] > i))[0]
    return Mention(typ, int(toks[0]), int(toks[-1]) + 1, i, i + len(surface), category)


def features(text, ms, **kw):
    """{(head, tail): {feature name: value}} over every candidate pair."""
    _, _, f, index = candidate_pairs(text, ms, SCHEMA, features=ALL_FEATURES, cues=find_cues(text), **kw)
    return {pair: dict(zip(ALL_FEATURES, map(int, row))) for pair, row in zip(index, f)}


# -- decode_bio ----------------------------------------------------------------------
def test_decode_bio_repairs_o_to_i_into_one_span():
    text = "دیروز محمدباقر قالیباف آمد"
    offsets = word_offsets(text)
    # the network says O, I, I, O: an I-PER with no B-PER before it
    (m,) = decode_bio(text, offsets, logits_for(["O", "I-PER", "I-PER", "O"], PER_LABELS), PER_LABELS, None)
    assert (m.type, text[m.start:m.end], m.tok_start, m.tok_end, m.category) == ("PER", "محمدباقر قالیباف", 1, 3, None)
    # unconstrained (argmax) decoding also reads a leading I as the start of a span
    (u,) = decode_bio(text, offsets, logits_for(["O", "I-PER", "I-PER", "O"], PER_LABELS), PER_LABELS, None, constrained=False)
    assert (u.start, u.end) == (m.start, m.end)


def test_decode_bio_never_cuts_a_word_split_into_subword_tokens():
    text = "سخنگوی دولت گفت"
    # «سخنگوی» as three sub-word tokens; only its last piece says I-PER, its first says O
    offsets = np.array([[0, 2], [2, 4], [4, 6], [7, 11], [12, 15]])
    tags = ["O", "B-PER", "I-PER", "O", "O"]
    spans = decode_bio(text, offsets, logits_for(tags, PER_LABELS), PER_LABELS, None)
    for m in spans:  # whatever is found is made of whole words
        assert m.start in (0, 7, 12) and m.end in (6, 11, 15), (m.start, m.end)
    # the word's first token decides (aggregation "first"): here O, so no span at all
    assert spans == []
    (m,) = decode_bio(text, offsets, logits_for(["B-PER", "O", "O", "O", "O"], PER_LABELS), PER_LABELS, None)
    assert (m.start, m.end, m.tok_start, m.tok_end) == (0, 6, 0, 3)  # the whole word and all its tokens


def test_decode_bio_trims_edge_punctuation_and_names_the_category_of_a_sector():
    text = "درباره « بانک‌ها » گفت"
    offsets = word_offsets(text)
    labels = ["O", "B-BANKING_FINANCE", "I-BANKING_FINANCE"]
    tags = ["O", "B-BANKING_FINANCE", "I-BANKING_FINANCE", "I-BANKING_FINANCE", "O"]
    (m,) = decode_bio(text, offsets, logits_for(tags, labels), labels, "SECTOR")
    assert (m.type, m.category, text[m.start:m.end], m.tok_start, m.tok_end) == ("SECTOR", "BANKING_FINANCE", "بانک‌ها", 2, 3)
    # a span of punctuation only is dropped
    assert decode_bio("« »", word_offsets("« »"), logits_for(["B-PER", "I-PER"], PER_LABELS), PER_LABELS, None) == []


def test_decode_bio_score_is_the_mean_probability_of_the_span_words():
    text = "قالیباف آمد"
    lg = np.log(np.array([[0.2, 0.6, 0.2], [0.9, 0.05, 0.05]]))
    (m,) = decode_bio(text, word_offsets(text), lg, PER_LABELS, None)
    assert m.score == pytest.approx(0.6)


# -- candidate_pairs -----------------------------------------------------------------
def test_pair_type_ids_follow_the_relation_names():
    # relations by name (role_of, said_by, topic), each with its schema heads × tails (inference/schema.yaml):
    # the order a reloaded config.json (sorted keys) gives, so fresh and reloaded models agree
    assert pair_types(SCHEMA) == [("ROLE", "PER"), ("QUOTE", "PER"), ("QUOTE", "ROLE"), ("QUOTE", "ORG"), ("QUOTE", "SECTOR")]


TOY = "قالیباف رئیس مجلس است. وی امروز در تهران گفت: کار داریم."
#      0       1    2    3    4  5     6  7     8    9   10


def test_three_mentions_give_the_hand_computed_pairs_and_features():
    per, role, quote = (mention(TOY, "PER", "قالیباف"), mention(TOY, "ROLE", "رئیس مجلس"), mention(TOY, "QUOTE", "کار داریم"))
    assert [(m.tok_start, m.tok_end) for m in (per, role, quote)] == [(0, 1), (1, 3), (9, 11)]
    heads, tails, f, index = candidate_pairs(TOY, [per, role, quote], SCHEMA)
    assert sorted(index) == [(1, 0), (2, 0), (2, 1)]  # role→per, quote→per, quote→role; nothing else is allowed
    assert f.shape == (3, len(LEGACY_FEATURES))
    rows = {pair: dict(zip(LEGACY_FEATURES, map(int, r))) for pair, r in zip(index, f)}
    # role→per: PER just before the ROLE (gap 1-1 = 0 tokens), widths 2 and 1 tokens (log2 buckets 1 and 1), same sentence
    assert rows[(1, 0)] == {"pair_type": 0, "direction": 0, "distance": 0, "rank": 0, "head_width": 1, "tail_width": 1,
                            "sentences": 0}
    # quote→per: gap 9-1 = 8 tokens (bucket floor(log2 9) = 3), one sentence end («است.») between
    assert rows[(2, 0)] == {"pair_type": 1, "direction": 0, "distance": 3, "rank": 0, "head_width": 1, "tail_width": 1,
                            "sentences": 1}
    # quote→role: gap 9-3 = 6 tokens (bucket floor(log2 7) = 2)
    assert rows[(2, 1)] == {"pair_type": 2, "direction": 0, "distance": 2, "rank": 0, "head_width": 1, "tail_width": 1,
                            "sentences": 1}
    k = index.index((2, 1))
    assert heads[k].tolist() == [9, 11] and tails[k].tolist() == [1, 3]


def test_the_checkpoint_pair_order_sets_the_pair_type_ids():
    ms = [mention(TOY, "PER", "قالیباف"), mention(TOY, "ROLE", "رئیس مجلس")]
    stored = [["QUOTE", "PER"], ["ROLE", "PER"]]  # a checkpoint trained with another order
    _, _, f, index = candidate_pairs(TOY, ms, SCHEMA, pairs=stored)
    assert index == [(1, 0)] and f[0, 0] == 1


def test_inside_after_rank_and_per_side():
    text = "علی و رضا و حسن و مریم گفتند: بانک‌ها و بیمه مهم‌اند. سپس زهرا آمد"
    #       0   1 2   3 4   5 6    7      8       9 10   11      12  13   14
    ms = [mention(text, "PER", p) for p in ("علی", "رضا", "حسن", "مریم", "زهرا")]
    quote = mention(text, "QUOTE", "بانک‌ها و بیمه مهم‌اند")
    sectors = [mention(text, "SECTOR", "بانک‌ها", category="BANKING_FINANCE"), mention(text, "SECTOR", "بیمه", category="BANKING_FINANCE")]
    ms = ms + [quote] + sectors
    q = 5
    _, _, f, index = candidate_pairs(text, ms, SCHEMA, per_side=2)
    rows = {pair: dict(zip(LEGACY_FEATURES, map(int, r))) for pair, r in zip(index, f)}
    said = sorted(t for h, t in index if h == q and ms[t].type == "PER")
    assert said == [2, 3, 4]  # the two nearest before (حسن, مریم; not علی, رضا) and the one after
    assert (rows[(q, 3)]["rank"], rows[(q, 2)]["rank"]) == (0, 1)  # مریم is nearer than حسن
    assert (rows[(q, 3)]["distance"], rows[(q, 2)]["distance"]) == (1, 2)  # gaps 8-7=1 → 1, 8-5=3 → 2
    after = rows[(q, 4)]
    assert (after["direction"], after["distance"], after["sentences"]) == (2, 1, 1)  # gap 13-12 = 1 → 1; «.» between
    for s in (6, 7):  # sectors inside the quote: direction 1, distance 0, no sentence between
        assert (rows[(q, s)]["direction"], rows[(q, s)]["distance"], rows[(q, s)]["sentences"]) == (1, 0, 0)
        assert rows[(q, s)]["pair_type"] == 4


def test_a_tail_overlapping_the_head_edge_is_the_other_direction():
    text = "وزیر نفت گفت: نفت گران شد"
    quote = mention(text, "QUOTE", "گفت: نفت گران")
    sector = Mention("SECTOR", 2, 6, text.index("گفت"), len(text), "ENERGY")  # starts inside the quote, ends past it
    _, _, f, index = candidate_pairs(text, [quote, sector], SCHEMA)
    assert index == [(0, 1)] and f[0, 1] == 3 and f[0, 2] == 0


def test_sentences_between_are_capped():
    text = "علی آمد. " + "خبر. " * 20 + "وی گفت: کار داریم"
    per, quote = mention(text, "PER", "علی"), mention(text, "QUOTE", "کار داریم")
    _, _, f, _ = candidate_pairs(text, [per, quote], SCHEMA)
    assert f[0, LEGACY_FEATURES.index("sentences")] == MAX_SENTENCES - 1


def test_cue_subject_is_on_only_for_the_mention_before_the_cue():
    text = "قالیباف آمد. ظریف گفت: کار داریم. رئیس مجلس قالیباف رفت."
    ms = [mention(text, "PER", "قالیباف"), mention(text, "PER", "ظریف"), mention(text, "QUOTE", "کار داریم"),
          mention(text, "ROLE", "رئیس مجلس"), mention(text, "PER", "قالیباف", 1)]
    f = features(text, ms)
    assert f[(2, 1)]["cue_subject"] == 1  # «ظریف گفت:»: in the subject zone of the quote's cue
    assert f[(2, 0)]["cue_subject"] == 3  # an earlier PER, and the cue has a named (not a pronoun) subject
    assert f[(2, 4)]["cue_subject"] == 3  # a later one
    assert f[(2, 3)]["cue_subject"] == 3
    assert f[(3, 4)]["cue_subject"] == 0  # not a quote head: no cue
    # without cues every quote is «no cue»
    _, _, plain, index = candidate_pairs(text, ms, SCHEMA, features=ALL_FEATURES, cues=None)
    assert (plain[:, ALL_FEATURES.index("cue_subject")] == 0).all() and len(index) == len(f)


def test_apposition_sets_the_adjacent_feature():
    text = "ظریف و قالیباف رئیس مجلس و وزیر نفت، زنگنه آمدند"
    ms = [mention(text, "PER", "ظریف"), mention(text, "PER", "قالیباف"), mention(text, "ROLE", "رئیس مجلس"),
          mention(text, "ROLE", "وزیر نفت"), mention(text, "PER", "زنگنه")]
    f = features(text, ms)
    assert f[(2, 1)]["adjacent"] == 1  # «قالیباف رئیس مجلس»: side by side
    assert f[(2, 0)]["adjacent"] == 2  # «ظریف» is not beside the ROLE, but another PER is
    assert f[(3, 4)]["adjacent"] == 1  # «وزیر نفت، زنگنه»: a comma between is still apposition
    assert f[(2, 4)]["adjacent"] == 2
    assert f[(3, 1)]["adjacent"] == 2  # «وزیر نفت» has «زنگنه», not «قالیباف», beside it


def test_title_context_and_adjacency_from_context_features():
    text = "رئیس مجلس آمد. و رئیس دولت، وزیر نفت و شهادت رئیس جمهور"
    ms = [mention(text, "ROLE", r) for r in ("رئیس مجلس", "رئیس دولت", "وزیر نفت", "رئیس جمهور")]
    cue_of, adjacent, title = _context_features(text, ms, None)
    assert title == [1, 1, 1, 2]  # text start, after «و», after «،», after another word («شهادت»)
    assert cue_of == {}
    assert adjacent == {0: set(), 1: {2}, 2: {1}, 3: set()}  # «رئیس دولت، وزیر نفت»: gap «، » only
    text2 = "قالیباف" + " " * 4 + "رئیس مجلس"  # a gap over three characters is not apposition
    assert _context_features(text2, [mention(text2, "PER", "قالیباف"), mention(text2, "ROLE", "رئیس مجلس")], None)[1] == {0: set(), 1: set()}


def test_context_features_tie_a_quote_to_the_cue_it_overlaps_most():
    text = "ظریف گفت: کار داریم. وی افزود: باید رفت."
    ms = [mention(text, "QUOTE", "کار داریم"), mention(text, "QUOTE", "باید رفت"), mention(text, "PER", "ظریف")]
    cue_of, _, _ = _context_features(text, ms, find_cues(text))
    assert sorted(cue_of) == [0, 1]
    assert text[cue_of[0].phrase[0]:cue_of[0].phrase[1]] == "گفت:" and not cue_of[0].pronoun
    assert text[cue_of[1].phrase[0]:cue_of[1].phrase[1]] == "افزود:" and cue_of[1].pronoun
    # a quote outside every cue region has no cue
    text = "ظریف گفت: کار داریم.\nبازار آرام است."  # a new paragraph ends the cue region
    ms = [mention(text, "QUOTE", "کار داریم"), mention(text, "QUOTE", "بازار آرام است")]
    assert sorted(_context_features(text, ms, find_cues(text))[0]) == [0]


# -- feature_spec --------------------------------------------------------------------
def test_feature_spec_sizes_and_column_order():
    spec = feature_spec(5)
    assert [n for n, _ in spec] == ALL_FEATURES  # candidate_pairs' columns are ALL_FEATURES positions
    assert dict(spec) == {"pair_type": 5, "direction": N_DIRECTIONS, "distance": N_BUCKETS, "rank": MAX_RANK,
                          "head_width": N_BUCKETS, "tail_width": N_BUCKETS, "sentences": MAX_SENTENCES,
                          "cue_subject": N_CUE_SUBJECT, "adjacent": N_ADJACENT, "title_context": N_TITLE_CONTEXT}
    assert [n for n, _ in feature_spec(5, LEGACY_FEATURES)] == LEGACY_FEATURES and len(LEGACY_FEATURES) == 7
    assert feature_spec(5, ["rank", "pair_type"]) == [["rank", MAX_RANK], ["pair_type", 5]]
    with pytest.raises(ValueError, match="unknown relation features"):
        feature_spec(5, ["pair_type", "nope"])


def test_a_chosen_feature_subset_gives_those_columns_in_that_order():
    ms = [mention(TOY, "PER", "قالیباف"), mention(TOY, "ROLE", "رئیس مجلس"), mention(TOY, "QUOTE", "کار داریم")]
    _, _, full, index = candidate_pairs(TOY, ms, SCHEMA, features=ALL_FEATURES, cues=find_cues(TOY))
    names = ["adjacent", "distance", "pair_type"]
    _, _, sub, index2 = candidate_pairs(TOY, ms, SCHEMA, features=names, cues=find_cues(TOY))
    assert index2 == index
    assert (sub == full[:, [ALL_FEATURES.index(n) for n in names]]).all()


# -- decide_relations ----------------------------------------------------------------
def test_one_speaker_per_quote_competes_with_nobody():
    text = "علی و رضا گفتند: کار داریم"
    ms = [mention(text, "PER", "علی"), mention(text, "PER", "رضا"), mention(text, "QUOTE", "کار داریم")]
    names = ["said_by", "role_of", "topic"]
    index = [(2, 0), (2, 1)]
    # said_by minus no-relation: علی 1.0, رضا 2.0 → رضا wins with share e^2 / (1 + e + e^2)
    logits = np.array([[0.0, 1.0, -9, -9], [0.0, 2.0, -9, -9]])
    (r,) = decide_relations(logits, index, ms, SCHEMA, names)
    assert r[:3] == ("said_by", 2, 1) and r[3] == pytest.approx(np.e ** 2 / (1 + np.e + np.e ** 2))
    # both below no-relation: nobody
    assert decide_relations(np.array([[0.0, -1.0, -9, -9], [0.0, -2.0, -9, -9]]), index, ms, SCHEMA, names) == []


def test_topic_keeps_every_pair_over_the_threshold():
    text = "گفت: بانک‌ها و بیمه مهم‌اند"
    ms = [mention(text, "QUOTE", "بانک‌ها و بیمه مهم‌اند"), mention(text, "SECTOR", "بانک‌ها", category="BANKING_FINANCE"),
          mention(text, "SECTOR", "بیمه", category="BANKING_FINANCE")]
    names = ["said_by", "role_of", "topic"]
    logits = np.array([[0.0, -9, -9, 1.0], [0.0, -9, -9, -1.0]])  # topic probabilities ≈ 0.73, 0.27
    out = decide_relations(logits, [(0, 1), (0, 2)], ms, SCHEMA, names)
    assert [o[:3] for o in out] == [("topic", 0, 1)]
    assert len(decide_relations(logits, [(0, 1), (0, 2)], ms, SCHEMA, names, threshold=0.2)) == 2


# -- propagate_titles ----------------------------------------------------------------
def test_a_repeated_title_links_to_the_person_of_its_first_appearance():
    text = "علی لاریجانی رئیس مجلس آمد. ظریف گفت: کار داریم. رئیس مجلس افزود: باید رفت."
    ms = [mention(text, "PER", "علی لاریجانی"), mention(text, "ROLE", "رئیس مجلس"), mention(text, "PER", "ظریف"),
          mention(text, "ROLE", "رئیس مجلس", 1)]
    # the model linked only the first title; the repeated one, left alone, goes to the same man
    assert propagate_titles(text, ms, [("role_of", 1, 0, 0.8)]) == [("role_of", 1, 0, 0.8), ("role_of", 3, 0, 1.0)]
    # the model gave the repeated title to the nearer «ظریف»: moved to the first holder, its score kept
    assert propagate_titles(text, ms, [("role_of", 1, 0, 0.8), ("role_of", 3, 2, 0.55)]) == [
        ("role_of", 1, 0, 0.8), ("role_of", 3, 0, 0.55)]
    # other relations pass through untouched
    assert ("said_by", 2, 2, 0.9) in propagate_titles(text, ms, [("said_by", 2, 2, 0.9)])


def test_a_title_nobody_stood_beside_is_left_to_the_model():
    text = "رئیس مجلس آمد. ظریف گفت: کار داریم. وزیر نفت رفت."
    ms = [mention(text, "ROLE", "رئیس مجلس"), mention(text, "PER", "ظریف"), mention(text, "ROLE", "وزیر نفت")]
    decided = [("role_of", 0, 1, 0.6)]
    assert propagate_titles(text, ms, decided) == decided
    assert propagate_titles(text, ms, []) == []


def test_a_different_title_is_not_propagated():
    text = "علی لاریجانی رئیس مجلس آمد. رئیس دولت رفت."
    ms = [mention(text, "PER", "علی لاریجانی"), mention(text, "ROLE", "رئیس مجلس"), mention(text, "ROLE", "رئیس دولت")]
    assert propagate_titles(text, ms, []) == []


def test_a_title_written_with_an_alias_goes_to_the_same_holder():
    # the seed article's two wordings of one post: «رئیس پارلمان بلاروس» beside the name, «رئیس مجلس بلاروس» alone
    text = "ایگور سرگینکو رئیس پارلمان بلاروس آمد. قالیباف گفت: خوش آمدید. حسن قشقاوی آنجا بود. رئیس مجلس بلاروس افزود: ممنونم."
    ms = [mention(text, "PER", "ایگور سرگینکو"), mention(text, "ROLE", "رئیس پارلمان بلاروس"), mention(text, "PER", "قالیباف"),
          mention(text, "PER", "حسن قشقاوی"), mention(text, "ROLE", "رئیس مجلس بلاروس")]
    wrong = [("role_of", 1, 0, 0.9), ("role_of", 4, 3, 0.9)]  # the model gave the second wording to the nearer man
    aliases = DECODE_DEFAULTS["title_aliases"]
    assert propagate_titles(text, ms, wrong, aliases) == [("role_of", 1, 0, 0.9), ("role_of", 4, 0, 0.9)]
    assert propagate_titles(text, ms, wrong) == wrong  # without aliases the two wordings are two posts


def test_a_name_in_quotation_marks_still_stands_beside_its_title():
    text = 'دکتر "گوستاو کوبریرو"، رئیس دانشگاه هاوانا، با "علی چگنی" دیدار کرد. رئیس دانشگاه هاوانا گفت: خوش آمدید.'
    ms = [mention(text, "PER", "گوستاو کوبریرو"), mention(text, "ROLE", "رئیس دانشگاه هاوانا"), mention(text, "PER", "علی چگنی"),
          mention(text, "ROLE", "رئیس دانشگاه هاوانا", 1)]
    assert propagate_titles(text, ms, [("role_of", 1, 0, 0.9), ("role_of", 3, 2, 0.6)]) == [
        ("role_of", 1, 0, 0.9), ("role_of", 3, 0, 0.6)]


@pytest.mark.parametrize("a, b", [
    ("رئیس نهاد قانونگذاری کشورمان", "رئیس مجلس شورای اسلامی"),
    ("رييس پارلمان ايران", "رئیس مجلس شورای اسلامی"),
    ("رئیس جمهوری", "رئيس‌جمهور"),
    ("وزیر امور خارجه", "وزير خارجه"),
])
def test_title_aliases_give_one_key(a, b):
    from goftar.inference.decode import _title_key

    aliases = DECODE_DEFAULTS["title_aliases"]
    assert _title_key(a, aliases) == _title_key(b, aliases)
    assert _title_key("رئیس مجلس بلاروس", aliases) != _title_key("رئیس مجلس شورای اسلامی", aliases)


# -- split_titles --------------------------------------------------------------------
def test_two_titles_joined_by_and_are_two_roles():
    from goftar.inference.decode import split_titles

    text = "معاون استاندار تهران و فرماندار ویژه شهرستان ری و سفیر و معاون نمایندگی ایران آمدند"
    both = mention(text, "ROLE", "معاون استاندار تهران و فرماندار ویژه شهرستان ری")
    envoy = mention(text, "ROLE", "سفیر و معاون نمایندگی ایران")
    pieces = split_titles(text, [both, envoy], word_offsets(text), DECODE_DEFAULTS["title_heads"])
    assert [text[m.start:m.end] for m in pieces] == ["معاون استاندار تهران", "فرماندار ویژه شهرستان ری", "سفیر و معاون نمایندگی ایران"]
    assert all(text[m.start:m.end].split()[0] == text.split()[m.tok_start] for m in pieces)  # token ranges follow
    # «و» before a word that starts no title stays inside («آموزش و تحقیقات»)
    t2 = "رئیس کمیسیون آموزش و تحقیقات مجلس"
    role = mention(t2, "ROLE", t2)
    assert split_titles(t2, [role], word_offsets(t2), DECODE_DEFAULTS["title_heads"]) == [role]


def test_an_institution_is_no_title():
    from goftar.inference.decode import drop_institutions

    text = "ستاد برگزاری نماز جمعه قم و خانه‌های بهداشت و رئیس ستاد گفتند"
    ms = [mention(text, "ROLE", "ستاد برگزاری نماز جمعه قم"), mention(text, "ORG", "ستاد برگزاری نماز جمعه قم"),
          mention(text, "ROLE", "خانه‌های بهداشت"), mention(text, "ROLE", "رئیس ستاد")]
    out = drop_institutions(text, ms, DECODE_DEFAULTS["institution_heads"])
    assert [(m.type, text[m.start:m.end]) for m in out] == [("ORG", "ستاد برگزاری نماز جمعه قم"), ("ROLE", "رئیس ستاد")]
    assert drop_institutions(text, ms, []) == ms


def test_function_words_leave_span_edges():
    from goftar.inference.decode import trim_edge_words

    text = "شرکت آب و فاضلاب طی سال گذشته از ابتدای سال 2007 گفت: در و از"
    ms = [mention(text, "ORG", "شرکت آب و"), mention(text, "DATE", "طی"), mention(text, "DATE", "از ابتدای سال 2007"),
          mention(text, "QUOTE", "در و از")]
    out = trim_edge_words(text, ms, word_offsets(text), DECODE_DEFAULTS["edge_stop_words"])
    assert [(m.type, text[m.start:m.end]) for m in out] == [("ORG", "شرکت آب"), ("DATE", "ابتدای سال 2007"), ("QUOTE", "در و از")]
    assert trim_edge_words(text, ms, word_offsets(text), []) == ms


# -- extend_titles -------------------------------------------------------------------
def test_a_title_takes_in_the_office_right_after_it():
    from goftar.inference.decode import extend_titles

    text = "فرماندار قاین و معاون وزارت نیرو ایران گفت. وزیر، ایران"
    ms = [mention(text, "ROLE", "فرماندار"), mention(text, "LOC", "قاین"), mention(text, "ROLE", "معاون"),
          mention(text, "ORG", "وزارت نیرو"), mention(text, "LOC", "ایران"), mention(text, "ROLE", "وزیر"),
          mention(text, "LOC", "ایران", 1)]
    out = extend_titles(text, ms, DECODE_DEFAULTS["extend_titles"])
    assert [text[m.start:m.end] for m in out if m.type == "ROLE"] == ["فرماندار قاین", "معاون وزارت نیرو ایران", "وزیر"]
    assert [m for m in out if m.type != "ROLE"] == [m for m in ms if m.type != "ROLE"]  # the entities stay
    role = out[0]
    assert (role.tok_start, role.tok_end) == (ms[0].tok_start, ms[1].tok_end)
    assert extend_titles(text, ms, []) == ms


# -- names_not_titles ----------------------------------------------------------------
def test_the_surname_raisi_is_a_name_not_a_title():
    from goftar.inference.decode import names_not_titles

    names = DECODE_DEFAULTS["not_titles"]
    text = "بيوك رئيسي گفت. رئیسی افزود. ابراهیم رئیسی رئیس جمهور آمد"
    ms = [mention(text, "PER", "بيوك"), mention(text, "ROLE", "رئيسي"), mention(text, "ROLE", "رئیسی"),
          mention(text, "PER", "ابراهیم رئیسی"), mention(text, "ROLE", "رئیسی", 1), mention(text, "ROLE", "رئیس جمهور")]
    out = names_not_titles(text, ms, names)
    # joined to the PER before it (Arabic letters too), a PER of its own, dropped inside a PER; a real title stays
    assert sorted((m.type, text[m.start:m.end]) for m in out) == sorted(
        [("PER", "بيوك رئيسي"), ("PER", "رئیسی"), ("PER", "ابراهیم رئیسی"), ("ROLE", "رئیس جمهور")])
    joined = next(m for m in out if text[m.start:m.end] == "بيوك رئيسي")
    assert (joined.tok_start, joined.tok_end) == (ms[0].tok_start, ms[1].tok_end)
    assert names_not_titles(text, ms, []) == ms


# -- foreign_titles ------------------------------------------------------------------
def test_a_title_behind_a_preposition_in_the_speakers_subject_is_not_his():
    from goftar.inference.cues import find_cues
    from goftar.inference.decode import foreign_titles

    preps = DECODE_DEFAULTS["foreign_title_prepositions"]
    text = ("قالیباف در این دیدار، ضمن تشکر از همدردی کشور بلاروس در حادثه شهادت رئیس جمهور، گفت: باید رفت.\n"
            "عیسی محمدی جانباز و عضو شورای روستا گفت: کار داریم.\n"
            "ناصر هادیان یکی از اساتید دانشگاه تهران گفت: خوب است.\n"
            "حسن روحانی به عنوان رئیس ستاد گفت: می‌رویم.")
    ms = [mention(text, "PER", "قالیباف"), mention(text, "LOC", "بلاروس"), mention(text, "ROLE", "رئیس جمهور"),
          mention(text, "PER", "عیسی محمدی"), mention(text, "ROLE", "عضو شورای روستا"),
          mention(text, "PER", "ناصر هادیان"), mention(text, "ROLE", "اساتید دانشگاه تهران"),
          mention(text, "PER", "حسن روحانی"), mention(text, "ROLE", "رئیس ستاد")]
    decided = [("role_of", 2, 0, 0.9), ("role_of", 4, 3, 0.9), ("role_of", 6, 5, 0.9), ("role_of", 8, 7, 0.9)]
    # «شهادت رئیس جمهور» is the late president, not the speaker; the apposition chain, the partitive
    # «یکی از» and «به عنوان» keep their links
    assert foreign_titles(text, ms, decided, find_cues(text), preps) == decided[1:]
    assert foreign_titles(text, ms, decided, find_cues(text), []) == decided
    # the title's holder is another person who shares the speaker's surname: the link stays
    text = "خاتمی رئیس جمهور شد.\nمحمد رضا خاتمی در نامه‌ای به رئیس جمهور گفت: باید رفت."
    ms = [mention(text, "PER", "خاتمی"), mention(text, "ROLE", "رئیس جمهور"), mention(text, "PER", "محمد رضا خاتمی"),
          mention(text, "ROLE", "رئیس جمهور", 1)]
    decided = [("role_of", 1, 0, 0.9), ("role_of", 3, 0, 0.9), ("role_of", 3, 2, 0.9)]
    assert foreign_titles(text, ms, decided, find_cues(text), preps) == decided[:2]


# -- nearest_holders -----------------------------------------------------------------
def test_a_title_links_to_the_nearest_mention_of_its_holder():
    from goftar.inference.decode import nearest_holders

    text = "محمدباقر قالیباف آمد. ظریف رفت. قالیباف ماند. رئیس مجلس گفت: باید رفت."
    ms = [mention(text, "PER", "محمدباقر قالیباف"), mention(text, "PER", "ظریف"), mention(text, "PER", "قالیباف", 1),
          mention(text, "ROLE", "رئیس مجلس")]
    # the model picked the first, farther mention of the holder: moved to «قالیباف», nearer by characters
    assert nearest_holders(text, ms, [("role_of", 3, 0, 0.8), ("said_by", 3, 0, 0.9)]) == [
        ("role_of", 3, 2, 0.8), ("said_by", 3, 0, 0.9)]
    # another person is not the same holder: «ظریف» stays
    assert nearest_holders(text, ms, [("role_of", 3, 1, 0.8)]) == [("role_of", 3, 1, 0.8)]


def test_a_plural_title_has_no_holder():
    from goftar.inference.decode import nearest_holders

    text = "محسن هاشمی و اعضای شورای شهر تهران آمدند."
    ms = [mention(text, "PER", "محسن هاشمی"), mention(text, "ROLE", "اعضای شورای شهر تهران")]
    heads = DECODE_DEFAULTS["plural_title_heads"]
    assert nearest_holders(text, ms, [("role_of", 1, 0, 0.7)], heads) == []
    assert nearest_holders(text, ms, [("role_of", 1, 0, 0.7)]) == [("role_of", 1, 0, 0.7)]


# -- pronoun_speakers ----------------------------------------------------------------
def test_a_pronoun_cue_quote_goes_to_the_previous_speaker_nearest_mention():
    from goftar.inference.decode import pronoun_speakers

    text = "محمدباقر قالیباف گفت: باید رفت. قالیباف به مشکلات اشاره کرد. وی افزود: کار داریم."
    ms = [mention(text, "PER", "محمدباقر قالیباف"), mention(text, "QUOTE", "باید رفت"), mention(text, "PER", "قالیباف", 1),
          mention(text, "QUOTE", "کار داریم")]
    decided = [("said_by", 1, 0, 0.9)]
    # «وی افزود:» unattributed by the model → the same man, through his nearest mention before the quote
    assert pronoun_speakers(text, ms, decided, find_cues(text)) == decided + [("said_by", 3, 2, 0.5)]
    # a quote the model attributed keeps its speaker; without cues nothing is added
    assert pronoun_speakers(text, ms, decided + [("said_by", 3, 0, 0.7)], find_cues(text)) == decided + [("said_by", 3, 0, 0.7)]
    assert pronoun_speakers(text, ms, decided, []) == decided


def test_a_name_inside_a_pronoun_subject_is_not_the_speaker():
    from goftar.inference.decode import pronoun_speakers

    text = "کاتب گفت: باید رفت. وی با اشاره به اظهارات پورابراهیمی اظهار داشت: کار داریم."
    ms = [mention(text, "PER", "کاتب"), mention(text, "QUOTE", "باید رفت"), mention(text, "PER", "پورابراهیمی"),
          mention(text, "QUOTE", "کار داریم")]
    # the model gave the second quote to the man «وی» speaks about; «وی» is the first speaker
    out = pronoun_speakers(text, ms, [("said_by", 1, 0, 0.9), ("said_by", 3, 2, 0.8)], find_cues(text))
    assert out == [("said_by", 1, 0, 0.9), ("said_by", 3, 0, 0.5)]


def test_a_named_cue_or_a_first_quote_gets_no_borrowed_speaker():
    from goftar.inference.decode import pronoun_speakers

    text = "ظریف گفت: باید رفت. سخنگوی دولت افزود: کار داریم."
    ms = [mention(text, "PER", "ظریف"), mention(text, "QUOTE", "باید رفت"), mention(text, "ROLE", "سخنگوی دولت"),
          mention(text, "QUOTE", "کار داریم")]
    assert pronoun_speakers(text, ms, [("said_by", 1, 0, 0.9)], find_cues(text)) == [("said_by", 1, 0, 0.9)]
    text = "وی گفت: باید رفت."
    ms = [mention(text, "QUOTE", "باید رفت")]
    assert pronoun_speakers(text, ms, [], find_cues(text)) == []


# -- cut_at_words --------------------------------------------------------------------
@pytest.mark.parametrize("stop", DECODE_DEFAULTS["role_stop_words"])
def test_a_role_is_cut_before_a_stop_word(stop):
    assert DECODE_DEFAULTS["role_stop_words"] == ["به", "را", "که"]
    text = f"وزیر امور خارجه {stop} تهران رفت"
    offsets = word_offsets(text)
    role = mention(text, "ROLE", f"وزیر امور خارجه {stop} تهران")
    (cut,) = cut_at_words(text, [role], offsets, DECODE_DEFAULTS["role_stop_words"])
    assert (text[cut.start:cut.end], cut.tok_start, cut.tok_end) == ("وزیر امور خارجه", 0, 3)


def test_cut_at_words_keeps_words_that_only_begin_like_a_stop_word_and_other_types():
    text = "وزیر بهداشت که آمد"
    offsets = word_offsets(text)
    role = mention(text, "ROLE", "وزیر بهداشت")
    assert cut_at_words(text, [role], offsets, ["به"]) == [role]  # «بهداشت» is not «به»
    quote = mention(text, "QUOTE", "وزیر بهداشت که آمد")
    assert cut_at_words(text, [quote], offsets, ["که"]) == [quote]  # only ROLE spans are cut
    first = mention("که وزیر آمد", "ROLE", "که وزیر")
    assert cut_at_words("که وزیر آمد", [first], word_offsets("که وزیر آمد"), ["که"]) == [first]  # not at the first word


def test_a_cut_that_leaves_only_punctuation_drops_the_span():
    text = "« به تهران"
    role = mention(text, "ROLE", "« به تهران")
    assert cut_at_words(text, [role], word_offsets(text), ["به"]) == []


# -- merge_touching ------------------------------------------------------------------
def test_touching_pieces_of_a_title_become_one_span_and_others_stay_apart():
    t = "رییس سابق شورا و معاون\u200cوزیر نفت گفت اقتصاد تجارت"
    pieces = [mention(t, "ROLE", "رییس"), mention(t, "ROLE", "سابق شورا"),          # space between: one title cut in two
              mention(t, "ROLE", "معاون"), mention(t, "ROLE", "وزیر نفت"),          # ZWNJ between: one title
              mention(t, "SECTOR", "اقتصاد", category="ECONOMY"), mention(t, "SECTOR", "تجارت", category="TRADE")]
    pieces[0].score, pieces[1].score = 0.9, 0.5
    out = merge_touching(t, pieces, DECODE_DEFAULTS["merge_touching"])
    got = [(m.type, t[m.start:m.end]) for m in out]
    # «و» keeps the two titles apart; touching sectors of different categories stay apart
    assert got == [("ROLE", "رییس سابق شورا"), ("ROLE", "معاون\u200cوزیر نفت"), ("SECTOR", "اقتصاد"), ("SECTOR", "تجارت")]
    assert (out[0].tok_start, out[0].tok_end) == (pieces[0].tok_start, pieces[1].tok_end)
    assert out[0].score == pytest.approx(0.7)
    assert merge_touching(t, pieces, []) == pieces


def test_merging_needs_the_same_type_and_category():
    t = "قالیباف مجلس"
    per, org = mention(t, "PER", "قالیباف"), mention(t, "ORG", "مجلس")
    assert [m.type for m in merge_touching(t, [per, org], ["PER", "ORG"])] == ["PER", "ORG"]
    a, b = mention(t, "SECTOR", "قالیباف", category="ECONOMY"), mention(t, "SECTOR", "مجلس", category="TRADE")
    assert len(merge_touching(t, [a, b], ["SECTOR"])) == 2


# -- strip_honorifics (guide: ranks and honorifics stay outside the PER and are not ROLEs) ----------------
def test_honorifics_leave_names_and_titles_and_are_no_title_alone():
    t = "آيت‌الله جنتی و آقای قالیباف و حجت الاسلام و سردار سلامی رئیس"
    ms = [mention(t, "PER", "آيت‌الله جنتی"), mention(t, "PER", "آقای قالیباف"), mention(t, "ROLE", "حجت الاسلام"),
          mention(t, "ROLE", "سردار سلامی رئیس")]
    out = strip_honorifics(t, ms, word_offsets(t), DECODE_DEFAULTS["honorifics"])
    # Arabic ي and the split «حجت الاسلام» are the same honorific once keyed; «سردار …» keeps what follows it
    assert [(m.type, t[m.start:m.end]) for m in out] == [("PER", "جنتی"), ("PER", "قالیباف"), ("ROLE", "سلامی رئیس")]
    assert (out[0].tok_start, out[0].tok_end) == (1, 2)
    assert strip_honorifics(t, ms, word_offsets(t), []) == ms
    org = [mention(t, "ORG", "آقای قالیباف")]
    assert strip_honorifics(t, org, word_offsets(t), ["آقای"]) == org  # only PER and ROLE


def test_military_ranks_and_madazelleh_are_honorifics():
    # the tagger read «سرتیپ» and «مدظله» as ROLEs on fresh dev articles (corpus v3)
    t = "سرتیپ دوم محمدحسین حمیدی و رهبری مدظله و خانم رجبی"
    ms = [mention(t, "ROLE", "سرتیپ"), mention(t, "PER", "سرتیپ دوم محمدحسین حمیدی"), mention(t, "ROLE", "مدظله"),
          mention(t, "PER", "خانم رجبی")]
    out = strip_honorifics(t, ms, word_offsets(t), DECODE_DEFAULTS["honorifics"])
    assert [(m.type, t[m.start:m.end]) for m in out] == [("PER", "محمدحسین حمیدی"), ("PER", "رجبی")]
