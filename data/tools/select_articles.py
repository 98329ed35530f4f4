"""Choose the raw articles for corpus v2 by sector-category need and the shipped model's uncertainty.

Two stages, both deterministic (no randomness; ties broken by article id):

    # 1. candidate pool, no model: unused, non-holdout articles with speech cues, ranked by
    #    the sector categories their words promise and by their quote cues
    python data/tools/select_articles.py pool -o runs/pool.jsonl            # {"id","text"} lines, best first
    # 2. the shipped model on the pool (a few articles a second on a free CPU)
    goftar predict runs/pool.jsonl -o runs/pool.pred.jsonl --no-progress
    # 3. the selection: greedy over category need, uncertainty and quote density
    python data/tools/select_articles.py select runs/pool.pred.jsonl -o data/annotations/v2/selection.tsv

Stage 1. The pool is every raw article (``raw_articles.articles()``: Fars News, Hamshahri,
Radio Farda; ../shared/holdout excluded there) that is not in corpus v1
(``data/splits.json``), has 400–4,500 characters (``--min-chars``/``--max-chars``) and at least
``--min-cues`` speech cues (``SPEECH`` below: «گفت:», «افزود:», «با بیان اینکه» …).
Each article's *expected sector spans per category* are counted with a lexicon made
from corpus v1's own gold SECTOR spans (normalised surface → its majority category)
plus the guide's table words (raw hit counts rank the pool). The pool is ranked by
``need-weighted category hits + 0.5 · speech cues`` and cut at ``--size``; then every
other candidate (any length) with ≥ 2 expected spans of a scarce category (``--always``,
default MINING: the raw sets hold few mining articles) is appended.

Stage 2 (select). From the model's predictions on the pool, per article:
  - ``task_score``: the lowest confidence over its QUOTE spans and said_by links
    (the Label Studio task score of issue 10; 1.0 when the model finds no quote);
  - ``margin``: mean over QUOTE/SECTOR/ROLE spans and said_by/role_of/topic links of
    ``|2·score − 1|`` (low = unsure);
  - predicted SECTOR spans per category and predicted QUOTE count;
  - expected SECTOR spans per category from the lexicon, each hit weighted by that word's
    precision in v1 (the share of its occurrences in the v1 texts that annotators made a
    SECTOR; 0.3 for table-only words): the model never predicts some categories (POLITICS,
    SECURITY_DEFENSE, TECHNOLOGY), so it alone cannot steer coverage.
Category need starts from data/counts.json: for each category,
``need_train = max(0, TRAIN_AIM − train)`` and ``need_test = max(0, TEST_AIM − test)``,
with aims above the issue's 40/8 to absorb prediction error. The greedy loop takes, at
each step, the article with the highest

    gain = Σ_c w_c · min(count_c, remaining_need_c) + 2·(1 − task_score) + (1 − margin) + 0.15·min(quotes, 12)

(``count_c`` = the larger of the predicted and lexicon counts), then lowers the remaining
need by its counts. Hamshahri/Radio Farda items (title + summary) are capped at
``--max-sci2lab`` so most new text is full articles. Each chosen article gets a proposed
split: articles are assigned to test while the test need of a category they cover is
open, then test is filled to ``--test-share`` of them with articles spread over the rest of the
list, dev gets every 9th of the others up to ``--dev-share``, the rest is train.
The first ``--agree`` articles that are full Fars articles with ≥ 3 predicted quotes,
spread over the list (every k-th), become the agreement set (annotated twice, without
pre-annotation); they are taken out of the pre-annotated batches.

Stage 3 (tune, corpus v3's fresh tuning articles): ``select_articles.py tune -n 36 --seed 12 -o FILE.tsv``
draws articles uniformly at random (seeded; no model, no lexicon ranking, so the draw is representative
of the raw Fars articles, not of what the model finds hard) from every raw article that is in no corpus file
(``data/{train,dev,test}.jsonl``, ``data/annotations/*.jsonl``), has 600–4,500 characters and ≥ 2 speech
cues; ``--sci2lab`` of the draws are Hamshahri/Radio Farda items (as in dev and test). Dealt round-robin
to ``--batches`` groups named ``batch-12``, ``batch-13`` … (``--first-batch``); articles already drawn in a
``data/annotations/v*/*selection*.tsv`` are excluded too, so a second draw (``--seed 13 --first-batch 18``)
never repeats the first.

Output: a TSV with one row per article — id, group (batch-6 … batch-10, dealt round-robin
in choice order; agree),
proposed split, reason (the categories it was chosen for, uncertainty, quotes) and the
figures — and a summary of expected category counts on stderr.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from raw_articles import SPEECH, articles  # noqa: E402

CATS = ["ECONOMY", "TRADE", "BANKING_FINANCE", "ENERGY", "MINING", "INDUSTRY", "AGRICULTURE_FOOD", "TRANSPORT",
        "TECHNOLOGY", "HEALTH", "EDUCATION", "CULTURE_TOURISM", "POLITICS", "SECURITY_DEFENSE", "ENVIRONMENT",
        "SOCIAL_LABOR"]
TRAIN_AIM, TEST_AIM = 60, 14
# words of the guide's category table (and 1.1's recurring categories), added to the corpus lexicon
TABLE = {
    "ECONOMY": "اقتصاد اقتصادی سرمایه‌گذاری خصوصی‌سازی", "TRADE": "تجارت تجاری صادرات واردات تعرفه بازرگانی صادراتی وارداتی قاچاق",
    "BANKING_FINANCE": "بانکی بانک‌ها ارز بیمه بورس مالی بودجه مالیات سهام وام تسهیلات", "ENERGY": "نفت گاز برق پتروشیمی انرژی هسته‌ای نفتی",
    "MINING": "معدن معدنی معادن فولاد سیمان", "INDUSTRY": "صنعت صنعتی صنایع خودرو ماشین‌آلات خودروسازی",
    "AGRICULTURE_FOOD": "کشاورزی کشاورزان دامپروری شیلات غذایی", "TRANSPORT": "حمل و نقل ترانزیت ریلی کشتیرانی هوایی جاده‌ای بندری راه‌آهن",
    "TECHNOLOGY": "فناوری دانش‌بنیان فضایی ارتباطات اینترنت مخابرات فناوری اطلاعات", "HEALTH": "بهداشت درمان دارو پزشکی درمانی بهداشتی",
    "EDUCATION": "آموزش آموزشی دانشگاهی علمی پژوهشی مدارس", "CULTURE_TOURISM": "فرهنگی گردشگری ورزشی رسانه‌ای هنری فرهنگ ورزش سینما",
    "POLITICS": "سیاسی پارلمانی دیپلماتیک انتخابات سیاست", "SECURITY_DEFENSE": "امنیتی دفاعی نظامی تروریسم امنیت دفاع موشکی",
    "ENVIRONMENT": "محیط زیست آب اقلیم منابع طبیعی آلودگی", "SOCIAL_LABOR": "اشتغال کار رفاه مسکن جمعیت بیکاری یارانه کارگران",
}


def norm(s: str) -> str:
    s = s.replace("ي", "ی").replace("ك", "ک").replace("ة", "ه").replace("ۀ", "ه").replace("أ", "ا").replace("إ", "ا")
    s = re.sub(r"[\u200c\u200d\u200e\u200f\u200b\u00a0]", " ", s)
    return re.sub(r"\s+", " ", s)


def used_ids() -> set[str]:
    """Corpus v1's articles (the keys of data/splits.json): excluded from the pool. Only v1 counts, so a
    rerun after the v2 batches exist reproduces the same pool and selection."""
    return set(json.loads((ROOT / "data" / "splits.json").read_text(encoding="utf-8")))


class Lexicon:
    def __init__(self, pat: re.Pattern, lex: dict, prec: dict):
        self.pat, self.lex, self.prec = pat, lex, prec

    def finditer(self, text: str):
        return self.pat.finditer(text)


def lexicon() -> Lexicon:
    votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    texts = []
    for split in ("train", "dev", "test"):
        for line in (ROOT / "data" / f"{split}.jsonl").open(encoding="utf-8"):
            d = json.loads(line)
            texts.append(norm(d["text"]))
            for e in d["entities"]:
                if e["type"] == "SECTOR":
                    votes[norm(e["text"])][e["category"]] += 1
    gold = {w: sum(c.values()) for w, c in votes.items()}
    for cat, words in TABLE.items():
        for w in words.split():
            votes[norm(w)][cat] += 1
    lex = {w: c.most_common(1)[0][0] for w, c in votes.items() if len(w) >= 2}
    alts = sorted(lex, key=len, reverse=True)
    pat = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, alts)) + r")(?![\w])")
    # calibration for the selection: the share of a word's occurrences in the v1 texts that annotators
    # made a SECTOR («کار», «علمی» occur far more often than they are sectors); 0.3 for table-only words
    occ = collections.Counter(m.group(1) for t in texts for m in pat.finditer(t))
    prec = {w: min(1.0, gold[w] / occ[w]) if gold.get(w) and occ[w] else 0.3 for w in lex}
    return Lexicon(pat, lex, prec)


def lexicon_counts(text: str, lx: Lexicon, calibrated: bool = False) -> collections.Counter:
    """Lexicon hits per category; ``calibrated``: expected SECTOR spans, each hit weighted by its v1 precision."""
    if not calibrated:
        return collections.Counter(lx.lex[m.group(1)] for m in lx.finditer(norm(text)))
    out: collections.Counter = collections.Counter()
    for m in lx.finditer(norm(text)):
        out[lx.lex[m.group(1)]] += lx.prec[m.group(1)]
    return collections.Counter({c: round(v) for c, v in out.items() if round(v) > 0})


def need() -> tuple[dict, dict]:
    c = json.loads((ROOT / "data" / "counts.json").read_text(encoding="utf-8"))
    tr, te = c["train"]["sector_categories"], c["test"]["sector_categories"]
    return ({k: max(0, TRAIN_AIM - tr.get(k, 0)) for k in CATS}, {k: max(0, TEST_AIM - te.get(k, 0)) for k in CATS})


def cmd_pool(a) -> int:
    arts, used, pat = articles(), used_ids(), lexicon()
    ntr, nte = need()
    w = {k: (ntr[k] + nte[k]) / max(1, max(ntr[x] + nte[x] for x in CATS)) for k in CATS}
    rows = []
    for k in sorted(arts):
        t = arts[k]["text"]
        if k in used or not a.min_chars <= len(t) <= a.max_chars:
            continue
        cues = len(SPEECH.findall(t))
        if cues < a.min_cues:
            continue
        lc = lexicon_counts(t, pat)
        score = sum(w[c] * min(n, 10) for c, n in lc.items()) + 0.5 * min(cues, 12)
        rows.append((-score, k))
    rows.sort()
    keep = [k for _, k in rows[: a.size]]
    # scarce categories: every candidate with ≥ 2 expected spans of them, whatever its length or rank
    for k in sorted(arts):
        t = arts[k]["text"]
        if k in used or k in keep or len(t) < a.min_chars or len(SPEECH.findall(t)) < a.min_cues:
            continue
        lc = lexicon_counts(t, pat, calibrated=True)
        if any(lc.get(c, 0) >= 2 for c in a.always):
            keep.append(k)
    with open(a.output, "x" if not a.force else "w", encoding="utf-8") as f:
        for k in keep:
            f.write(json.dumps({"id": k, "text": arts[k]["text"]}, ensure_ascii=False) + "\n")
    print(f"{len(rows)} candidates, wrote the best {min(a.size, len(rows))} and {len(keep) - min(a.size, len(rows))} "
          f"for {a.always} to {a.output}", file=sys.stderr)
    return 0


def article_figures(p: dict, pat) -> dict:
    ents = {e["id"]: e for e in p["entities"]}
    quotes = [e for e in p["entities"] if e["type"] == "QUOTE"]
    said = [r for r in p["relations"] if r["type"] == "said_by"]
    conf = [e["score"] for e in quotes] + [r["score"] for r in said]
    task = min(conf) if conf else 1.0
    ms = [abs(2 * e["score"] - 1) for e in p["entities"] if e["type"] in ("QUOTE", "SECTOR", "ROLE")]
    ms += [abs(2 * r["score"] - 1) for r in p["relations"]]
    pred = collections.Counter(e["category"] for e in p["entities"] if e["type"] == "SECTOR" and e["category"] in CATS)
    lex = lexicon_counts(p["text"], pat, calibrated=True)
    cnt = {c: max(pred.get(c, 0), lex.get(c, 0)) for c in CATS}
    del ents
    return {"task_score": round(task, 4), "margin": round(sum(ms) / len(ms), 4) if ms else 1.0,
            "quotes": len(quotes), "pred": pred, "counts": cnt,
            "roles": sum(e["type"] == "ROLE" for e in p["entities"])}


def cmd_select(a) -> int:
    pat = lexicon()
    preds = [json.loads(l) for l in open(a.predictions, encoding="utf-8") if l.strip()]
    used = used_ids()
    preds = [p for p in preds if p["id"] not in used]
    fig = {p["id"]: article_figures(p, pat) for p in preds}
    ntr, nte = need()
    rem = {c: ntr[c] + nte[c] for c in CATS}
    w = {c: 1.0 + 2.0 * (rem[c] / max(1, max(rem.values()))) for c in CATS}
    chosen, reasons = [], {}
    left = sorted(fig)
    n_sci = 0
    while len(chosen) < a.n + a.agree and left:
        best, bg, bwhy = None, -1e9, None
        for k in left:
            f = fig[k]
            if not k.startswith("farsnews") and n_sci >= a.max_sci2lab:
                continue
            cov = {c: min(f["counts"][c], rem[c]) for c in CATS if rem[c] > 0 and f["counts"][c] > 0}
            g = sum(w[c] * v for c, v in cov.items()) + 2 * (1 - f["task_score"]) + (1 - f["margin"]) + 0.15 * min(f["quotes"], 12)
            if f["quotes"] == 0:
                g -= 5  # a quote-less article teaches no quote or said_by
            if g > bg:
                best, bg, bwhy = k, g, cov
        if best is None:
            break
        chosen.append(best)
        left.remove(best)
        n_sci += not best.startswith("farsnews")
        for c in CATS:
            rem[c] = max(0, rem[c] - fig[best]["counts"][c])
        top = sorted(bwhy.items(), key=lambda x: -x[1])[:3]
        reasons[best] = ("needs " + ",".join(f"{c}:{v}" for c, v in top) if top else "uncertainty/quotes only") + \
            f"; task_score={fig[best]['task_score']}; margin={fig[best]['margin']}; quotes={fig[best]['quotes']}"
    # agreement set: full Fars articles with ≥3 predicted quotes, spread over the list
    elig = [k for k in chosen if k.startswith("farsnews") and fig[k]["quotes"] >= 3]
    step = max(1, len(elig) // max(1, a.agree))
    agree = set(elig[::step][: a.agree])
    pre = [k for k in chosen if k not in agree][: a.n]
    # proposed split: test first for open test needs, then dev, rest train (in choice order)
    tneed = dict(nte)
    split = {}
    n_test = round(a.test_share * len(chosen))
    n_dev = round(a.dev_share * len(chosen))
    for k in chosen:
        f = fig[k]
        if sum(v == "test" for v in split.values()) < n_test and any(tneed[c] > 0 and f["counts"][c] > 0 for c in CATS):
            split[k] = "test"
            for c in CATS:
                tneed[c] = max(0, tneed[c] - f["counts"][c])
    # then fill test to its share with articles spread over the rest of the list (every k-th)
    rest = [x for x in chosen if x not in split]
    gap = n_test - len(split)
    if gap > 0:
        stride = len(rest) / gap
        for j in range(gap):
            split[rest[int(j * stride)]] = "test"
    for i, k in enumerate(x for x in chosen if x not in split):
        split[k] = "dev" if i % 9 == 4 and sum(v == "dev" for v in split.values()) < n_dev else "train"
    group = {k: "agree" for k in agree}
    for i, k in enumerate(pre):  # dealt round-robin, so every batch gets a share of the big and the needed articles
        group[k] = f"batch-{6 + i % 5}"
    out = open(a.output, "x" if not a.force else "w", encoding="utf-8")
    out.write("id\tgroup\tsplit\treason\ttask_score\tmargin\tquotes\texpected_sectors\n")
    for k in chosen:
        f = fig[k]
        ex = ",".join(f"{c}:{n}" for c, n in sorted(f["counts"].items()) if n)
        out.write(f"{k}\t{group[k]}\t{split[k]}\t{reasons[k]}\t{f['task_score']}\t{f['margin']}\t{f['quotes']}\t{ex}\n")
    out.close()
    # summary: expected category counts per split after annotation (current + new, counts as above)
    c = json.loads((ROOT / "data" / "counts.json").read_text(encoding="utf-8"))
    tot = {s: collections.Counter(c[s]["sector_categories"]) for s in ("train", "dev", "test")}
    for k in chosen:
        tot[split[k]].update({cc: n for cc, n in fig[k]["counts"].items() if n})
    print(f"chosen {len(chosen)} ({len(pre)} pre-annotated, {len(agree)} agreement); splits "
          f"{dict(collections.Counter(split.values()))}; quotes predicted {sum(fig[k]['quotes'] for k in chosen)}, "
          f"roles {sum(fig[k]['roles'] for k in chosen)}", file=sys.stderr)
    pr = {s: collections.Counter(c[s]["sector_categories"]) for s in ("train", "dev", "test")}
    for k in chosen:
        pr[split[k]].update(fig[k]["pred"])
    print("category\ttrain\tdev\ttest\t| model only: train\tdev\ttest   (v1 gold + expected new spans)", file=sys.stderr)
    for cc in CATS:
        print(f"{cc}\t{tot['train'][cc]}\t{tot['dev'][cc]}\t{tot['test'][cc]}\t| {pr['train'][cc]}\t{pr['dev'][cc]}\t{pr['test'][cc]}",
              file=sys.stderr)
    return 0


def corpus_ids() -> set[str]:
    """Every article in any corpus file: the splits and every annotator batch (v1, v2 and later)."""
    ids = set(used_ids())
    files = [ROOT / "data" / f"{s}.jsonl" for s in ("train", "dev", "test")]
    files += sorted((ROOT / "data" / "annotations").glob("*.jsonl"))
    for f in files:
        for line in f.open(encoding="utf-8"):
            if line.strip():
                ids.add(json.loads(line)["id"])
    for f in sorted((ROOT / "data" / "annotations").glob("v*/*selection*.tsv")):  # drawn, maybe not yet annotated
        ids.update(line.split("\t", 1)[0] for line in f.read_text(encoding="utf-8").splitlines()[1:] if line.strip())
    return ids


def cmd_tune(a) -> int:
    import random

    arts, used = articles(), corpus_ids()
    ok = [k for k in sorted(arts) if k not in used and a.min_chars <= len(arts[k]["text"]) <= a.max_chars
          and len(SPEECH.findall(arts[k]["text"])) >= a.min_cues]
    fars = [k for k in ok if k.startswith("farsnews-")]
    sci = [k for k in ok if not k.startswith("farsnews-")]
    rng = random.Random(a.seed)
    pick = rng.sample(fars, a.n - a.sci2lab) + rng.sample(sci, min(a.sci2lab, len(sci)))
    with open(a.output, "x" if not a.force else "w", encoding="utf-8") as f:
        f.write("id\tgroup\tsplit\treason\tchars\tcues\n")
        for i, k in enumerate(pick):
            t = arts[k]["text"]
            f.write(f"{k}\tbatch-{a.first_batch + i % a.batches}\tdev\ttune draw seed {a.seed}\t{len(t)}\t"
                    f"{len(SPEECH.findall(t))}\n")
    print(f"{len(fars)} Fars and {len(sci)} sci2lab candidates; drew {len(pick)} to {a.output}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pool")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--size", type=int, default=420)
    p.add_argument("--min-cues", type=int, default=2)
    p.add_argument("--min-chars", type=int, default=400)
    p.add_argument("--max-chars", type=int, default=4500, help="longer articles cost an annotator too much")
    p.add_argument("--always", nargs="*", default=["MINING"],
                   help="scarce categories: add every candidate with >= 2 expected spans of them (any length)")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    s = sub.add_parser("select")
    s.add_argument("predictions")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("-n", type=int, default=230, help="pre-annotated articles (batches 6–10)")
    s.add_argument("--agree", type=int, default=20, help="agreement articles (agree-A/agree-B)")
    s.add_argument("--max-sci2lab", type=int, default=25)
    s.add_argument("--test-share", type=float, default=0.13)
    s.add_argument("--dev-share", type=float, default=0.11)
    s.add_argument("--force", action="store_true", help="overwrite the output file")
    t = sub.add_parser("tune", help="a seeded uniform draw of unused articles (fresh tuning articles)")
    t.add_argument("-o", "--output", required=True)
    t.add_argument("-n", type=int, default=36)
    t.add_argument("--seed", type=int, default=12)
    t.add_argument("--sci2lab", type=int, default=2)
    t.add_argument("--batches", type=int, default=6)
    t.add_argument("--first-batch", type=int, default=12)
    t.add_argument("--min-cues", type=int, default=2)
    t.add_argument("--min-chars", type=int, default=600)
    t.add_argument("--max-chars", type=int, default=4500)
    t.add_argument("--force", action="store_true", help="overwrite the output file")
    a = ap.parse_args(argv)
    return {"pool": cmd_pool, "select": cmd_select, "tune": cmd_tune}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
