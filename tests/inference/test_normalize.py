from hypothesis import given, settings, strategies as st

from goftar.inference.normalize import NEUTRAL, Normalizer, normalize


def test_persian_letters_and_digits():
    assert normalize("كيك") == "کیک"
    assert normalize("مى") == "می"
    assert normalize("۱۴۰۳ و ١٤٠٣") == "1403 و 1403"
    assert Normalizer(digits="persian")("1403") == "۱۴۰۳"
    assert Normalizer(digits="keep")("۱۴۰۳") == "۱۴۰۳"


def test_presentation_forms_map_to_base_letters():
    # ﺍ (FE8D) alef isolated, ﻣ (FEE3) meem initial, ﻱ (FEF1) yeh isolated → Persian ی
    assert normalize("\ufe8d\ufee3\ufef1") == "امی"


def test_marks_are_neutralised_without_changing_length():
    text = "مُحَمَّد\u200fكـتاب"
    out = normalize(text)
    assert len(out) == len(text)
    compact, index = Normalizer().compact(text)
    assert compact == "محمدکتاب"
    assert [text[i] for i in index] == ["م", "ح", "م", "د", "ك", "ت", "ا", "ب"]


def test_zwnj_forms_are_kept():
    for t in ("همکاری‌های", "همکاریهای", "همکاری های"):
        assert normalize(t) == t


def test_bad_setting_is_reported():
    import pytest

    with pytest.raises(ValueError, match="digits"):
        Normalizer(digits="roman")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_length_and_offsets_kept_on_random_unicode(text):
    out = normalize(text)
    assert len(out) == len(text)
    compact, index = Normalizer().compact(text)
    assert len(compact) == len(index)
    assert index == sorted(set(index))
    for j, i in enumerate(index):
        # each kept character comes from the same place in the original
        assert compact[j] == out[i] and out[i] != NEUTRAL
