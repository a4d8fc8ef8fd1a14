"""Normalisation and the three term streams (words, grams, chars)."""

import pytest

from kb import analysis


def test_normalize_full_width_traditional_and_case():
    assert analysis.normalize("鄉村振興ＡＢＣ２０２１年") == "乡村振兴abc2021年"


def test_normalize_is_character_by_character():
    # phrase-level conversion would turn 乾隆 and 乾燥 differently; we must not, or substrings break
    text = "乾隆年间的乾燥气候,頭髮"
    assert analysis.normalize(text) == "".join(analysis.normalize(ch) for ch in text)
    assert len(analysis.normalize(text)) == len(text)


def test_unit_runs_squeeze_whitespace_and_gap_punctuation():
    runs = analysis.unit_runs(analysis.normalize("政 府 工 作\n报告，乡村振兴"))
    assert runs == [(0, "政府工作报告"), (7, "乡村振兴")]


def test_gram_positions_are_unit_positions():
    grams = analysis.gram_positions("乡村振兴,乡村")
    assert grams["乡村"] == [0, 5]
    assert grams["振兴"] == [2]
    assert "兴乡" not in grams  # never across punctuation


def test_query_grams_cover_the_string():
    assert analysis.query_grams("中华人民共和国") == [("中华", 0), ("人民", 2), ("共和", 4), ("和国", 5)]
    assert analysis.query_grams("营企业") == [("营企", 0), ("企业", 1)]
    assert analysis.query_grams("中国,人民") == [("中国", 0), ("人民", 3)]
    assert analysis.query_grams("党") == []


def test_words_keep_domain_terms_and_places_whole():
    words = analysis.words(analysis.normalize("围绕助力全市乡村振兴,培育新乡贤,统一战线,灵石县和祁县"))
    for word in ("乡村振兴", "新乡贤", "统一战线", "灵石县", "祁县"):
        assert word in words


def test_words_drop_stop_words_and_punctuation():
    words = analysis.words("我们的工作,在全市。")
    assert "的" not in words and "," not in words and "我们" not in words
    assert "工作" in words


def test_spaced_title_segments_like_the_unspaced_one():
    assert analysis.words("政 府 工 作 报 告") == analysis.words("政府工作报告")


def test_word_positions_count_words():
    positions = analysis.word_positions(analysis.normalize("乡村振兴的民营经济,民营经济"))
    assert positions == {"乡村振兴": [0], "民营经济": [1, 2]}


@pytest.mark.parametrize("text", ["围绕助力全市乡村振兴,培育新乡贤11040名。", "鄉村振興 政 府 工 作 報 告 ABC-12",
                                  "第一条 为了规范……(二〇二一年)"])
def test_whoosh_analyzers_agree_with_the_fast_path(text):
    norm = analysis.normalize(text)
    words = {}
    for token in analysis.word_analyzer()(text, positions=True):
        words.setdefault(token.text, []).append(token.pos)
    assert words == analysis.word_positions(norm)
    grams = {}
    for token in analysis.gram_analyzer()(text, positions=True):
        grams.setdefault(token.text, []).append(token.pos)
    assert grams == analysis.gram_positions(norm)
    chars = {}
    for token in analysis.char_analyzer()(text):
        chars[token.text] = chars.get(token.text, 0) + 1
    assert chars == analysis.char_counts(norm)


def test_rjieba_agrees_with_jieba_on_our_dictionary(samples_dir):
    """The Rust port must cut our texts as jieba itself does (same dictionary, same HMM)."""
    from kb.clean import clean
    from kb.read import read_bytes

    fast = analysis.Segmenter("rjieba")
    original = analysis.Segmenter("jieba")
    total = same = 0
    for path in sorted(samples_dir.rglob("*")):
        if path.suffix not in (".txt", ".md"):
            continue
        text = analysis.normalize(clean(read_bytes(path, path.read_bytes()).text))
        for line in text.split("\n"):
            total += 1
            same += fast.cut(line) == original.cut(line)
    assert total > 100
    assert same / total >= 0.99, f"{same}/{total} lines cut identically"


def test_character_variants_cover_traditional_and_full_width_forms():
    variants = analysis.character_variants()
    assert "鄉" in variants["乡"] and "乡" in variants["乡"]
    assert "髮" in variants["发"] and "發" in variants["发"]


@pytest.mark.parametrize("engine", ["rjieba", "jieba"])
def test_lines_cut_together_are_cut_as_one_by_one(samples_dir, monkeypatch, engine):
    """A letterhead's lines are segmented in one call (cut_lines): the same tokens, line by line,
    with either engine; a line holding the mark itself is cut on its own."""
    from kb.clean import clean
    from kb.read import read_bytes

    chosen = analysis.Segmenter(engine)
    monkeypatch.setattr(analysis, "segmenter", lambda: chosen)
    monkeypatch.setattr(analysis, "cut", analysis.cut.__wrapped__)  # no cache shared between engines
    groups = [["河北省人民政府", "2020年 1月", "", "abc def", "  ", "保定市委 县委", "第一条　为了", "12.5%"]]
    for path in sorted(samples_dir.rglob("*")):
        if path.suffix in (".txt", ".md"):
            lines = analysis.normalize(clean(read_bytes(path, path.read_bytes()).text)).split("\n")
            groups += [lines[:12], lines[-6:]]
    groups.append(["统一战线", f"乡村{analysis._LINE_MARK}振兴", "祁县"])
    for lines in groups:
        assert analysis.cut_lines(lines) == [analysis.cut(line) for line in lines], lines


def test_a_second_rjieba_segmenter_cuts_as_the_first(samples_dir):
    """The first rjieba segmenter of a process takes the instance rjieba built at import; any later
    one builds its own: both hold jieba's dictionary and our words, and cut alike."""
    first, second = analysis.Segmenter("rjieba"), analysis.Segmenter("rjieba")
    assert first._jieba is not second._jieba
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(samples_dir.rglob("*.md"))[:5])
    assert first.cut(text) == second.cut(text) == analysis.segmenter().cut(text)
