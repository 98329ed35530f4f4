"""ARMAN (ArmanPersoNERCorpus): token/BIO lines ``token B-pers``, and its quirk — nationality adjectives tagged ``org``.

:func:`is_demonym` tells such words; the flavour drops one-token ``org``
spans that are demonyms, as docs/ANNOTATION.md keeps demonyms out of mentions.
"""
from __future__ import annotations

import re
from typing import Sequence

from ..normalize import persian_letters
from .flavour import BioFlavour

# Places whose adjective (place + ی) is a nationality or demonym. Written with
# Persian ی/ک and no ZWNJ, the spelling is_demonym compares in. The list holds
# the countries, regions and Iranian cities/provinces whose demonyms ARMAN
# tags `org` (all test folds checked), plus their neighbours; names ending in
# ی (شوروی, اندونزی) are here so that their -ایی adjectives are found, while
# the name itself is never taken for a demonym (the rule needs a suffix).
_DEMONYM_PLACES = frozenset("""
ایران آمریکا امریکا روسیه شوروی چین ژاپن کره هند پاکستان افغانستان عراق سوریه لبنان اردن
مصر لیبی لیبیا تونس الجزایر مغرب مراکش سودان سومالی سومالیا یمن عمان عربستان سعود کویت قطر
بحرین امارات ترکیه ترکمنستان ازبکستان تاجیکستان قزاقستان قرقیزستان آذربایجان ارمنستان گرجستان
اسرائیل اسراییل فلسطین قبرس یونان ایتالیا اسپانیا پرتغال فرانسه آلمان انگلیس انگلستان بریتانیا ایرلند
اسکاتلند هلند بلژیک سوئیس اتریش سوئد نروژ دانمارک فنلاند لهستان مجارستان رومانی بلغارستان
یوگسلاوی صربستان کرواسی بوسنی آلبانی اوکراین اکراین بلاروس لیتوانی لتونی استونی کانادا مکزیک
کوبا برزیل آرژانتین شیلی کلمبیا ونزوئلا پرو کاستاریکا استرالیا اندونزی مالزی تایلند ویتنام
فیلیپین میانمار سریلانکا بنگلادش نپال تایوان سنگاپور کامبوج نیجریه اتیوپی کنیا آفریقا اروپا
آسیا کشمیر چچن کردستان بلوچستان تگزاس کالیفرنیا تهران اصفهان شیراز تبریز مشهد کرمان کرمانشاه
همدان یزد اهواز آمل گیلان مازندران خوزستان لرستان خراسان قزوین قم کاشان رشت زنجان اراک اردبیل
بوشهر
""".split())
# Peoples named without a place: ethnic and religious groups (their plurals
# and -ی adjectives follow: روس‌ها, روسی).
_DEMONYM_GROUPS = frozenset(
    "یهودی کلیمی عرب اعراب کرد کورد ترک تورک روس افغان ارمنی بلوچ ترکمن پشتون تاجیک ازبک صرب کروات".split()
)


def _demonym_key(word: str) -> str:
    w = persian_letters(word)
    w = w.replace("\u200c", "").replace("\u0640", "")
    # آمریکائی and آمریکایی are one word; only the suffix is respelled («اسرائیل» keeps its ئ)
    return re.sub("ائی(?=(ان|ها|های)?$)", "ایی", w)


def _adjective_stems(word: str) -> list[str]:
    """Places ``word`` can be the -ی adjective of (``ایرانی`` → ``ایران``)."""
    stems = []
    if word.endswith("ایی"):              # آمریکایی → آمریکا, اندونزیایی → اندونزی
        stems += [word[:-2], word[:-3]]
    elif word.endswith("وی"):             # فرانسوی → فرانسه
        stems.append(word[:-2] + "ه")
    elif word.endswith("های"):            # کره‌ای (ZWNJ dropped) → کره
        stems.append(word[:-2])
    if word.endswith("ی") and not word[:-1].endswith(("ا", "و")):
        # after ا/و a final ی is the ezafe glide («آمریکای لاتین»), not the adjective suffix
        stems.append(word[:-1])
    return stems


def is_demonym(word: str) -> bool:
    """True when ``word`` is a nationality adjective or demonym, singular or plural.

    The rule: after unifying ي/ك, dropping ZWNJ and tatweel and one plural
    suffix (ان, ها, های), the word is a group name (``یهودی``, ``عرب``, ``کرد`` …)
    or the -ی adjective of a known place (``ایرانی`` = ``ایران`` + ی;
    ``آمریکایی`` = ``آمریکا`` + یی; ``فرانسوی`` from ``فرانسه``; ``کره‌ای``).
    A place name itself is never a demonym, nor is a word whose stem is not a
    known place, so ARMAN's real `org` names ending in ی (``دادگستری``,
    ``شوروی``, ``چلسی``, ``جمهوری``) stay entities.

    >>> [is_demonym(w) for w in ["ایرانی", "ایرانیان", "آمریکائیها", "فلسطینی‌ها", "کره‌ای"]]
    [True, True, True, True, True]
    >>> [is_demonym(w) for w in ["ایران", "شوروی", "دادگستری", "آمریکای", "طالبان"]]
    [False, False, False, False, False]
    """
    w = _demonym_key(word)
    candidates = [w]
    for plural in ("های", "ها", "ان"):
        if w.endswith(plural) and len(w) > len(plural) + 1:
            candidates.append(w[: -len(plural)])
    for c in candidates:
        if c in _DEMONYM_GROUPS:
            return True
        if any(s in _DEMONYM_PLACES or s in _DEMONYM_GROUPS for s in _adjective_stems(c)):
            return True
    return False


def _arman_keeps(source_type: str, tokens: Sequence[str]) -> bool:
    # ARMAN's guideline tags nationalities `org` («ایرانی» B-org 46× vs O 45×);
    # ANNOTATION.md says demonyms are not entities, so a one-token `org` span
    # that is a demonym becomes O. Longer spans («یهودیان ایران») are names.
    return not (source_type == "org" and len(tokens) == 1 and is_demonym(tokens[0]))


ARMAN = BioFlavour(
    "arman", " ", "-",
    {"pers": "PER", "org": "ORG", "loc": "LOC", "fac": "FAC", "pro": "PRO", "event": "EVENT"},
    ("PER", "ORG", "LOC", "FAC", "PRO", "EVENT"),
    _arman_keeps,
)
