"""The cue lexicon on sentences of each cue form (guide 1.1), and the cue tags the model reads."""
import numpy as np
import pytest

from goftar.inference import cues as C
from tests.helpers import lexicon_without


def found(text):
    return [(c.kind, text[c.region[0]:c.region[1]], text[c.subject[0]:c.subject[1]].strip()) for c in C.find_cues(text)]


@pytest.mark.parametrize("text, kind, region, subject", [
    ("وزیر نفت گفت: تولید افزایش می‌یابد.", "direct", "تولید افزایش می‌یابد", "وزیر نفت"),
    ("وي تصريح كرد: كار داريم.", "direct", "كار داريم", "وي"),  # Arabic ي/ك
    ("قالیباف خاطرنشان کرد: روابط مهم است.", "direct", "روابط مهم است", "قالیباف"),
    ("قالیباف خاطر نشان کرد: روابط مهم است.", "direct", "روابط مهم است", "قالیباف"),
    ("وی ادامه داد: «بازار آرام است».", "direct", "بازار آرام است", "وی"),
    ("او گفته است: بودجه کافی است.", "direct", "بودجه کافی است", "او"),
    ("وزیر می‌گوید: صادرات بالاست.", "direct", "صادرات بالاست", "وزیر"),
    ("نمایندگان اعلام کردند: دولت مخالف است.", "direct", "دولت مخالف است", "نمایندگان"),  # plural light verb
    ("وی خاطر نشان ساخت: وحدت مهم است.", "direct", "وحدت مهم است", "وی"),  # «ساخت» as the auxiliary
    ("وی اظهار کرده‌اند: کار داریم.", "direct", "کار داریم", "وی"),
    ("وی با بیان اینکه صادرات بالاست، افزود: کار داریم.", "indirect", "صادرات بالاست", "وی"),
    ("رئیس مجلس با اشاره به اینکه تعرفه‌ها بالاست، تصریح کرد: باید کم شود.", "indirect", "تعرفه‌ها بالاست", "رئیس مجلس"),
    ("وی با انتقاد از دولت و بیان اینکه توافق شده است، افزود: خوب است.", "indirect", "توافق شده است", "وی با انتقاد از دولت"),
    # «این که» written apart, with a ZWNJ or as one word; «ضمن» for «با»
    ("فرماندار با بیان این که بودجه کم است، گفت: کار داریم.", "indirect", "بودجه کم است", "فرماندار"),
    ("وی با اعلام این‌که آن‌ها ضربه زدند، افزود: کار داریم.", "indirect", "آن‌ها ضربه زدند", "وی"),
    ("وی ضمن بیان اینکه اقداماتی انجام داده‌ایم، گفت: کار داریم.", "indirect", "اقداماتی انجام داده‌ایم", "وی"),
    # an opener's clause ends before a colon even when no speech verb follows
    ("وی با اشاره به این که شغل آنها کشاورزی است، معتقد است: کشاورزان سرپا هستند.", "indirect", "شغل آنها کشاورزی است", "وی"),
    ("وزیر اعلام کرد که قیمت‌ها ثابت می‌ماند.", "indirect", "قیمت‌ها ثابت می‌ماند", "وزیر"),
    # an opener whose main verb is a bare one, after a comma or not
    ("وی با بیان اینکه با ۱۶ کارگزاری موافقت شده است، گفت این کارگزاری‌ها در تهران هستند.", "indirect",
     "با ۱۶ کارگزاری موافقت شده است", "وی"),
    ("این پژوهشگر با اشاره به اینکه حمله‌ها محدود نمی‌شود گفت مقامات به خانواده‌ها حمله می‌کنند.", "indirect",
     "حمله‌ها محدود نمی‌شود", "این پژوهشگر"),
    # a colon-only verb that still takes «که»
    ("وی توضیح داد که این کتیبه به خط پهلوی است.", "indirect", "این کتیبه به خط پهلوی است", "وی"),
    ("یک کارشناس خبر داد که کردها متعهد شدند.", "indirect", "کردها متعهد شدند", "یک کارشناس"),
    # a speech verb, a comma, a clause
    ("مشاور نخست وزیر تاکید کرد ، این کشور پنج میلیارد دلار می‌پردازد.", "indirect", "این کشور پنج میلیارد دلار می‌پردازد", "مشاور نخست وزیر"),
    ("وزیر گفت قیمت‌ها ثابت می‌ماند.", "indirect", "قیمت‌ها ثابت می‌ماند", "وزیر"),
    ("به گفته وزیر، قیمت‌ها ثابت می‌ماند.", "according", "قیمت‌ها ثابت می‌ماند", "وزیر"),
    ("به گفته وی قیمت‌ها ثابت می‌ماند.", "according", "قیمت‌ها ثابت می‌ماند", "وی"),
    ("رئیس پارلمان بلاروس: ضرورت توسعه روابط", "headline", "ضرورت توسعه روابط", "رئیس پارلمان بلاروس"),
])
def test_each_cue_form(text, kind, region, subject):
    hits = [h for h in found(text) if h[0] == kind]
    assert hits, found(text)
    assert hits[0][1] == region
    assert hits[0][2] == subject


@pytest.mark.parametrize("text, regions", [
    # a bare speech verb's clause stops at the next cue of its sentence: «و گفت:» is not part of a quote
    ("وی این مسئله را مهم عنوان کرد و گفت: بازار آرام است.", [("direct", "بازار آرام است")]),
    ("وزیر اعلام کرد که قیمت‌ها ثابت است و یادآور شد: بازار آرام است.",
     [("indirect", "قیمت‌ها ثابت است"), ("direct", "بازار آرام است")]),
    # an opener with no speech verb after it: the clause ends at the comma before the main verb
    ("وی با تاکید بر اینکه هر تاخیری خطرناک است، خواستار حمله شد.", [("indirect", "هر تاخیری خطرناک است")]),
    # a decimal point ends no sentence
    ("وی با بیان اینکه ظرفیت ۷.۴ میلیون تن است، گفت: تولید بالا می‌رود.",
     [("indirect", "ظرفیت ۷.۴ میلیون تن است"), ("direct", "تولید بالا می‌رود")]),
    # a direct quote without marks gives way to narration: a sentence about the speaker, a flattened paragraph break
    ("رئیس جمهور افزود: دنیا آزاد خواهد شد. وی پیشنهاد داد مقر سازمان منتقل شود.", [("direct", "دنیا آزاد خواهد شد")]),
    ("وی گفت: دین اسلام جامع است.      همچنین در این مراسم یادمان رونمایی شد.", [("direct", "دین اسلام جامع است")]),
    # a speaker's «ایشان» is someone else: the quote goes on
    ("مدیر گفت: من پاسخ نمی‌دهم. ایشان تیم را رها کرده است.", [("direct", "من پاسخ نمی‌دهم. ایشان تیم را رها کرده است")]),
    # an ellipsis ends no sentence: the quote runs on to the last full stop before the next cue
    ("جاویدان افزود: تذکر در خصوص مزاحمت و... انجام شد. وی گفت: کار داریم.",
     [("direct", "تذکر در خصوص مزاحمت و... انجام شد"), ("direct", "کار داریم")]),
    # «در پاسخ به گفته خبرنگاری …» is no «according to»: the speech verb after it holds the quote
    ("وی در پاسخ به گفته خبرنگاری مبنی بر اینکه تسهیلات نرسیده است، بیان کرد: تسهیلات پابرجا است.",
     [("direct", "تسهیلات پابرجا است")]),
    # «به گفته X» inside a speaker's paragraph is the speaker citing X: it does not end the quote
    ("وی ادامه داد: کارخانه تاسیس شده است. به گفته کارشناسان، تولید بالا می‌رود.",
     [("direct", "کارخانه تاسیس شده است. به گفته کارشناسان، تولید بالا می‌رود"), ("according", "تولید بالا می‌رود")]),
])
def test_region_ends(text, regions):
    assert [(k, r) for k, r, _ in found(text) if k != "source"] == regions


def test_headline_segments_are_separate_quotes():
    t = "سرلشکر سلامی: امروز جهان را می‌بینیم | فردا فضا را"
    assert [r for k, r, _ in found(t) if k == "headline"] == ["امروز جهان را می‌بینیم", "فردا فضا را"]
    # Fars writes the bar as «/»; a «/» inside a date splits nothing
    t = "محرمی: هواداران پرسپولیس منطقی باشند/میزبانی حق راه‌آهن است"
    assert [r for k, r, _ in found(t) if k == "headline"] == ["هواداران پرسپولیس منطقی باشند", "میزبانی حق راه‌آهن است"]
    t = "محرمی: بازی در 1398/05/12 برگزار می‌شود"
    assert [r for k, r, _ in found(t) if k == "headline"] == ["بازی در 1398/05/12 برگزار می‌شود"]
    t = "افزایش قیمت‌ها/ محرمی: هواداران منطقی باشند"
    assert [(r, s) for k, r, s in found(t) if k == "headline"] == [("هواداران منطقی باشند", "محرمی")]


@pytest.mark.parametrize("text", [
    "رویترز گزارش داد: قیمت نفت بالا رفت.",
    "آسوشیتدپرس نوشت: قیمت نفت بالا رفت.",
    "این سایت خبری افزود: قیمت نفت بالا رفت.",
])
def test_outlets_are_sources_not_speakers(text):
    kinds = [k for k, _, _ in found(text)]
    assert "source" in kinds and "direct" not in kinds and "indirect" not in kinds


@pytest.mark.parametrize("text", [
    "وزیر هشدار داد که قیمت‌ها بالا می‌رود",  # «هشدار داد» is a cue only with a colon
    "او خواستار شد قیمت‌ها ثابت بماند.",
    "دیدار و گفتوگو کرد.",  # «گفت» inside «گفتوگو» is no verb
    "کد خبر: ۱۲۳۴",  # a label line, not a headline speaker
    "خاتمی در گفت و گو با یک نشریه حاضر شد.",  # the noun «گفت و گو», written apart
    "گفته می‌شود او بازداشت شده است.",  # a passive: no speaker
    "شاید بتوان گفت کاهش کشت به دلیل ارقام نامناسب بوده است.",  # the writer's own voice
    "وی بر حفظ کرامت این گروه تاکید کرد و خواستار کمک به آنان شد.",  # «… کرد و خواستار … شد» starts no clause
])
def test_non_quotes(text):
    assert [k for k, _, _ in found(text) if k != "source"] == []


def test_report_and_dateline_do_not_hide_the_speaker():
    t = "به گزارش خبرگزاری فارس، رحیم زارع اظهار داشت: کار داریم."
    assert found(t)[-1] == ("direct", "کار داریم", "رحیم زارع")
    t2 = "خبرگزاری فارس- معاون استاندار گفت: کار داریم."
    assert ("direct", "کار داریم", "معاون استاندار") in found(t2)


def test_quote_inside_quote_stays_inside():
    t = "نماینده گفت: «رئیس‌جمهور گفت: صبر کنید». سپس رفت."
    assert [r for k, r, _ in found(t) if k == "direct"] == ["رئیس‌جمهور گفت: صبر کنید"]


def test_pronoun_and_dropped_subjects_are_flagged():
    assert [c.pronoun for c in C.find_cues("وی افزود: کار داریم.")] == [True]
    assert [c.pronoun for c in C.find_cues("قالیباف افزود: کار داریم.")] == [False]


def test_offsets_point_into_the_original_text():
    t = "وزير نفت گفت: «توليد افزايش مي‌يابد»."
    (c,) = C.find_cues(t)
    assert t[c.region[0]:c.region[1]] == "توليد افزايش مي‌يابد"


def test_char_and_token_tags():
    t = "وزیر گفت: کار داریم."
    tags = C.char_tags(t)
    name = {i: n for i, n in enumerate(C.CUE_TAGS)}
    assert name[tags[0]] == "subject" and name[tags[t.index("گفت")]] == "direct_phrase"
    assert name[tags[t.index("کار")]] == "direct_region" and name[tags[len(t) - 1]] == "none"
    offsets = np.array([[0, 4], [5, 8], [10, 13], [14, 19], [19, 20]])
    assert [name[x] for x in C.token_tags(t, offsets)] == ["subject", "direct_phrase", "direct_region", "direct_region", "none"]


def test_lexicon_errors_name_the_file(tmp_path):
    bad = tmp_path / "cues.yaml"
    bad.write_text("simple_verbs: [گفت\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cues.yaml"):
        C.Lexicon.from_yaml(bad)
    bad.write_text("simple_verbs: [گفت]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        C.Lexicon.from_yaml(bad)


def test_a_checkpoint_runs_with_the_lexicon_it_carries(untrained, monkeypatch):
    import goftar.inference.extractor as X

    model, tok = untrained()
    model.config.cue_features = True
    model.config.cue_lexicon = lexicon_without("گفت")
    seen = []
    real = X.find_cues
    monkeypatch.setattr(X, "find_cues", lambda text, lexicon=None: seen.append(lexicon) or real(text, lexicon))
    ex = X.Extractor.from_model(model, tok)
    text = "علی گفت: «این کار را می‌کنیم.»"
    ex([text])
    assert seen and all(lex is ex.lexicon for lex in seen)
    assert ex.lexicon.data == model.config.cue_lexicon
    assert not [c for c in C.find_cues(text, ex.lexicon) if c.kind == "direct"]
    assert [c for c in C.find_cues(text) if c.kind == "direct"]  # the package's lexicon does find it


def test_a_checkpoint_without_a_lexicon_runs_with_the_packages():
    assert C.checkpoint_lexicon({"cue_features": True}) is C.default_lexicon()
    with pytest.raises(ValueError, match="checkpoint config cue_lexicon.*lacks"):
        C.checkpoint_lexicon({"cue_lexicon": {"simple_verbs": ["گفت"]}})
    with pytest.raises(ValueError, match="a mapping"):
        C.checkpoint_lexicon({"cue_lexicon": ["گفت"]})


def test_training_stores_the_lexicon_it_computes_cue_tags_with(tiny_encoder, tmp_path):
    import yaml

    from goftar.training.config import TrainConfig
    from goftar.training.train import load_model

    model, _ = load_model(TrainConfig.from_dict({"model": {"encoder": str(tiny_encoder)}}))
    assert model.config.cue_lexicon == C.default_lexicon().data
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(lexicon_without("گفت"), allow_unicode=True), encoding="utf-8")
    model, tok = load_model(TrainConfig.from_dict({"model": {"encoder": str(tiny_encoder), "cue_lexicon": str(mine)}}))
    assert model.config.cue_lexicon == lexicon_without("گفت")
    saved = tmp_path / "ckpt"
    model.save_pretrained(saved)
    tok.save_pretrained(saved)
    again, _ = load_model(TrainConfig.from_dict({"model": {"init_from": str(saved)}}))
    assert again.config.cue_lexicon == lexicon_without("گفت")  # continuing keeps the checkpoint's
