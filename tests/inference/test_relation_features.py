"""Relation candidates and their pair features on hand-made mentions: no model."""
import numpy as np

from goftar.inference.cues import find_cues
from goftar.inference.decode import ALL_FEATURES, LEGACY_FEATURES, Mention, candidate_pairs, feature_spec
from goftar.inference.schema import Schema


def mentions(text, spans):
    out = []
    for k, (typ, surface, nth) in enumerate(spans):
        i = -1
        for _ in range(nth + 1):
            i = text.index(surface, i + 1)
        out.append(Mention(typ, k * 10, k * 10 + 2, i, i + len(surface)))
    return out


def feats_of(text, ms, head, tail):
    _, _, f, index = candidate_pairs(text, ms, Schema.default(), cues=find_cues(text), features=ALL_FEATURES)
    row = f[index.index((head, tail))]
    return dict(zip(ALL_FEATURES, row))


TEXT = "قالیباف رئیس مجلس در حادثه شهادت رئیس جمهور گفت: روابط را توسعه دهیم.\nوی افزود: کار داریم."


def test_cue_subject_apposition_and_title_context():
    ms = mentions(TEXT, [("PER", "قالیباف", 0), ("ROLE", "رئیس مجلس", 0), ("ROLE", "رئیس جمهور", 0),
                         ("QUOTE", "روابط را توسعه دهیم", 0), ("QUOTE", "کار داریم", 0)])
    per, role, other, q1, q2 = range(5)
    f = feats_of(TEXT, ms, q1, per)
    assert f["cue_subject"] == 1  # the speaker is in the subject zone of «گفت:»
    assert feats_of(TEXT, ms, q2, per)["cue_subject"] == 2  # «وی افزود:»: pronoun subject, the PER is earlier
    assert feats_of(TEXT, ms, role, per)["adjacent"] == 1  # «قالیباف رئیس مجلس»: apposition
    assert feats_of(TEXT, ms, other, per)["adjacent"] == 0
    assert feats_of(TEXT, ms, role, per)["title_context"] == 1  # after a name
    assert feats_of(TEXT, ms, other, per)["title_context"] == 2  # «شهادت رئیس جمهور»: after another word


def test_legacy_checkpoints_get_their_seven_features():
    ms = mentions(TEXT, [("PER", "قالیباف", 0), ("ROLE", "رئیس مجلس", 0)])
    _, _, f, _ = candidate_pairs(TEXT, ms, Schema.default())
    assert f.shape[1] == len(LEGACY_FEATURES) == 7
    _, _, f2, _ = candidate_pairs(TEXT, ms, Schema.default(), cues=find_cues(TEXT), features=ALL_FEATURES)
    assert f2.shape[1] == 10 and (f2[:, :7] == f).all()


def test_feature_values_fit_their_embeddings():
    ms = mentions(TEXT, [("PER", "قالیباف", 0), ("ROLE", "رئیس مجلس", 0), ("ROLE", "رئیس جمهور", 0),
                         ("QUOTE", "روابط را توسعه دهیم", 0), ("QUOTE", "کار داریم", 0)])
    spec = feature_spec(len(Schema.default().relations) * 4, ALL_FEATURES)
    _, _, f, _ = candidate_pairs(TEXT, ms, Schema.default(), cues=find_cues(TEXT), features=ALL_FEATURES)
    for col, (name, size) in enumerate(spec):
        assert f[:, col].min() >= 0 and f[:, col].max() < size, name


def test_empty():
    _, _, f, index = candidate_pairs("", [], Schema.default(), cues=[], features=ALL_FEATURES)
    assert f.shape == (0, 10) and index == []
    try:
        feature_spec(3, ["nope"])
    except ValueError as exc:
        assert "unknown relation features" in str(exc)
    else:
        raise AssertionError("unknown feature accepted")


def test_repeated_title_goes_to_the_person_it_first_stood_beside():
    from goftar.inference.decode import propagate_titles

    text = "محمدباقر قالیباف رئیس مجلس گفت: کار داریم. ایگور سرگینکو نیز آمد. رئیس مجلس افزود: باید رفت. قالیباف رفت."
    ms = mentions(text, [("PER", "محمدباقر قالیباف", 0), ("ROLE", "رئیس مجلس", 0), ("PER", "ایگور سرگینکو", 0),
                         ("ROLE", "رئیس مجلس", 1), ("PER", "قالیباف", 1)])
    decided = [("role_of", 1, 0, 0.9), ("role_of", 3, 2, 0.6)]  # the model gave the repeated title to the nearer man
    out = propagate_titles(text, ms, decided)
    # to the nearest mention of the same person («قالیباف» after it), not to the other man
    assert ("role_of", 3, 4, 0.6) in out and ("role_of", 1, 0, 0.9) in out
    # a title with its own name beside it keeps the model's decision
    assert propagate_titles(text, ms, [("role_of", 1, 4, 0.5)]) == [("role_of", 1, 4, 0.5), ("role_of", 3, 4, 1.0)]


def test_a_title_does_not_run_across_a_preposition():
    from goftar.inference.decode import cut_at_words

    text = "رئیس مجلس بلاروس به کمیسیون مشترک اشاره کرد"
    offsets = np.array([[m.start(), m.end()] for m in __import__("re").finditer(r"\S+", text)])
    role = Mention("ROLE", 0, 6, 0, text.index(" اشاره"))
    (cut,) = cut_at_words(text, [role], offsets, ["به", "را", "که"])
    assert text[cut.start:cut.end] == "رئیس مجلس بلاروس" and (cut.tok_start, cut.tok_end) == (0, 3)
    assert cut_at_words(text, [role], offsets, []) == [role]
