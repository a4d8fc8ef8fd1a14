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


# --- scraped pages: widgets and menus split one item per line, page furniture, site excerpts ---------


def test_widgets_split_one_item_per_line_are_removed():
    raw = "政府工作报告\n2021年03月02日\n【\n字体：\n大\n中\n小\n】\n[\n推荐朋友\n]\n[字号\n大\n中\n小\n]\nA-\nA+\n正文第一段。"
    assert clean(raw) == "政府工作报告\n2021年03月02日\n\n正文第一段。"


def test_menus_one_item_per_line_are_removed_but_short_headings_stay():
    menu = "中国政府网\n省人大\n省政府\n长者模式\n|\n繁體中文\n|\n无障碍\n首页\n领导之窗\n当前位置：\n首页\n>>\n领导之窗\n>>\n政府工作报告\n"
    assert clean(menu + "各位代表：\n正文。") == "各位代表：\n正文。"
    law = "第一章  总则\n第一条 为了规范管理，制定本条例。\n目  次\n前言\n引言\n1 范围\n2 规范性引用文件"
    assert clean(law) == law


def test_newspaper_page_furniture_is_removed():
    raw = ("瑞金报 2022年01月20日 第02版：要闻\n版面导航\n上一版  下一版\n政府工作报告（摘要）\n本报记者  曾小林  整理\n"
           "各位代表：\n正文。\n责任编辑：刘晓燕\n日期：2022-01-20")
    assert clean(raw) == "政府工作报告（摘要）\n\n各位代表：\n正文。"


def test_disclosure_table_fields_go_but_the_documents_number_and_date_stay():
    raw = "索引号：113301/2022-00031\n发布机构：县政府办公室\n生成日期：2022-03-02\n主题分类：政府工作报告\n文号：\n成文日期：2021年1月5日\n文号：淳政发〔2021〕3号\n关于X的通知"
    assert clean(raw) == "成文日期：2021年1月5日\n文号：淳政发〔2021〕3号\n关于X的通知"


def test_a_sites_truncated_excerpt_goes_but_a_documents_abstract_stays():
    assert clean("内容摘要：各位代表：现在，我代表县人民政府…\n各位代表：") == "各位代表："
    assert clean("导读：1月8日，某县人代会开幕。\n正文。") == "导读：1月8日，某县人代会开幕。\n正文。"
    assert clean("摘要：本文研究高阳县毛巾产业集群。\n正文。") == "摘要：本文研究高阳县毛巾产业集群。\n正文。"


def test_publication_stamps_go_but_a_documents_own_dates_stay():
    raw = "2021-01-20 16:30\n2011年01月13日 16:40\n添加时间 2026/2/12 15:20:47  浏览次数 4034 次\n发布时间：2020/1/8 11:20:49    信息发布人：管理员\n[内容来源：http://example.org/a?id=1]\n正文。\n（2021年1月20日）\n2021年1月20日"
    assert clean(raw) == "正文。\n（2021年1月20日）\n2021年1月20日"


def test_noise_lines_are_recognised_in_either_script():
    assert clean("首頁 > 政務公開 > 規劃計劃\n閱讀：12 評論：0\n雲和縣政府工作報告") == "雲和縣政府工作報告"
