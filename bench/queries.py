"""Query sets drawn from the corpus with a fixed seed (the same queries for every engine)."""

from __future__ import annotations

import random
import re

from kb import analysis

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")

# What people type: several words, a phrase, words that must co-occur in a law or report.
REALISTIC = [
    "人民政府 职责", "行政处罚 罚款", "环境保护 污染", "劳动合同 解除", "未成年人 保护", "食品安全 监督管理",
    "土地 征收 补偿", "知识产权 侵权", "交通事故 责任", "税收 征收管理", "安全生产 事故", "消费者 权益",
    "民营企业 发展", "乡村振兴", "宗教活动场所", "少数民族 权益", "物业管理 业主", "城市管理 市容",
    "水资源 保护", "文物保护", "\"人民代表大会常务委员会\"", "\"法律责任\"", "\"不予受理\"", "\"公共利益\"",
    "\"行政复议\"", "\"依法追究刑事责任\"", "\"自公布之日起施行\"", "\"县级以上地方人民政府\"",
    "title:条例 环境", "罚款 -刑法", "森林 OR 草原",
]


def sample_queries(docs, count: int = 300, seed: int = 20261127) -> list[str]:
    """``count`` queries of 1–3 words or substrings from the corpus, plus the realistic set."""
    rng = random.Random(seed)
    texts = [d.text for d in docs if len(d.text) > 50]
    queries: list[str] = []
    while len(queries) < count:
        text = rng.choice(texts)
        kind = len(queries) % 3
        if kind == 0:  # a substring of 2-4 Chinese characters (often not a word)
            runs = _CJK_RUN.findall(text[rng.randrange(len(text)):][:400]) or _CJK_RUN.findall(text)
            run = rng.choice(runs) if runs else ""
            n = rng.randint(2, 4)
            if len(run) >= n:
                start = rng.randrange(len(run) - n + 1)
                queries.append(run[start:start + n])
        else:  # one to three jieba words of one document
            words = [w for w in analysis.words(analysis.normalize(text)) if len(w) >= 2 and _CJK_RUN.fullmatch(w)]
            if words:
                queries.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 3)))))
    return queries + REALISTIC


def sample_substrings(docs, count: int = 300, seed: int = 7) -> list[str]:
    """Random 2–6 character substrings of the normalised texts (units only: no spaces or punctuation)."""
    rng = random.Random(seed)
    texts = [analysis.normalize(d.text) for d in docs if len(d.text) > 50]
    out: list[str] = []
    while len(out) < count:
        text = rng.choice(texts)
        n = rng.randint(2, 6)
        start = rng.randrange(max(1, len(text) - n))
        sub = text[start:start + n]
        if len(sub) == n and sub.isalnum() and not sub.isascii():
            out.append(sub)
    return out
