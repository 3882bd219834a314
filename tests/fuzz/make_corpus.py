#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/.

Small realistic inputs in the shapes agencies deliver (Yanji: Han and Korean-Chinese names, ID
numbers with their real check digits, the spellings of dates and amounts found in extracts),
plus the damaged shapes the readers must survive (ragged rows, unterminated quotes, GBK text
declared as UTF-8, truncated gzip, zip entries with lying sizes, DTDs with entities...).

Run from anywhere: python3 tests/fuzz/make_corpus.py.  It rewrites the files it knows and
leaves any other file in the corpus folders alone (reproducers added by hand stay).
Deterministic: the same script writes the same bytes.
"""
import gzip
import io
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
MAX_SEED = 64 * 1024

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def idnum(first17):
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


ID_A = idnum("22240119850315001")   # 金哲, man, born 1985-03-15
ID_B = idnum("11010519491231002")   # ends in X
ID_C = idnum("22240119900101002")   # woman
ID_D = idnum("22240120000229003")   # leap day
ID_E = idnum("22240519570619334")

written = {}


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) <= MAX_SEED, (target, name, len(data))
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


def gz(data, mtime=0):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=mtime, compresslevel=6) as f:
        f.write(data)
    return buf.getvalue()


# ------------------------------------------------------------------ ID numbers
def seeds_idnum():
    t = "fuzz_idnum"
    put(t, "valid", ID_A)
    put(t, "valid_x", ID_B)
    put(t, "lower_x", ID_B.lower())
    put(t, "fullwidth_digits", "".join(chr(0xFF10 + int(c)) if c.isdigit() else "Ｘ" for c in ID_B))
    put(t, "fullwidth_small_x", ID_B[:-1] + "ｘ")
    put(t, "spaces_inside", ID_A[:6] + " " + ID_A[6:14] + " " + ID_A[14:])
    put(t, "ideographic_space", "\u3000" + ID_C + "\u3000")
    put(t, "nbsp_tab_crlf", "\u00a0\t" + ID_D + "\r\n")
    put(t, "first_generation_15", "222401850315001")
    put(t, "first_generation_15_x", "22240185031500X")
    put(t, "wrong_check", ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"))
    put(t, "bad_date_0230", "222401" + "20230230" + "0017")
    put(t, "bad_year_1700", idnum("22240117000101001"))
    put(t, "bad_region_00", idnum("00240119850315001"))
    put(t, "bad_region_99", idnum("99240119850315001"))
    put(t, "x_in_middle", ID_A[:10] + "X" + ID_A[11:])
    put(t, "length_17", ID_A[:17])
    put(t, "length_19", ID_A + "1")
    put(t, "letters", "ID:" + ID_A)
    put(t, "empty", "")
    put(t, "only_space", " \u3000 ")
    put(t, "excel_scientific", "2.22401E+17")
    put(t, "truncated_utf8", ID_A[:16].encode() + b"\xef\xbc")
    put(t, "gbk_bytes", "身份证".encode("gbk"))
    put(t, "leap_day_1900", idnum("22240119000229001"))


# ------------------------------------------------------------------ dates
def seeds_date():
    t = "fuzz_date"
    for name, s in [
        ("compact", "20230105"), ("dash", "2023-01-05"), ("dash_short", "2023-1-5"),
        ("slash", "2023/1/5"), ("dot", "2023.01.05"), ("chinese", "2023年1月5日"),
        ("with_time", "2023-01-05 08:30:00"), ("iso_t_zone", "2023-01-05T08:30:00.123+08:00"),
        ("zulu", "20230105T0830Z"), ("excel_serial", "45000"), ("excel_fraction", "45000.5"),
        ("excel_fake_leap", "60"), ("excel_61", "61"), ("leap_2000", "2000-02-29"),
        ("not_leap_1900", "1900-02-29"), ("feb_30", "2023-02-30"), ("month_13", "2023-13-01"),
        ("mixed_separators", "2023-01/05"), ("spaces", "\u3000 2023-01-05 \u00a0"),
        ("month_compact", "202301"), ("month_chinese", "2023年1月份"), ("month_dash", "2023-1"),
        ("year_9999", "9999-12-31"), ("year_0", "0000-01-01"), ("tz_no_colon", "2023-01-05 23:59:60-0530"),
        ("age_pair", "1985-03-15|2026-11-28"), ("age_leap_pair", "2000-02-29|2023-02-28"),
        ("reversed_pair", "2026-11-28|1985-03-15"), ("empty", ""), ("garbage", "N/A"),
    ]:
        put(t, name, s)


# ------------------------------------------------------------------ parameters
def seeds_params():
    t = "fuzz_params"
    with open(os.path.join(ROOT, "rules", "parameters.conf"), "rb") as f:
        real = f.read()
    put(t, "parameters_conf", real)
    minimal = (
        "division = 222401\nmin_age = 16 years\ngovernment_paid = disability, dibao\n"
        "severe_disability = 2\nemployment_window = 3 months\nabsent_after = 24 months\n"
        "flag_age = 60 years\nauthoritative = police, health, court\n"
        "funeral_expense = 1200.50 yuan\nfuneral_months = 10 months\n")
    put(t, "minimal", minimal)
    put(t, "crlf_tabs", minimal.replace("\n", "\r\n").replace(" = ", "\t=\t"))
    put(t, "wrong_unit", minimal.replace("16 years", "16 months"))
    put(t, "negative", minimal.replace("16 years", "-16 years"))
    put(t, "fraction_years", minimal.replace("16 years", "16.5 years"))
    put(t, "huge_number", minimal.replace("1200.50 yuan", "1e300 yuan"))
    put(t, "unknown_key", minimal + "max_age = 99 years\n")
    put(t, "duplicate", minimal + "min_age = 18 years\n")
    put(t, "missing", "division = 222401\n")
    put(t, "unknown_group", minimal.replace("disability, dibao", "disability,,veteran"))


# ------------------------------------------------------------------ definitions
REG_DEF = """[source]
name = reg
fact = register
files = reg_*.csv, reg_*.csv.gz
[fields]
id_number     = 公民身份号码 | idnum
name          = 姓名 | name
sex           = 性别 | code(男:male, 女:female)
birth_date    = 出生日期 | date
ethnicity     = 民族 | default(汉)
household     = 户号 | trim
division      = 行政区划代码 | trim
status        = 户籍状态 | code(正常:active, 注销:cancelled)
cancel_reason = 注销原因 | code(死亡:death, 迁出:moved_out, *:other)
"""

PAY_DEF = """[source]
name = pay
agency = 社保
fact = pension_payment
files = pay_*.csv
encoding = gbk
delimiter = ";"
[fields]
id_number = 身份证号 | idnum
month     = 月份 | month
basic     = 基础养老金 | money
total     = 合计 | default(0) | money
"""

POS_DEF = """[source]
name = pos
fact = register
files = pos.txt
header = no
delimiter = "|"
quote = "'"
[fields]
name      = 1 | name
id_number = 2 | idnum
status    = 3 | code(1:active, 2:cancelled)
division  = 4 | trim
"""

XML_DEF = """[source]
name = death_xml
agency = 民政
fact = death
evidence = civil
files = cremation_*.xml
format = xml
record = //记录
max_depth = 32
[fields]
id_number  = 人员/@证件号 | idnum
name       = 姓名 | name
death_date = 死亡日期 | date
"""

JSONL_DEF = """[source]
name = dis_jsonl
fact = disability
files = dis_*.jsonl
format = jsonl
max_record_bytes = 4096
[fields]
id_number  = sfzh | idnum
grade      = cert/grade | code(一级:1, 二级:2, 三级:3, 四级:4) | int
start_date = cert/issued | date
"""

FIXED_DEF = """[source]
name = prison_fixed
agency = 司法
fact = prison
files = prison_*.dat
format = fixed
encoding = gb18030
positions = characters
[fields]
id_number  = 1-18 | idnum
name       = 19-24 | name
start_date = 25-32 | date
end_date   = 33-40 | date
"""

XLSX_DEF = """[source]
name = dibao_xlsx
agency = 民政
fact = dibao
files = dibao_*.xlsx
format = xlsx
sheet = 名单
[fields]
id_number  = 公民身份号码 | idnum
name       = 姓名 | name
start_date = 出生日期 | date
"""


def seeds_sourcedef():
    t = "fuzz_sourcedef"
    d = os.path.join(ROOT, "connectors", "agencies")
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".conf"):
            with open(os.path.join(d, fn), "rb") as f:
                put(t, "agency_" + fn[:-5], f.read())
    for name, text in [("reg", REG_DEF), ("pay_gbk_semicolon", PAY_DEF), ("positional", POS_DEF),
                       ("xml", XML_DEF), ("jsonl", JSONL_DEF), ("fixed_chars", FIXED_DEF),
                       ("xlsx", XLSX_DEF)]:
        put(t, "def_" + name, text)
    put(t, "bom_crlf", "\ufeff" + REG_DEF.replace("\n", "\r\n"))
    put(t, "signed", REG_DEF.replace("[fields]", "manifest = reg_*.manifest\nsignature = reg_*.manifest.sig\n"
                                                  "public_key = keys/police.pem\n[fields]"))
    put(t, "bad_unknown_transform", REG_DEF.replace("| trim", "| upper"))
    put(t, "bad_unterminated_quote", REG_DEF.replace('files = reg_*.csv', 'delimiter = "\\t\nfiles = reg_*.csv'))


# ------------------------------------------------------------------ delimited text
REG_HEADER = "姓名,公民身份号码,性别,出生日期,民族,户号,行政区划代码,户籍状态,注销原因,备注"
REG_ROWS = [
    f"金哲,{ID_A},男,1985-03-15,朝鲜族,100000001,222401001001,正常,,",
    f"李美兰,{ID_B},女,19491231,汉族,100000002,222401001002,注销,死亡,",
    f"\"朴, 英姬\",{ID_C},女,1990/1/1,朝鲜族,100000003,222401001001,正常,,\"备注\"\"引号\"\"\"",
    f"崔·明浩, {ID_D} ,男,2000年2月29日,,100000004,222401002001,注销,迁往外省,\"多行\n备注\"",
]


def csv_text(rows, sep=",", nl="\n"):
    return nl.join(r.replace(",", sep) if sep != "," else r for r in rows) + nl


def seeds_csv():
    t = "fuzz_csv"
    body = csv_text([REG_HEADER] + REG_ROWS)
    put(t, "register", "\n" + body)
    put(t, "register_crlf_bom", "\n\ufeff" + body.replace("\n", "\r\n"))
    put(t, "register_gbk", b"enc=gbk\n" + body.encode("gbk"))
    put(t, "register_gb18030", b"enc=gb18030\n" + (body + "金\u3400,\U00020000\n").encode("gb18030"))
    put(t, "gbk_declared_utf8", b"enc=utf-8\n" + body.encode("gbk"))
    put(t, "semicolon_single_quote", "d=; q='\n" + body.replace(",", ";").replace('"', "'"))
    put(t, "tab", "d=tab\n" + body.replace(",", "\t"))
    put(t, "pipe_positional", "d=|\n" + f"金哲|{ID_A}|1|222401001001\n李美兰|{ID_B}|2|222401001002\n")
    put(t, "ragged_rows", "\n" + REG_HEADER + "\n金哲," + ID_A + "\n,,,,,,,,,,,,,,,,,\n\n\n")
    put(t, "unterminated_quote", "\n" + REG_HEADER + '\n"金哲,' + ID_A + ",男\n")
    put(t, "text_after_quote", '\n"a"b,"c" ,d\n')
    put(t, "nul_byte", b"\n" + REG_HEADER.encode() + b"\n\xe9\x87\x91\x00,1\n")
    put(t, "lone_cr", "\na,b\rc,d\r")
    put(t, "max_record_16", "max=16\n" + body)
    put(t, "many_fields", "\n" + ",".join(str(i) for i in range(1100)) + "\n")
    put(t, "payments", "\n发放流水号,公民身份号码,姓名,发放年月,基础养老金,发放金额\n"
                       f"FF2024121000000001,{ID_E},李淑珍,202412,143.00,\"1,144.37\"\n"
                       f"FF2025011000000002,{ID_E},李淑珍,2025年1月,¥163,164.37\n")


def seeds_gzip():
    t = "fuzz_gzip"
    body = csv_text([REG_HEADER] + REG_ROWS).encode()
    g = gz(body)
    put(t, "register.csv.gz", g)
    put(t, "two_members.csv.gz", gz(body[:100]) + gz(body[100:]))
    put(t, "truncated.csv.gz", g[: len(g) // 2])
    put(t, "header_only.csv.gz", g[:10])
    bad_crc = bytearray(g)
    bad_crc[-8] ^= 0xFF
    put(t, "bad_crc.csv.gz", bytes(bad_crc))
    bad_len = bytearray(g)
    bad_len[-1] ^= 0x01
    put(t, "bad_length.csv.gz", bytes(bad_len))
    put(t, "trailing_garbage.csv.gz", g + b"\x00\x00garbage")
    put(t, "empty_member.gz", gz(b""))
    put(t, "gzip_of_gzip.gz", gz(g))
    put(t, "magic_only", b"\x1f\x8b")
    put(t, "plain.csv", body)
    flagged = bytearray(gz(body))
    flagged[3] = 0x08 | 0x10   # FNAME | FCOMMENT, then the names
    put(t, "fname_fcomment.gz", bytes(flagged[:10]) + b"reg.csv\x00comment\x00" + bytes(flagged[10:]))
    put(t, "repetitive.csv.gz", gz(b"a,b\n" * 3000))


# ------------------------------------------------------------------ XML
XML_DOC = f"""<?xml version="1.0" encoding="UTF-8"?>
<数据 xmlns="urn:yanji:civil" xmlns:p="urn:yanji:person">
  <批次 日期="2026-11-28"/>
  <记录 序号="1">
    <人员 证件号="{ID_A}" p:类型="居民身份证"/>
    <姓名>金哲</姓名>
    <死亡日期>2026-10-01</死亡日期>
  </记录>
  <记录 序号="2">
    <人员 证件号="{ID_B}"/>
    <姓名><![CDATA[李·美兰]]></姓名>
    <死亡日期>20261002</死亡日期>
    <备注>&lt;无&gt; &amp; 其他</备注>
  </记录>
  <记录 序号="3"><姓名/><死亡日期></死亡日期></记录>
</数据>
"""

XML_SPEC = "rec=//记录 f=人员/@证件号 f=姓名 f=死亡日期 f=@序号 f=. depth=32\n"


def seeds_xml():
    t = "fuzz_xml"
    put(t, "cremation", XML_SPEC + XML_DOC)
    put(t, "cremation_gbk", XML_SPEC.encode() + XML_DOC.replace("UTF-8", "GBK").encode("gbk"))
    put(t, "gbk_override", ("enc=gbk " + XML_SPEC).encode() + XML_DOC.replace('encoding="UTF-8"', "").encode("gbk"))
    put(t, "path_from_root", "rec=数据/记录 f=姓名 f=人员/@证件号\n" + XML_DOC)
    put(t, "truncated", XML_SPEC + XML_DOC[:400])
    put(t, "entity_decl", XML_SPEC + '<?xml version="1.0"?>\n<!DOCTYPE 数据 [<!ENTITY a "aaaaaaaaaa">'
                                      '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<数据><记录><姓名>&b;</姓名></记录></数据>\n')
    put(t, "external_entity", XML_SPEC + '<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "file:///etc/passwd">\n'
                                         '<数据><记录><姓名>&xxe;</姓名></记录></数据>\n')
    put(t, "deep", "rec=//记录 f=姓名 depth=8\n" + "<a>" * 12 + "<记录><姓名>x</姓名></记录>" + "</a>" * 12)
    put(t, "max_record_32", "max=32 " + XML_SPEC + XML_DOC)
    put(t, "undeclared_prefix", XML_SPEC + "<数据><q:记录><q:姓名>金哲</q:姓名></q:记录></数据>")
    put(t, "nested_record", XML_SPEC + "<数据><记录><姓名>外</姓名><记录><姓名>内</姓名></记录></记录></数据>")
    put(t, "bad_utf8", XML_SPEC.encode() + b"<\xe6\x95\xb0><\xff\xfe/></\xe6\x95\xb0>")
    put(t, "utf16_bom", XML_SPEC.encode() + '<?xml version="1.0" encoding="UTF-16"?><数据><记录><姓名>金</姓名></记录></数据>'.encode("utf-16"))
    put(t, "pi_comment", XML_SPEC + "<?xml version='1.0'?><!-- 注释 --><?pi x?><数据><记录 序号='1'><姓名>金&#x54F2;</姓名></记录></数据>")


# ------------------------------------------------------------------ JSON Lines
def seeds_jsonl():
    t = "fuzz_jsonl"
    spec = "f=sfzh f=xm f=cert/grade f=cert/issued f=flags\n"
    lines = [
        f'{{"sfzh":"{ID_A}","xm":"金哲","cert":{{"grade":"二级","issued":"2019-05-01"}},"flags":[1,2]}}',
        f'{{"sfzh":"{ID_B}","xm":"\\u674e\\u7f8e\\u5170","cert":{{"grade":"一级","issued":20190501}},"flags":null}}',
        '{"sfzh":"\\ud842\\udfb7","xm":"\\"quoted\\"\\n","cert":{},"extra":{"a":[{"b":true}]}}',
        '  ',
        f'{{"sfzh":"{ID_C}","xm":"朴英姬","cert":{{"grade":"三级","issued":-1.5e3}},"flags":false}}',
    ]
    put(t, "disability", spec + "\n".join(lines) + "\n")
    put(t, "crlf_bom", spec + "\ufeff" + "\r\n".join(lines) + "\r\n")
    put(t, "gbk", ("enc=gbk " + spec).encode() + "\n".join(lines).encode("gbk"))
    put(t, "duplicate_key", spec + '{"sfzh":"1","sfzh":"2"}\n')
    put(t, "nul_escape", spec + '{"xm":"a\\u0000b"}\n')
    put(t, "lone_surrogate", spec + '{"xm":"\\ud800x"}\n')
    put(t, "deep", spec + '{"a":' * 70 + "1" + "}" * 70 + "\n")
    put(t, "not_object", spec + '[1,2,3]\n"text"\n{"a":1} {"b":2}\n{"a":01}\n{"a":1,}\n')
    put(t, "truncated", spec + lines[0][:40])
    put(t, "max_record_64", "max=64 " + spec + "\n".join(lines) + "\n")
    put(t, "numbers", "f=n f=m\n" + '{"n":0,"m":-0.0e+00}\n{"n":1E400,"m":123456789012345678901234567890}\n{"n":.5}\n')


# ------------------------------------------------------------------ fixed width
def seeds_fixed():
    t = "fuzz_fixed"
    rows = [f"{ID_A}金哲    2019010120261231", f"{ID_B}李美兰  20200615        ",
            f"{ID_C}朴英姬  2021-3-120230301", f"{ID_D}\u3000崔\u3000  "]
    spec_chars = "c=0+18 c=18+6 c=24+8 c=32+8 chars\n"
    put(t, "prison_chars", spec_chars + "\n".join(rows) + "\n")
    put(t, "prison_gb18030", ("enc=gb18030 " + spec_chars).encode() + "\r\n".join(rows).encode("gb18030"))
    put(t, "prison_gbk_bytes", b"c=0+18 c=18+6 c=24+8 c=32+8 enc=gbk\n" + "\n".join(rows).encode("gbk"))
    put(t, "bytes_utf8_cut", "c=0+18 c=18+4 c=22+100\n" + "\n".join(rows) + "\n")
    put(t, "short_lines", spec_chars + "123\n\n   \t\n" + ID_A + "\n")
    put(t, "nul_byte", spec_chars.encode() + ID_A.encode() + b"\x00abc\n")
    put(t, "max_record_20", "max=20 " + spec_chars + "\n".join(rows) + "\n")
    put(t, "huge_columns", "c=4294967295+4294967295 c=0+4294967295 chars\n" + "\n".join(rows) + "\n")
    put(t, "bom_crlf", spec_chars + "\ufeff" + "\r\n".join(rows) + "\r\n")
    put(t, "bad_utf8", spec_chars.encode() + b"\xe9\x87" + ID_A.encode() + b"\xff\xfe\n")


# ------------------------------------------------------------------ XLSX
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def workbook_parts(sheet_rows, shared, sheets=(("名单", False),), date1904=False, styles_extra=""):
    """The parts of a workbook as libxlsxwriter writes them (theme and docProps left out)."""
    n = len(sheets)
    ct = (XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(n))
          + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          '</Types>')
    rels = (XML_HEAD + f'<Relationships xmlns="{NS_PKG}"><Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = (XML_HEAD + f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
          + (f'<workbookPr date1904="1"/>' if date1904 else '<workbookPr defaultThemeVersion="124226"/>')
          + "<sheets>" + "".join(f'<sheet name="{name}" sheetId="{i + 1}"' + (' state="hidden"' if hidden else "") + f' r:id="rId{i + 1}"/>'
                                 for i, (name, hidden) in enumerate(sheets))
          + '</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    wbrels = (XML_HEAD + f'<Relationships xmlns="{NS_PKG}">'
              + "".join(f'<Relationship Id="rId{i + 1}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(n))
              + f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>'
              f'<Relationship Id="rId{n + 2}" Type="{NS_REL}/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>')
    styles = (XML_HEAD + f'<styleSheet xmlns="{NS_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
              '<numFmt numFmtId="165" formatCode="[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy;&quot;h&quot;"/></numFmts>'
              '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
              '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="5"><xf numFmtId="0" xfId="0"/><xf numFmtId="164" xfId="0" applyNumberFormat="1"/>'
              '<xf numFmtId="22" xfId="0"/><xf numFmtId="20" xfId="0"/><xf numFmtId="165" xfId="0"/>' + styles_extra + '</cellXfs></styleSheet>')
    sst = (XML_HEAD + f'<sst xmlns="{NS_MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">' + "".join(shared) + "</sst>")
    parts = [("[Content_Types].xml", ct), ("_rels/.rels", rels), ("xl/workbook.xml", wb),
             ("xl/_rels/workbook.xml.rels", wbrels), ("xl/styles.xml", styles), ("xl/sharedStrings.xml", sst)]
    for i in range(n):
        rows = sheet_rows if i == 0 else '<row r="1"><c r="A1" t="inlineStr"><is><t>说明</t></is></c></row>'
        parts.append((f"xl/worksheets/sheet{i + 1}.xml",
                      XML_HEAD + f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><dimension ref="A1:D3"/><sheetData>'
                      + rows + '</sheetData></worksheet>'))
    return parts


SHARED = ["<si><t>姓名</t></si>", "<si><t>公民身份号码</t></si>", "<si><t>出生日期</t></si>", "<si><t>金额</t></si>",
          "<si><t>金哲</t></si>", f"<si><t>{ID_A}</t></si>",
          '<si><r><t>李</t></r><r><rPr><b/></rPr><t xml:space="preserve">美兰 </t></r><rPh sb="0" eb="1"><t>リ</t></rPh></si>',
          f"<si><t>{ID_B}</t></si>", "<si><t>_x0041__x000D_</t></si>"]
ROWS = ('<row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
        '<row r="2" spans="1:4"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" s="1"><v>31121</v></c><c r="D2"><v>1200.5</v></c></row>'
        '<row r="3" spans="1:4"><c r="A3" t="s"><v>6</v></c><c r="B3" t="s"><v>7</v></c><c r="C3" s="1"><v>18263</v></c><c r="D3" t="b"><v>1</v></c></row>'
        '<row r="5"><c r="B5" t="inlineStr"><is><t>inline</t></is></c><c r="C5" s="2"><v>45000.75</v></c><c r="D5" s="3"><v>0.5</v></c>'
        '<c r="F5" t="e"><v>#N/A</v></c><c t="str"><f>A1</f><v>公式</v></c><c r="H5" t="d"><v>2023-01-05T00:00:00</v></c>'
        '<c r="I5" t="s"><v>8</v></c><c r="J5" s="4"><v>60</v></c></row>')


def zip_bytes(parts, method=zipfile.ZIP_DEFLATED, force_zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            data = text.encode("utf-8") if isinstance(text, str) else text
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return buf.getvalue()


def parts_text(spec, parts):
    out = spec + "\n"
    for name, text in parts:
        out += f"--- {name}\n{text}\n"
    return out


def seeds_xlsx():
    t, tp = "fuzz_xlsx", "fuzz_xlsx_parts"
    base = workbook_parts(ROWS, SHARED, sheets=(("名单", False), ("说明", False)))
    wb = zip_bytes(base)
    put(t, "dibao.xlsx", wb)
    put(t, "stored.xlsx", zip_bytes(base, zipfile.ZIP_STORED))
    put(t, "zip64.xlsx", zip_bytes(base, force_zip64=True))
    put(t, "gzipped.xlsx.gz", gz(wb))
    put(t, "truncated.xlsx", wb[: len(wb) * 2 // 3])
    hidden = workbook_parts(ROWS, SHARED, sheets=(("隐藏", True), ("名单", False)))
    put(t, "hidden_first.xlsx", zip_bytes(hidden))
    put(t, "date1904.xlsx", zip_bytes(workbook_parts(ROWS, SHARED, date1904=True)))
    # a central directory that lies about the size (a zip bomb as the reader sees it)
    bomb = bytearray(wb)
    cd = bomb.rfind(b"PK\x01\x02")
    struct.pack_into("<I", bomb, cd + 24, 0x7FFFFFFF)
    put(t, "lying_size.xlsx", bytes(bomb))
    crc = bytearray(wb)
    cd = crc.find(b"PK\x01\x02")
    struct.pack_into("<I", crc, cd + 16, 0xDEADBEEF)
    put(t, "bad_crc.xlsx", bytes(crc))
    put(t, "not_a_zip.xlsx", b"PK\x03\x04" + b"\x00" * 26)
    put(t, "dtd_in_sheet.xlsx", zip_bytes(base[:-2] + [(base[-2][0], '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>'
                                                        f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>'), base[-1]]))

    put(tp, "dibao", parts_text("sheet=名单", base))
    put(tp, "dibao_store_gz", parts_text("store gz", base))
    put(tp, "hidden_first", parts_text("", hidden))
    put(tp, "second_sheet", parts_text("sheet=说明", base))
    put(tp, "date1904", parts_text("max=64", workbook_parts(ROWS, SHARED, date1904=True)))
    put(tp, "no_shared_strings", parts_text("", [p for p in workbook_parts(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="s"><v>3</v></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1E+308</v></c></row>', []) if "sharedStrings" not in p[0]]))
    put(tp, "relative_targets", parts_text("", [(n, s.replace('Target="worksheets/', 'Target="../xl/./worksheets/')) for n, s in base]))
    put(tp, "custom_formats", parts_text("", workbook_parts(
        '<row r="1"><c r="A1" s="4"><v>45000</v></c><c r="B1" s="5"><v>45000.5</v></c><c r="C1" s="6"><v>-1</v></c><c r="D1" s="99"><v>2</v></c></row>',
        [], styles_extra='<xf numFmtId="166"/><xf numFmtId="14"/>')))


# ------------------------------------------------------------------ whole sources
def seeds_extract():
    t = "fuzz_extract"
    reg = csv_text([REG_HEADER] + REG_ROWS)
    put(t, "register_csv", REG_DEF + "%%\n" + reg)
    put(t, "register_csv_gz", (REG_DEF + "%%\n").encode() + gz(reg.encode()))
    put(t, "register_missing_column", REG_DEF + "%%\n姓名,公民身份号码\n金哲," + ID_A + "\n")
    put(t, "payments_gbk", (PAY_DEF + "%%\n").encode() +
        ("身份证号;月份;基础养老金;合计\n"
         f"{ID_E};202412;143.00;\n{ID_E};2025年1月;￥1,163.5;164.37\n{ID_A};2025-13;abc;-0.001\n").encode("gbk"))
    put(t, "positional", POS_DEF + "%%\n" + f"金哲|{ID_A}|1|222401001001\n'李|美兰'|{ID_B}|3|x\n|||\n")
    put(t, "xml", XML_DEF + "%%\n" + XML_DOC)
    put(t, "jsonl", JSONL_DEF + "%%\n" +
        f'{{"sfzh":"{ID_A}","cert":{{"grade":"二级","issued":"2019-05-01"}}}}\n'
        f'{{"sfzh":"{ID_B}","cert":{{"grade":"五级","issued":"2019-02-30"}}}}\n{{"sfzh":null}}\n')
    put(t, "fixed", (FIXED_DEF + "%%\n").encode() +
        f"{ID_A}金哲    2019010120261231\n{ID_B}李美兰  20200615        \n{ID_C}\n".encode("gb18030"))
    put(t, "xlsx", (XLSX_DEF + "%%\n").encode() + zip_bytes(workbook_parts(ROWS, SHARED)))
    with open(os.path.join(ROOT, "connectors", "agencies", "poverty_household.conf"), "rb") as f:
        pov = f.read()
    # split(): member IDs and names packed in one cell (one record per member, one row counted)
    put(t, "agency_poverty_split", pov + b"%%\n" +
        ("户编号,户主姓名,成员姓名,成员证件号码,纳入日期,退出日期\n"
         f"P001,金哲,\"金哲;李美兰\",\"{ID_A};{ID_B}\",2019-01-01,\n"
         f"P002,李美兰,李美兰、金哲,{ID_B}、{ID_A}、{ID_C},20200615,\n"
         f"P003,x,,,2020-06-15,\n").encode())
    with open(os.path.join(ROOT, "connectors", "agencies", "si_resident_payment.conf"), "rb") as f:
        pay = f.read()
    put(t, "agency_si_resident_payment", pay + b"%%\n" +
        ("发放流水号,个人编号,公民身份号码,姓名,发放年月,基础养老金,个人账户养老金,发放金额,发放日期,开户银行\n"
         f"FF2024121000000001,22240000051940,{ID_E},李淑珍,202412,143.00,1.37,144.37,20241210,中国农业银行延吉分行\n"
         f"FF2025011000000002,22240000051940,{ID_E},李淑珍,202501,163.00,1.37,,20250110,中国农业银行延吉分行\n").encode())


# ------------------------------------------------------------------ dictionaries
DICTS = {
    "csv": ["d=;", "d=tab", "d=|", "q='", "q=\"", "enc=gbk", "enc=gb18030", "enc=utf-8", "max=16", "max=1",
            ",", ";", "\t", "|", "\"", "\"\"", "\r\n", "\r", "\n", "\ufeff", "\x00", "\xff", "\x1f\x8b\x08",
            "姓名", "公民身份号码", "出生日期", "朝鲜族", "正常", "注销", "\u3000", "\u00a0"],
    "xml": ["rec=//", "rec=", "f=", "f=@", "f=.", "/@", "//", "depth=", "max=", "enc=gbk", "enc=gb18030",
            "<?xml version=\"1.0\"?>", " encoding=\"GBK\"", " encoding=\"UTF-16\"", " standalone=\"yes\"",
            "<!DOCTYPE", "<!ENTITY", " SYSTEM ", " PUBLIC ", "%", "[", "]>", "<![CDATA[", "]]>", "<!--", "-->",
            "<?", "?>", "&amp;", "&lt;", "&#x", "&#", "&e;", "xmlns=\"", "xmlns:p=\"", "p:", "/>", "</", "=\"",
            "记录", "姓名", "人员", "证件号", "\xef\xbb\xbf", "\xfe\xff", "\xff\xfe"],
    "xlsx": ["PK\x03\x04", "PK\x01\x02", "PK\x05\x06", "PK\x06\x06", "PK\x06\x07", "\x01\x00", "\xff\xff\xff\xff",
             "--- ", "--- xl/worksheets/sheet1.xml\n", "--- xl/sharedStrings.xml\n", "--- xl/styles.xml\n",
             "--- xl/workbook.xml\n", "--- xl/_rels/workbook.xml.rels\n", "--- _rels/.rels\n", "sheet=", "store", "gz",
             "<row r=\"", "<c r=\"", " t=\"s\"", " t=\"inlineStr\"", " t=\"str\"", " t=\"b\"", " t=\"e\"", " t=\"d\"",
             " s=\"1\"", "<v>", "</v>", "<is><t>", "<f>", "<si>", "<r><t>", "<rPh", "xml:space=\"preserve\"",
             "_x000D_", "<sheet name=\"", " state=\"hidden\"", " state=\"veryHidden\"", " r:id=\"rId1\"",
             "<Relationship Id=\"", " Target=\"", " Type=\"", "/officeDocument", "/worksheet", "/sharedStrings",
             "/styles", "<numFmt numFmtId=\"", " formatCode=\"", "<xf numFmtId=\"", "<cellXfs", "date1904=\"1\"",
             "yyyy-mm-dd", "h:mm:ss", "[$-F800]", "XFD1048576", "A1", "1E+308", "<!DOCTYPE"],
    "jsonl": ["f=", "max=", "enc=gbk", "{", "}", "[", "]", "\"", ":", ",", "true", "false", "null", "\\u",
              "\\ud842\\udfb7", "\\u0000", "\\\"", "\\\\", "\\/", "\\n", "-0", "1e400", "0.5", "\r\n",
              "\"sfzh\":", "\"cert\":{", "\ufeff"],
    "fixed": ["c=0+18", "c=18+6", "c=", "+", "chars", "enc=gbk", "enc=gb18030", "max=", "\u3000", "\r\n",
              "\ufeff", "\x00", "4294967295"],
    "idnum": ["X", "x", "\uff38", "\uff58", "\uff10", "\uff19", "\u3000", "\u00a0", " ", "\t", "19", "20",
              "0229", "1231", "222401", "110105", "00", "99", "71", "91"],
    "date": ["\u5e74", "\u6708", "\u65e5", "\u4efd", "T", "Z", " ", "+08:00", "-0530", ":", "-", "/", ".",
             "|", "\u3000", "\u00a0", "0229", "1231", "1900", "2000", "9999", "0000", "60", "61", "45000.5",
             ":60", "23:59", "2958465"],
    "sourcedef": ["[source]", "[fields]", "name = ", "agency = ", "fact = ", "evidence = ", "files = ",
                  "format = ", "encoding = ", "header = ", "delimiter = ", "quote = ", "record = ",
                  "sheet = ", "positions = characters", "required = yes", "max_record_bytes = ",
                  "max_depth = ", "manifest = ", "signature = ", "public_key = ", "csv", "xml", "xlsx",
                  "fixed", "jsonl", "gbk", "gb18030", "utf-8", "register", "death", "pension_payment",
                  "disability", "prison", "dibao", "police", "health", "civil", "court", "medical",
                  "id_number", "birth_date", "death_date", "start_date", "end_date", "month", "grade",
                  "| trim", "| name", "| idnum", "| date", "| month", "| money", "| int", "| code(",
                  "| default(", "*:", "\"\\t\"", "\"\\\"\"", "1-18", "%%\n", "#", "\r\n", "\ufeff"],
    "rules": ["list ", "define ", "where ", "flag ", " when ", "column ", "group by ", "test ", "  given ",
              "  expect ", "expect no ", " asof ", "%% a.rules\n", "%% parameters.conf\n", " and ", " or ",
              "not ", "any(", "none(", "count(", "distinct ", "latest(", "earliest(", "min(", "max(", "sum(",
              "greatest(", "least(", "join(", "substr(", "first_day(", "age(asof)", " of ", " in (",
              " under ", " within ", " months before asof", " active_on asof", " is none", "if ", " then ",
              " else ", "register.", "death", "prison", "resident_pension", "pension_payment", "medical_claim",
              "$min_age", "$", "==", "!=", "<=", ">=", "+", "-", "*", "/", "{", "}", "(", ")", ",", "\"",
              " yuan", " years", " days", "2026-11-28", "2000-02-29", "#", "\n  ", "\u3000"],
    "manifest": ["sha256 ", "sm3 ", "SHA256", "%%\n", "reg_20261128.csv", "reg_20261129.csv", " 52 ",
                 "a4fca8e2f19acc23b26e933045723a32fb27166e6e3efbf7fe1e690d801a924d", "#", "\r\n", "\t",
                 "=", "==", "MEUCIQ", "\x30\x45\x02\x21\x00", "\x30\x44\x02\x20", "18446744073709551615"],
    "linkconf": ["opencc_config = ", "repair = ", "repair_name = ", "blocking = ", "max_block = ",
                 "name_close = ", "prior = ", "link_probability = ", "link_margin = ", "review_probability = ",
                 "review_candidates = ", "register_death = ", "tf_min = ", "u_pairs = ", "em_iterations = ",
                 "em_tolerance = ", "em_min_pairs = ", "em_max_records = ", "seed = ", "reviewed_link = ",
                 "m_name = ", "yes", "no", "pinyin", "exact", "close", "probable", "repaired",
                 "max_fallback_block = ", "sign_of_life = ", "sign_of_life_grace = ", "m_place = ",
                 "m_sign_of_life = ", "medical_claim", "certification", "none", " days",
                 "birth_date", "birth_year", "sex", "name", "surname", "village", "township", "+", " > ",
                 " bits", "0.9", "1e-300", "nan", "inf", "0x1p-1074", ", ", "#"],
    "params": ["division = ", "min_age = ", "government_paid = ", "severe_disability = ",
               "employment_window = ", "absent_after = ", "flag_age = ", "authoritative = ",
               "funeral_expense = ", "funeral_months = ", " years", " months", " days", " yuan", " year",
               "disability", "dibao", "tekun", "poor_household", "police", "health", "court", ", ",
               "\"222401\"", ".50", "#", "\r\n", "999999999999999"],
}


def dict_line(i, value):
    out = ""
    for b in value.encode("utf-8"):
        c = chr(b)
        if c in "\\\"" or b < 0x20 or b >= 0x7f:
            out += "\\x%02X" % b
        else:
            out += c
    return f'kw{i}="{out}"\n'


def write_dicts():
    d = os.path.join(HERE, "dict")
    os.makedirs(d, exist_ok=True)
    for name, words in DICTS.items():
        with open(os.path.join(d, name + ".dict"), "w") as f:
            f.write(f"# libFuzzer dictionary for tests/fuzz targets reading {name}; written by make_corpus.py\n")
            for i, w in enumerate(words):
                f.write(dict_line(i, w))


# ------------------------------------------------------------------ manifests
MANIFEST_EXTRACT = "公民身份号码,姓名\n222401198503150017,金哲\n".encode()   # as fuzz_manifest.c writes it


def manifest_text(algo="sha256", digest=None, size=None, name="reg_20261128.csv", nl="\n"):
    import hashlib
    digest = digest or hashlib.sha256(MANIFEST_EXTRACT).hexdigest()
    size = len(MANIFEST_EXTRACT) if size is None else size
    return (f"# 公安局 delivery 20261128{nl}sha256 {'0' * 64} 10 reg_20261128.xml{nl}"
            f"{algo}  {digest}  {size}  {name}{nl}")


def seeds_manifest():
    """Unsigned seeds; the signed ones (signed_der, signed_base64) were made once with the
    throwaway key whose public half is in fuzz_manifest.c and are left alone here."""
    t = "fuzz_manifest"
    put(t, "valid", manifest_text())
    put(t, "valid_crlf_upper_hex", manifest_text(digest=__import__("hashlib").sha256(MANIFEST_EXTRACT).hexdigest().upper(), nl="\r\n"))
    put(t, "sm3", manifest_text(algo="sm3", digest="c8ea3b6bcaf761f7387eac7d87edd613d6473bf75a0d7e14732bc3a1c4bf05df"))
    put(t, "wrong_size", manifest_text(size=51))
    put(t, "wrong_digest", manifest_text(digest="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
    put(t, "unknown_algo", manifest_text(algo="md5"))
    put(t, "missing_file", "sha256 " + "0" * 64 + " 1 reg_20261129.csv\n")
    put(t, "malformed", "sha256 abc\nsha256 " + "0" * 200 + " -1 \n\t# x\n")
    put(t, "name_with_spaces_and_dots", manifest_text(name="../reg_20261128.csv "))
    put(t, "not_base64_signature", manifest_text() + "%%\n\x30\x45\x02\x21\x00garbage")
    put(t, "empty_signature", manifest_text() + "%%\n")


# ------------------------------------------------------------------ linkage parameters
def seeds_linkconf():
    t = "fuzz_linkconf"
    path = os.path.join(ROOT, "rules", "linkage.conf")
    if not os.path.exists(path):
        return
    with open(path, "r", encoding="utf-8") as f:
        real = f.read()
    put(t, "linkage_conf", real)
    put(t, "crlf_bom", "\ufeff" + real.replace("\n", "\r\n"))
    lines = [l for l in real.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    put(t, "no_comments", "\n".join(lines) + "\n")
    put(t, "missing_key", "\n".join(lines[1:]) + "\n")
    put(t, "duplicate_key", "\n".join(lines + lines[:1]) + "\n")
    import re
    put(t, "bad_numbers", "\n".join(re.sub(r"= *0\.[0-9]+", "= 1e999", l, count=1) for l in lines) + "\n")
    put(t, "cr_only", "\r".join(lines) + "\r")


# ------------------------------------------------------------------ rule files
SMALL_RULES = """# a small list, its parameters and its examples
define in_city = register.status == active and register.division under $city_division
list small "小名单"
  where in_city and age(asof) >= $min_age and not any(death)
    and count(pension_payment) < 2
  flag old when age(asof) >= 60 years
  column name = register.name
  column paid = sum(basic of pension_payment)
  group by substr(register.division, 1, 9), register.household

test "sixteen today" asof 2026-11-28
  given register birth_date = 2010-11-28, division = "222401001001"
  expect small { name = "" }

test "dead" asof 2026-11-28
  given register birth_date = 1950-01-01
  given death death_date = 2026-02-28, evidence = police
  expect no small
"""
SMALL_PARAMS = 'city_division = "222401"\nmin_age = 16 years\n'


def seeds_rules():
    t = "fuzz_rules"
    d = os.path.join(ROOT, "rules")
    files = sorted(f for f in os.listdir(d) if f.endswith(".rules")) if os.path.isdir(d) else []
    texts = {}
    for fn in files:
        with open(os.path.join(d, fn), "r", encoding="utf-8") as f:
            texts[fn] = f.read()
    params = ""
    if os.path.exists(os.path.join(d, "parameters.conf")):
        with open(os.path.join(d, "parameters.conf"), "r", encoding="utf-8") as f:
            params = f.read()
    if texts:
        whole = "".join(f"%% {fn}\n{txt}\n" for fn, txt in texts.items()) + f"%% parameters.conf\n{params}"
        if len(whole.encode()) <= MAX_SEED:
            put(t, "rule_set", whole)
        common = texts.get("common.rules", "")
        for fn, txt in texts.items():
            if fn == "common.rules":
                continue
            # only the parameters these two files use: an unused one is an error
            used = "\n".join(line for line in params.splitlines()
                             if "=" in line and not line.lstrip().startswith("#")
                             and ("$" + line.split("=")[0].strip()) in common + txt)
            put(t, "with_common_" + fn[:-6], f"%% common.rules\n{common}\n%% {fn}\n{txt}\n%% parameters.conf\n{used}\n")
    put(t, "small", f"%% small.rules\n{SMALL_RULES}%% parameters.conf\n{SMALL_PARAMS}")
    put(t, "small_alone", SMALL_RULES)
    put(t, "syntax_errors", "%% bad.rules\nlist x \"未闭合\n  where (register.active and\n  column = \n"
                            "test \"t\" asof 2026-02-30\n  expect y { a = }\n%% parameters.conf\nmin_age = 16 parsecs\n")
    put(t, "unknown_names", "%% u.rules\nlist u \"u\"\n  where any(unicorn where horn > $horns) and register.wings\n"
                            "%% parameters.conf\nhorns = 2\nunused = 3 days\n")


# ------------------------------------------------------------------ past the buffers
def seeds_big():
    """Gzip seeds that inflate past the readers' buffers (1 MiB read blocks in csv.c and lines.c,
    256 KiB transcoding chunks in bytestream.c), so that records and multibyte characters
    straddling a refill are exercised although no input is larger than max_len."""
    rows = [REG_HEADER] + REG_ROWS[:2] * 6000                          # ~1.1 MB
    body = csv_text(rows)
    put("fuzz_csv", "big_gbk_gzip", b"enc=gbk\n" + gz(body.encode("gbk")))
    put("fuzz_csv", "big_quoted_field_gzip", b"\n" + gz(("a,\"" + "金哲\n" * 200000 + "\",b\n").encode()))
    put("fuzz_gzip", "big.csv.gz", gz(body.encode()))
    line = f'{{"sfzh":"{ID_A}","xm":"金哲","cert":{{"grade":"二级","issued":"2019-05-01"}}}}'
    put("fuzz_jsonl", "big_gzip", b"f=sfzh f=xm f=cert/issued\n" + gz(("\n".join([line] * 12000) + "\n").encode()))
    put("fuzz_jsonl", "line_over_limit_gzip", b"f=sfzh\n" + gz(('{"sfzh":"' + "1" * (1100 * 1024) + '"}\n' + line + "\n").encode()))
    frow = f"{ID_A}金哲    2019010120261231"
    put("fuzz_fixed", "big_gb18030_gzip", b"c=0+18 c=18+6 c=24+8 chars enc=gb18030\n" +
        gz(("\r\n".join([frow] * 30000) + "\r\n").encode("gb18030")))
    put("fuzz_xml", "big_gzip", XML_SPEC.encode() + gz((XML_DOC.split("<记录 序号=\"1\">")[0] +
        ("<记录><人员 证件号=\"" + ID_A + "\"/><姓名>金哲</姓名></记录>\n") * 2000 + "</数据>\n").encode()))


# ------------------------------------------------------------------ regressions
def seeds_regressions():
    """Minimised reproducers of bugs the fuzzers found and that were fixed: CI replays them."""
    # connectors/xml.c kept the parser context of the first error and read it in fail_parse;
    # libxml2 raises errors from a temporary context (an entity's content is checked in one)
    # and frees it: heap-use-after-free.
    put("fuzz_xml", "regress_entity_error_ctxt_uaf", "\n<!DOCTYPE\u636e[<!ENTITY b \"&y;\">]><\u6570>&b;")
    # connectors/xml.c appended an empty value to a field without a buffer yet: memcpy to
    # NULL + 0, undefined (UBSan stops the run on any export with an empty attribute).
    put("fuzz_xml", "regress_empty_attribute_null_buffer", "rec=//记录 f=@序号 f=姓名\n<数据><记录 序号=\"\"><姓名/></记录></数据>")
    # connectors/bytestream.c wrote the 0xFF marker of an invalid GBK byte one past the caller's
    # buffer when iconv had filled it exactly (1 MiB of UTF-8, then the bad byte).
    line = b"222401198503150017" + b" " * 21 + b"\n"
    data = b"\xbd\xf0" + (line * 30000)[:1048573] + b"\xff\n"
    put("fuzz_fixed", "regress_iconv_marker_past_buffer", b"c=0+18 enc=gbk\n" + gz(data))
    put("fuzz_csv", "regress_iconv_marker_past_buffer", b"enc=gbk\n" + gz(data))
    put("fuzz_jsonl", "regress_iconv_marker_past_buffer", b"f=a enc=gb18030\n" + gz(data))
    # connectors/bytestream.c moved the rest of its 256 KiB transcoding buffer down after every
    # invalid byte: 1 MiB of bytes invalid in GBK took a minute (a gzip bomb of them, hours).
    put("fuzz_jsonl", "regress_invalid_gbk_quadratic", b"f=a enc=gbk\n" + gz(b"\xff" * (1 << 20)))
    # connectors/fixed.c filled its character-position table up to the largest column end for
    # every line: a column "19-999999" (the rest of the line, say) cost a million steps per line.
    put("fuzz_fixed", "regress_positions_per_line", b"c=0+18 c=18+999999 chars\n" +
        gz(((ID_A + "金哲\n") * 3000).encode()))
    # connectors/manifest.c took more base64 padding than decoded bytes off a signature and
    # called memcpy with a size of -1: a signature file "====" crashed the run.
    put("fuzz_manifest", "regress_signature_only_padding", manifest_text() + "%%\n====")


def main():
    seeds_idnum()
    seeds_date()
    seeds_params()
    seeds_sourcedef()
    seeds_csv()
    seeds_gzip()
    seeds_xml()
    seeds_jsonl()
    seeds_fixed()
    seeds_xlsx()
    seeds_extract()
    seeds_big()
    seeds_rules()
    seeds_manifest()
    seeds_linkconf()
    seeds_regressions()
    write_dicts()
    for t in sorted(written):
        print(f"{t}: {written[t]} seeds")


if __name__ == "__main__":
    main()
