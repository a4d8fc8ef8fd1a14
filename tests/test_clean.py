"""Cleaning: NFKC, scrape noise, line repair."""

from kb.clean import NoisePatterns, clean, wrap_width
from kb.config import DATA_DIR

SEED_HEAD = """预览加载中,请您耐心等待几秒...
1/8
2/8

在线预览结束,喜欢就下载吧,查找使用更方便

如果您无法下载资料,请参考说明:

1、部分资料下载需要金币,请确保您的账户上有足够的金币

2、已购买过的文档,再次下载不重复扣费

凝心聚力——2021年晋中统战工作综述2021年,恰逢党的百年华诞。"""


def test_noise_patterns_come_from_the_data_file():
    patterns = NoisePatterns.load(DATA_DIR / "noise.txt")
    assert patterns.lines and patterns.inline


def test_document_sharing_site_noise_is_removed():
    text = clean(SEED_HEAD)
    assert text.startswith("凝心聚力")
    for noise in ("预览加载中", "1/8", "在线预览结束", "金币", "已购买过的文档"):
        assert noise not in text


def test_web_header_block_and_crumbs_are_removed():
    raw = ("时间：2023-03-30 作者：办公室 来源：晋中统战网 阅读：1234次 评论：0\n"
           "首页 > 工作动态 > 正文\n当前位置：首页 » 县区动态\n晋中统战网 | 首页  统战要闻  县区动态  民族宗教\n"
           "关于民族团结进步创建工作情况的报告\n正文第一段。")
    assert clean(raw) == "关于民族团结进步创建工作情况的报告\n正文第一段。"


def test_ordinary_lines_with_a_colon_stay():
    raw = "数据来源：市统计局\n时间：2021年全年"
    assert clean(raw) == "数据来源：市统计局\n时间：2021年全年"


def test_the_text_keeps_its_own_characters():
    """Full-width marks and traditional characters are what the document says: shown as written."""
    assert clean("ＡＢＣ，２０２１年（一）") == "ＡＢＣ，２０２１年（一）"
    assert clean("2019年，县委统战部（摘要）") == "2019年，县委统战部（摘要）"
    assert clean("海峽兩岸暨港澳青年文化交流活動") == "海峽兩岸暨港澳青年文化交流活動"


def test_entities_and_odd_spaces_from_web_pages_are_decoded():
    assert clean("各位代表：&nbsp;&nbsp;现在，我代表&ldquo;县人民政府&rdquo;") == "各位代表：  现在，我代表“县人民政府”"
    assert clean("A&B 公司 &foo 不是实体") == "A&B 公司 &foo 不是实体"
    assert clean("x&#0;y") == "x&#0;y"


def test_noise_lines_are_recognised_in_either_width():
    assert clean("阅读：175　评论：0\n正文。") == "正文。"
    assert clean("１／８\n正文。") == "正文。"


def test_literal_backslash_breaks_become_line_breaks():
    assert clean("第一段。\\r\\n第二段。") == "第一段。\n第二段。"


def test_hard_wrapped_lines_join_but_headings_and_items_stay():
    raw = (
        "关于做好统战工作的报告\n"
        "各县委统战部:为深入贯彻落实中央和省委关于统战工作的\n"
        "决策部署,进一步加强新时代统一战线工作,现就有关事项\n"
        "通知如下。\n"
        "一、总体要求\n"
        "坚持以习近平新时代中国特色社会主义思想为指导,全面贯\n"
        "彻党的十九大精神,巩固和发展最广泛的爱国统一战线。\n"
        "二、主要任务\n"
    )
    lines = clean(raw).split("\n")
    assert lines == [
        "关于做好统战工作的报告",
        "各县委统战部:为深入贯彻落实中央和省委关于统战工作的决策部署,进一步加强新时代统一战线工作,现就有关事项通知如下。",
        "一、总体要求",
        "坚持以习近平新时代中国特色社会主义思想为指导,全面贯彻党的十九大精神,巩固和发展最广泛的爱国统一战线。",
        "二、主要任务",
    ]


def test_paragraph_per_line_text_is_not_joined():
    lines = ["一、概况", "第一段很长很长很长很长很长很长很长很长很长的内容没有句号", "二、做法",
             "第二段内容比较长比较长比较长比较长比较长比较长比较长比较长比较长比较长比较长。", "短", "三、问题"]
    assert wrap_width(lines) is None
    assert clean("\n".join(lines)).split("\n") == lines


def test_control_characters_go():
    assert clean("统战\x00工作\x07") == "统战工作"
