/*
 * emit.c — one emitter per agency source.
 *
 * Each emit_<source>() writes one person's rows of that source the way the
 * agency would (its column names, codes, date style) and adds the canonical
 * facts of every clean row to g->bundle, exactly as written: the truth sees
 * the extracts, nothing else.  The file format of each source (CSV, XML,
 * XLSX, fixed width, JSON Lines; encoding; gzip) is its SinkSpec below; the
 * emitters hand over values, never formatted text.
 */
#include "synth.h"
#include "truth.h"

#include <string.h>

#define DATE(c, st) .date_col = (c), .date_kind = DK_DATE, .date_style = (st), .month_style = MS_YM6
#define MONTH(c, ms) .date_col = (c), .date_kind = DK_MONTH, .date_style = DS_YMD8, .month_style = (ms)

static const char *const DIBAO_NOTES[] = {
	"延吉市城乡最低生活保障对象花名册（按家庭成员逐人填报）",
	"1. 身份证号为文本格式，18位；保障证号同户相同。",
	"2. 审批日期、退出日期为日期格式；在保对象退出日期为空。",
	"3. 月保障金额单位：元。数据来源：吉林省社会救助信息系统。",
	NULL,
};

static const char *const TEKUN_NOTES[] = {
	"延吉市特困人员救助供养名册",
	"1. 供养方式：集中供养 / 分散供养；集中供养者填写供养机构。",
	"2. 认定日期、终止日期为日期格式；仍在供养者终止日期为空。",
	NULL,
};

#define COURT_HEAD \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<fy:裁判文书数据 xmlns:fy=\"http://www.court.gov.cn/schema/cpws/2.1\" 法院代码=\"J2401\"" \
	" 法院名称=\"吉林省延吉市人民法院\" 导出日期=\"${D}\">\n  <fy:文书集>\n"
#define COURT_TAIL "  </fy:文书集>\n  <fy:汇总 文书数=\"${R}\"/>\n</fy:裁判文书数据>\n"

/* Each source as its agency delivers it.  Column names are the header of
 * CSV and XLSX files; XML and JSON Lines place the columns by template, fixed
 * width by position.  connectors/agencies/<stem>.conf reads each of them. */
const SinkSpec SOURCES[SRC_COUNT] = {
	/* 公安: the nightly register snapshot from a Windows tool: UTF-8 with BOM, CRLF */
	[SRC_POLICE_REGISTER] = { .stem = "police_register", .agency = "公安", .ext = "csv", .ncols = 15,
		.cols = { "公民身份号码", "姓名", "性别", "民族", "出生日期", "户号", "与户主关系", "行政区划代码",
			  "乡镇（街道）", "社区（村）", "住址", "联系电话", "户籍状态", "注销原因", "注销日期" },
		.id_col = 0, DATE(4, DS_YMD8),
		.format = SF_CSV, .delim = ',', .bom = true, .crlf = true },
	/* 卫健: death certificates as XML with a default namespace; the certificate
	 * number and issue date are attributes, the deceased a nested element */
	[SRC_HEALTH_DEATH] = { .stem = "health_death_cert", .agency = "卫健", .ext = "xml", .ncols = 11,
		.cols = { "证明书编号", "死者姓名", "性别", "民族", "有效身份证件号码", "出生日期", "死亡日期",
			  "死亡地点", "根本死亡原因", "签发日期", "签发单位" },
		.id_col = 4, DATE(6, DS_ISO),
		.format = SF_XML,
		.head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<死亡医学证明书数据集 xmlns=\"urn:cn:gov:nhc:swyxzm:2.0\" 行政区划代码=\"222401\" 数据截止日期=\"${D}\">\n",
		.tmpl = "  <死亡医学证明书 证明书编号=\"${0}\" 签发日期=\"${9}\">\n"
			"    <死者 性别=\"${2}\" 民族=\"${3}\">\n"
			"      <姓名>${1}</姓名>\n"
			"      <有效身份证件 类别=\"居民身份证\">${4}</有效身份证件>\n"
			"      <出生日期>${5}</出生日期>\n"
			"    </死者>\n"
			"    <死亡信息>\n"
			"      <死亡日期>${6}</死亡日期>\n"
			"      <死亡地点>${7}</死亡地点>\n"
			"      <根本死亡原因>${8}</根本死亡原因>\n"
			"    </死亡信息>\n"
			"    <签发单位>${10}</签发单位>\n"
			"  </死亡医学证明书>\n",
		.tail = "</死亡医学证明书数据集>\n" },
	/* 民政 殡葬管理系统: tab-separated GBK text, CRLF */
	[SRC_CIVIL_CREMATION] = { .stem = "civil_cremation", .agency = "民政", .ext = "txt", .ncols = 10,
		.cols = { "火化证明编号", "逝者姓名", "性别", "年龄", "身份证号码", "死亡日期", "火化日期",
			  "生前住址", "殡仪馆", "承办人" },
		.id_col = 4, DATE(5, DS_SLASH),
		.format = SF_CSV, .encoding = SE_GBK, .enc_col = 1, .delim = '\t', .crlf = true },
	/* 民政 低保 and 特困: Excel workbooks, a notes sheet first, then the roster */
	[SRC_CIVIL_DIBAO] = { .stem = "civil_dibao", .agency = "民政", .ext = "xlsx", .ncols = 12,
		.cols = { "保障证号", "户主姓名", "户主身份证号", "成员姓名", "成员身份证号", "与户主关系",
			  "保障类型", "乡镇（街道）", "社区（村）", "月保障金额", "审批日期", "退出日期" },
		.id_col = 4, DATE(10, DS_ISO),
		.format = SF_XLSX, .sheet = "低保对象花名册", .date_numfmt = "yyyy-mm-dd", .notes = DIBAO_NOTES },
	[SRC_CIVIL_TEKUN] = { .stem = "civil_tekun", .agency = "民政", .ext = "xlsx", .ncols = 10,
		.cols = { "姓名", "性别", "身份证号码", "供养方式", "认定日期", "终止日期", "乡镇（街道）",
			  "供养机构", "基本生活标准（元/月）", "认定依据" },
		.id_col = 2, DATE(4, DS_ISO),
		.format = SF_XLSX, .sheet = "特困供养人员", .date_numfmt = "yyyy\"年\"m\"月\"d\"日\"",
		.notes = TEKUN_NOTES },
	/* 法院: judgements as XML in the court's prefixed namespace */
	[SRC_COURT_DEATH] = { .stem = "court_death_declaration", .agency = "法院", .ext = "xml", .ncols = 8,
		.cols = { "案号", "被申请人姓名", "性别", "身份证号码", "出生日期", "下落不明起始日期", "判决日期",
			  "申请人" },
		.id_col = 3, DATE(6, DS_CN),
		.format = SF_XML, .head = COURT_HEAD, .tail = COURT_TAIL,
		.tmpl = "    <fy:文书 案号=\"${0}\" 文书类型=\"民事判决书\" 案由=\"申请宣告公民死亡\">\n"
			"      <fy:被申请人>\n"
			"        <fy:姓名>${1}</fy:姓名>\n"
			"        <fy:性别>${2}</fy:性别>\n"
			"        <fy:公民身份号码>${3}</fy:公民身份号码>\n"
			"        <fy:出生日期>${4}</fy:出生日期>\n"
			"        <fy:下落不明起始日期>${5}</fy:下落不明起始日期>\n"
			"      </fy:被申请人>\n"
			"      <fy:申请人 与被申请人关系=\"近亲属\"><fy:姓名>${7}</fy:姓名></fy:申请人>\n"
			"      <fy:裁判日期>${6}</fy:裁判日期>\n"
			"    </fy:文书>\n" },
	[SRC_COURT_CRIMINAL] = { .stem = "court_criminal_judgement", .agency = "法院", .ext = "xml", .ncols = 11,
		.cols = { "案号", "被告人姓名", "性别", "身份证号码", "罪名", "刑罚", "刑期", "执行方式",
			  "刑期起始日期", "刑期截止日期", "判决日期" },
		.id_col = 3, DATE(8, DS_ISO),
		.format = SF_XML, .head = COURT_HEAD, .tail = COURT_TAIL,
		.tmpl = "    <fy:文书 案号=\"${0}\" 文书类型=\"刑事判决书\">\n"
			"      <fy:被告人 性别=\"${2}\">\n"
			"        <fy:姓名>${1}</fy:姓名>\n"
			"        <fy:公民身份号码>${3}</fy:公民身份号码>\n"
			"      </fy:被告人>\n"
			"      <fy:判决结果>\n"
			"        <fy:罪名>${4}</fy:罪名>\n"
			"        <fy:刑罚>${5}</fy:刑罚>\n"
			"        <fy:刑期 起始日期=\"${8}\" 截止日期=\"${9}\">${6}</fy:刑期>\n"
			"        <fy:执行方式>${7}</fy:执行方式>\n"
			"      </fy:判决结果>\n"
			"      <fy:裁判日期>${10}</fy:裁判日期>\n"
			"    </fy:文书>\n" },
	/* 司法: a legacy roster, fixed width in characters, GB18030, CRLF */
	[SRC_JUSTICE_CORRECTIONS] = { .stem = "justice_corrections", .agency = "司法", .ext = "txt", .ncols = 10,
		.cols = { "姓名", "性别", "身份证号", "人员类别", "罪名", "原判刑期", "入监（矫正）日期",
			  "刑满（解矫）日期", "当前状态", "执行机关" },
		.id_col = 2, DATE(6, DS_YMD8),
		.format = SF_FIXED, .encoding = SE_GB18030, .enc_col = 0, .crlf = true, .chars = true,
		.width = { 10, 2, 18, 8, 20, 10, 8, 8, 4, 12 } },
	/* 医保: insured persons pipe-separated; claims and in-hospital deaths as
	 * JSON Lines (claims with the national platform's field names, gzip) */
	[SRC_MEDICAL_INSURED] = { .stem = "medical_insured", .agency = "医保", .ext = "txt", .ncols = 10,
		.cols = { "个人编号", "姓名", "性别", "公民身份号码", "单位名称", "人员类别", "险种类型", "参保状态",
			  "参保日期", "终止日期" },
		.id_col = 3, DATE(8, DS_YMD8),
		.format = SF_CSV, .delim = '|' },
	[SRC_MEDICAL_CLAIMS] = { .stem = "medical_claims", .agency = "医保", .ext = "jsonl", .ncols = 11,
		.cols = { "结算流水号", "个人编号", "公民身份号码", "姓名", "性别", "医疗类别", "定点医药机构名称",
			  "结算日期", "医疗费总额", "统筹基金支付", "个人负担" },
		.id_col = 2, DATE(7, DS_ISO),
		.format = SF_JSONL, .gzip = true,
		.tmpl = "{\"setl_id\":${0},\"psn_no\":${1},\"psn_cert_type\":\"01\",\"certno\":${2},"
			"\"psn_name\":${3},\"gend\":${4},\"med_type\":${5},\"fixmedins_name\":${6},"
			"\"setl_time\":${7},\"medfee_sumamt\":${8},\"fund_pay_sumamt\":${9},\"psn_pay\":${10}}" },
	[SRC_MEDICAL_DEATH] = { .stem = "medical_inpatient_death", .agency = "医保", .ext = "jsonl", .ncols = 9,
		.cols = { "住院登记号", "公民身份号码", "姓名", "性别", "入院日期", "死亡日期", "离院方式",
			  "定点医疗机构名称", "结算日期" },
		.id_col = 1, DATE(5, DS_ISO),
		.format = SF_JSONL,
		.tmpl = "{\"住院登记号\":${0},\"患者\":{\"证件类型\":\"居民身份证\",\"证件号码\":${1},\"姓名\":${2},"
			"\"性别\":${3}},\"住院\":{\"入院日期\":${4},\"离院方式\":${6},\"死亡日期\":${5}},"
			"\"定点医疗机构\":{\"名称\":${7}},\"结算日期\":${8}}" },
	/* 残联: Excel as Excel writes it (a shared-string table; up to a million
	 * persons, beyond that streamed), built-in date format 14 */
	[SRC_DISABILITY] = { .stem = "disability_cert", .agency = "残联", .ext = "xlsx", .ncols = 9,
		.cols = { "残疾人证号", "姓名", "性别", "身份证号", "残疾类别", "残疾等级", "发证日期", "有效期至",
			  "户籍地址" },
		.id_col = 3, DATE(6, DS_ISO),
		.format = SF_XLSX, .sheet = "持证残疾人", .date_numfmt_index = 14, .shared_upto = 1000000 },
	[SRC_POVERTY] = { .stem = "poverty_household", .agency = "乡村振兴", .ext = "csv", .ncols = 11,
		.cols = { "户编号", "户主姓名", "户主证件号码", "成员姓名", "成员证件号码", "与户主关系", "户类型",
			  "乡镇", "行政村", "纳入日期", "退出日期" },
		.id_col = 4, DATE(9, DS_ISO),
		.format = SF_CSV, .delim = ',' },
	/* 教育: semicolons, every field quoted */
	[SRC_EDUCATION] = { .stem = "education_student", .agency = "教育", .ext = "csv", .ncols = 10,
		.cols = { "全国学籍号", "姓名", "性别", "身份证号", "学校名称", "学段", "年级", "入学日期",
			  "毕业（离校）日期", "学籍状态" },
		.id_col = 3, DATE(7, DS_ISO),
		.format = SF_CSV, .delim = ';', .quote_all = true },
	/* 公积金: the bank-style fixed-width file, positions in bytes, UTF-8 */
	[SRC_PROVIDENT] = { .stem = "provident_fund", .agency = "公积金", .ext = "dat", .ncols = 10,
		.cols = { "单位账号", "单位名称", "个人账号", "姓名", "证件号码", "缴存年月", "缴存基数",
			  "单位月缴存额", "个人月缴存额", "月缴存额合计" },
		.id_col = 4, MONTH(5, MS_YM6),
		.format = SF_FIXED, .width = { 12, 60, 14, 30, 18, 6, 12, 10, 10, 10 } },
	[SRC_INDUSTRY_ROSTER] = { .stem = "industry_roster", .agency = "工信", .ext = "xlsx", .ncols = 9,
		.cols = { "企业名称", "统一社会信用代码", "所属行业", "职工姓名", "身份证号码", "岗位", "用工形式",
			  "入职日期", "离职日期" },
		.id_col = 4, DATE(7, DS_ISO),
		.format = SF_XLSX, .sheet = "企业职工花名册", .date_numfmt = "yyyy/m/d" },
	/* 税务: GBK CSV, CRLF, gzip */
	[SRC_TAX] = { .stem = "tax_collection", .agency = "税务", .ext = "csv", .ncols = 11,
		.cols = { "电子税票号码", "缴费人姓名", "身份证件号码", "费种", "缴费类型", "缴费档次", "实缴金额",
			  "费款所属期", "入库日期", "乡镇（街道）", "征收机关" },
		.id_col = 2, DATE(8, DS_ISO),
		.format = SF_CSV, .encoding = SE_GBK, .enc_col = 4, .gzip = true, .delim = ',', .crlf = true },
	/* 社保: UTF-8 CSV; payments gzip; the employee pension header-less */
	[SRC_SI_RESIDENT] = { .stem = "si_resident_enrolment", .agency = "社保", .ext = "csv", .ncols = 17,
		.cols = { "个人编号", "姓名", "性别", "公民身份号码", "出生日期", "参保日期", "参保状态",
			  "待遇开始年月", "月养老金", "基础养老金", "个人账户养老金", "缴费档次",
			  "乡镇（街道）代码", "乡镇（街道）名称", "村（社区）名称", "状态变更日期", "变更原因" },
		.id_col = 3, DATE(5, DS_YMD8),
		.format = SF_CSV, .delim = ',' },
	[SRC_SI_PAYMENT] = { .stem = "si_resident_payment", .agency = "社保", .ext = "csv", .ncols = 10,
		.cols = { "发放流水号", "个人编号", "公民身份号码", "姓名", "发放年月", "基础养老金",
			  "个人账户养老金", "发放金额", "发放日期", "开户银行" },
		.id_col = 2, MONTH(4, MS_YM6),
		.format = SF_CSV, .delim = ',', .gzip = true },
	[SRC_SI_EMPLOYEE] = { .stem = "si_employee_pension", .agency = "社保", .ext = "csv", .ncols = 10,
		.cols = { "个人编号", "公民身份号码", "姓名", "性别", "单位编号", "单位名称", "参保日期", "参保状态",
			  "人员类别", "终止日期" },
		.id_col = 1, DATE(6, DS_YMD8),
		.format = SF_CSV, .delim = ',', .no_header = true },
	[SRC_SI_INSTITUTION] = { .stem = "si_institution_pension", .agency = "社保", .ext = "csv", .ncols = 11,
		.cols = { "个人编号", "公民身份号码", "姓名", "性别", "单位名称", "单位类型", "参加工作日期",
			  "参保日期", "参保状态", "人员类别", "终止日期" },
		.id_col = 1, DATE(7, DS_YMD8),
		.format = SF_CSV, .delim = ',' },
	[SRC_SI_CERTIFICATION] = { .stem = "si_certification", .agency = "社保", .ext = "csv", .ncols = 7,
		.cols = { "认证流水号", "公民身份号码", "姓名", "认证日期", "认证方式", "认证结果", "认证机构" },
		.id_col = 1, DATE(3, DS_ISO),
		.format = SF_CSV, .delim = ',' },
	[SRC_REF_DIVISIONS] = { .stem = "ref_divisions", .agency = "数据局", .ext = "csv", .ncols = 4,
		.cols = { "代码", "名称", "级别", "上级代码" },
		.id_col = -1, .date_col = -1, .date_kind = DK_NONE,
		.format = SF_CSV, .delim = ',' },
};

/* ---------------- lookup tables ---------------- */

static const char *const INSTITUTIONS[] = {
	"延吉市人民政府办公室", "延吉市教育局", "延吉市第一高级中学", "延边大学", "延边大学附属医院",
	"延吉市医院", "延吉市公安局", "延吉市人民法院", "延边州财政局", "延吉市河南街道办事处",
	"延吉市中医医院", "延吉市实验小学", "延吉市第五中学", "延边广播电视台", "延吉市疾病预防控制中心",
	"延吉市图书馆", "延吉市自然资源局", "延吉市人民检察院", "延吉市北山街道办事处", "延边州人民医院",
	"延吉市住房和城乡建设局", "延吉市社会保险事业管理局", "延吉市民政局", "延吉市朝阳川镇人民政府",
	"延边第一中学", "延边第二中学", "延吉市妇幼保健院", "延吉市农业农村局", "延吉市文化广电和旅游局",
	"延吉市卫生健康局", "延吉市依兰镇中心小学", "延吉市市场监督管理局",
};
#define N_INST (sizeof INSTITUTIONS / sizeof INSTITUTIONS[0])

static const char *const ENTERPRISES[] = {
	"延边白山纸业有限公司", "延吉卷烟厂有限责任公司", "延边啤酒有限公司", "延吉市阿里郎食品有限公司",
	"延边长白药业股份有限公司", "延吉市城市建设投资集团有限公司", "延边恒通燃气有限公司",
	"延吉百货大楼有限公司", "延边长白山饮品有限公司", "延吉市公交集团有限公司",
	"延边农村商业银行股份有限公司", "延吉市水务集团有限公司", "延边国信建设有限公司",
	"延吉市金达莱民俗文化有限公司", "延边东盛米业有限公司", "延吉市安居物业服务有限公司",
	"延边天池工贸有限公司", "延吉市顺达物流有限公司", "延边中韩科技产业园有限公司",
	"延吉市海兰江汽车销售有限公司", "延边华信电子有限公司", "延吉市新华书店有限公司",
	"延边黄牛肉业有限公司", "延吉市冷面餐饮管理有限公司", "延边龙腾建筑工程有限公司",
	"延吉市晨光印刷有限公司", "延边人参制品有限公司", "延吉市布尔哈通酒店管理有限公司",
	"延边大学出版社有限公司", "延吉市天宇机械制造有限公司", "延边万达服装有限公司",
	"延吉市光明乳业有限公司",
};
#define N_ENT (sizeof ENTERPRISES / sizeof ENTERPRISES[0])

static const char *const INDUSTRIES[] = {
	"造纸和纸制品业", "烟草制品业", "酒、饮料和精制茶制造业", "农副食品加工业", "医药制造业",
	"建筑业", "燃气生产和供应业", "零售业", "酒、饮料和精制茶制造业", "道路运输业",
};

static const char *const HOSPITALS[] = {
	"延边大学附属医院", "延吉市医院", "延吉市中医医院", "延边州第二人民医院", "延边州肿瘤医院",
	"延吉市妇幼保健院", "延吉市北山街道社区卫生服务中心", "延吉市河南街道社区卫生服务中心",
	"延吉市依兰镇卫生院", "延吉市朝阳川镇卫生院", "延吉市益民大药房连锁有限公司", "延边康乐大药房",
};
#define N_HOSP (sizeof HOSPITALS / sizeof HOSPITALS[0])

static const char *const CRIMES[] = {
	"盗窃罪", "诈骗罪", "故意伤害罪", "危险驾驶罪", "交通肇事罪", "贩卖毒品罪", "寻衅滋事罪",
	"抢劫罪", "非法吸收公众存款罪", "合同诈骗罪", "职务侵占罪", "开设赌场罪", "盗窃罪,诈骗罪",
	"故意伤害罪,寻衅滋事罪", "帮助信息网络犯罪活动罪", "掩饰、隐瞒犯罪所得罪",
};
#define N_CRIMES (sizeof CRIMES / sizeof CRIMES[0])

static const char *const SCHOOLS[5][4] = {
	{ "延边第一中学", "延边第二中学", "延吉市第一高级中学", "延吉市第二高级中学" },
	{ "延吉市职业高级中学", "延边国际合作学校", "延吉市第一职业中学", "延边农业学校" },
	{ "延边大学", "吉林大学", "东北师范大学", "长春工业大学" },
	{ "延边职业技术学院", "长春职业技术学院", "吉林交通职业技术学院", "吉林工业职业技术学院" },
	{ "延边大学", "吉林大学", "东北师范大学", "北华大学" },
};
static const char *const STAGES[5] = { "普通高中", "中等职业教育", "本科", "高职（专科）", "研究生" };

static const char *const DEATH_CAUSES[] = {
	"I21.9 急性心肌梗死", "I63.9 脑梗死", "C34.9 支气管或肺恶性肿瘤", "J44.1 慢性阻塞性肺病伴急性加重",
	"C16.9 胃恶性肿瘤", "C22.0 肝细胞癌", "I61.9 脑内出血", "E14.9 糖尿病", "K74.6 肝硬化",
	"V89.2 机动车交通事故", "I50.9 心力衰竭", "J18.9 肺炎",
};

static const char *const RELATIONS[] = {
	"户主", "配偶", "子", "女", "父亲", "母亲", "儿媳", "女婿", "孙子", "孙女", "其他",
};

static const char *const DISABILITY_KINDS[7] = { "视力", "听力", "言语", "肢体", "智力", "精神", "多重" };
static const char *const GRADES_CN[5] = { "", "一级", "二级", "三级", "四级" };
static const char *const RP_STATUS_CN[5] = { "", "参保缴费", "正常待遇", "暂停待遇", "终止参保" };
static const char *const RP_REASON_CN[6] = {
	"未按规定参加待遇领取资格认证", "服刑", "死亡", "转入职工基本养老保险", "户籍迁出", "本人申请",
};
static const char *const BANKS[] = {
	"中国农业银行延吉分行", "中国邮政储蓄银行延吉市支行", "延边农村商业银行", "中国工商银行延吉分行",
	"中国建设银行延吉分行",
};

/* ---------------- helpers ---------------- */

static const char *sex_cn(const Person *p) { return p->sex == 1 ? "男" : "女"; }
static const char *sex_code(const Person *p) { return p->sex == 1 ? "1" : "2"; }

static void person_name(const Person *p, char *buf)
{
	names_full(buf, p->surname, p->given);
}

/* The person's name as a secondary agency spells it: an agency's system
 * stores a name once, so the same agency spells a person the same way in
 * every row (the variant draw depends on person and source only). */
static void agency_name(Gen *g, const Person *p, int src, char *out, size_t cap)
{
	Rng vr;
	if (g->noise > 0)
		rng_seed(&vr, g->seed, STREAM_NOISE + 16 + (uint64_t)src, p->index);
	noise_name(g, &vr, p, out, cap);
}

/* The ID as this record carries it; remembers whether it was garbled.  may_drop:
 * the source often has no ID (cremation records); death certificates lack it now
 * and then. */
typedef struct IdField { char s[64]; bool noisy; } IdField;

static void agency_id(Gen *g, const Person *p, Rng *nr, IdField *f, bool may_drop)
{
	f->noisy = noise_id(g, nr, p->id, f->s, may_drop ? 0.08 : 0.0);
}

static void agency_id_rare_drop(Gen *g, const Person *p, Rng *nr, IdField *f)
{
	f->noisy = noise_id(g, nr, p->id, f->s, 0.01);
}

/* The hidden links of the injected copies (duplicates, malformed) of
 * records with a garbled ID. */
static void drain_links(Gen *g, int src)
{
	Sink *s = &g->sinks[src];
	for (int k = 0; k < s->nlinks; k++)
		noise_link(g, src, s->links[k].record, s->links[k].id);
	s->nlinks = 0;
}

static void finish(Gen *g, int src, const IdField *f, const Person *p)
{
	Sink *s = &g->sinks[src];
	if (f && f->noisy)
		memcpy(s->row_link, p->id, 19);
	else
		s->row_link[0] = 0;
	uint64_t rec = sink_end(s);
	if (f && f->noisy)
		noise_link(g, src, rec, p->id);
	drain_links(g, src);
}

static void si_number(const Person *p, char *out)
{
	snprintf(out, 16, "22240%09llu", (unsigned long long)((p->index * 7919ULL + 12345) % 1000000000ULL));
}

static void mi_number(const Person *p, char *out)
{
	snprintf(out, 20, "YB2224%010llu", (unsigned long long)((p->index * 104729ULL + 777) % 10000000000ULL));
}

/* prefix + YYYYMMDD + an 8-digit serial (without printf: millions of them) */
static void serial(Gen *g, int src, const char *prefix, int32_t day, char *out)
{
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	n += date_format(out + n, day, DS_YMD8);
	unsigned long long v = ++g->serial[src];
	char t[24];
	int k = 0;
	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k < 8)
		t[k++] = '0';
	while (k)
		out[n++] = t[--k];
	out[n] = 0;
}

static const Division *unit_of(const Household *h) { return places_get(h->unit); }
static const Division *town_of(const Household *h) { return places_get(places_get(h->unit)->township); }

static int32_t dmin(int32_t a, int32_t b) { return a < b ? a : b; }
static int32_t dmax(int32_t a, int32_t b) { return a > b ? a : b; }

/* Last day the person can leave a trace: D, or the day of death. */
static int32_t last_day(const Gen *g, const Person *p)
{
	return p->death != NO_DATE ? dmin(p->death, g->asof) : g->asof;
}

static void term_text(char *out, int32_t start, int32_t end)
{
	if (end == NO_DATE) {
		snprintf(out, 32, "无期徒刑");
		return;
	}
	int months = (date_year(end) - date_year(start)) * 12 + (date_ym(end) % 100 - date_ym(start) % 100);
	if (months < 1)
		months = 1;
	if (months % 12 == 0)
		snprintf(out, 32, "%d年", months / 12);
	else if (months < 12)
		snprintf(out, 32, "%d个月", months);
	else
		snprintf(out, 32, "%d年%d个月", months / 12, months % 12);
}

/* ---------------- the emitters ---------------- */

/* 公安 户籍: one row per person, active or cancelled. */
static void emit_police_register(Gen *g, Household *h, Person *p)
{
	Sink *s = &g->sinks[SRC_POLICE_REGISTER];
	char name[64], hh[16];
	person_name(p, name);
	snprintf(hh, sizeof hh, "%09u", h->number);
	const Division *u = unit_of(h);
	static const char *const REASONS[] = { "", "死亡", "迁出", "服兵役", "出国（境）定居" };
	sink_begin(s);
	sink_str(s, p->id);
	sink_str(s, name);
	sink_str(s, sex_cn(p));
	sink_str(s, names_ethnicity(p->eth));
	sink_date(s, p->birth, DS_YMD8);
	sink_str(s, hh);
	sink_str(s, RELATIONS[p->relation]);
	sink_str(s, u->code);
	sink_str(s, town_of(h)->name);
	sink_str(s, u->name);
	sink_str(s, h->addr);
	sink_str(s, p->phone);
	bool active = p->reg_cancel == RAW_NONE;
	sink_str(s, active ? "正常" : "注销");
	sink_str(s, REASONS[p->reg_cancel]);
	sink_date(s, active ? NO_DATE : p->cancel_date, DS_YMD8);
	finish(g, SRC_POLICE_REGISTER, NULL, p);

	RegisterFact *rf = &g->bundle.reg;
	rf->present = true;
	rf->active = active;
	rf->reason = active ? CR_NONE : p->reg_cancel == RAW_DEATH ? CR_DEATH
		     : p->reg_cancel == RAW_MOVED ? CR_MOVED_OUT : CR_OTHER;
	rf->birth = p->birth;
	rf->cancel_date = active ? NO_DATE : p->cancel_date;
	memcpy(rf->division, u->code, 13);
	memcpy(rf->household, hh, sizeof hh);
}

/* 卫健 死亡医学证明. */
static void emit_health_death(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	if (p->ev_health == NO_DATE)
		return;
	Sink *s = &g->sinks[SRC_HEALTH_DEATH];
	char no[48], name[96];
	IdField id;
	snprintf(no, sizeof no, "J222401%04d%06llu", date_year(p->ev_health),
		 (unsigned long long)++g->serial[SRC_HEALTH_DEATH]);
	agency_name(g, p, SRC_HEALTH_DEATH, name, sizeof name);
	agency_id_rare_drop(g, p, nr, &id);
	int32_t birth = noise_birth(g, nr, p->birth);
	bool hospital = p->ev_medical != NO_DATE || rng_chance(r, 0.3);
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, name);
	sink_str(s, sex_cn(p));
	sink_str(s, names_ethnicity(p->eth));
	sink_str(s, id.s);
	sink_date(s, birth, DS_ISO);
	sink_date(s, p->death, DS_ISO);
	sink_str(s, hospital ? "医疗卫生机构" : rng_chance(r, 0.85) ? "家中" : "其他");
	sink_str(s, DEATH_CAUSES[rng_below(r, sizeof DEATH_CAUSES / sizeof DEATH_CAUSES[0])]);
	sink_date(s, p->ev_health, DS_ISO);
	sink_str(s, hospital ? HOSPITALS[rng_below(r, 6)] : "延吉市疾病预防控制中心");
	finish(g, SRC_HEALTH_DEATH, &id, p);
	bundle_add(&g->bundle, FK_DEATH, EV_HEALTH, p->death, NO_DATE, 0, 0, 0);
}

/* 民政 火化记录: the ID is sometimes missing (noise), age and address always there. */
static void emit_civil_cremation(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	if (p->ev_civil == NO_DATE)
		return;
	Sink *s = &g->sinks[SRC_CIVIL_CREMATION];
	char no[48], name[96], kin[64];
	IdField id;
	snprintf(no, sizeof no, "YJHH%04d%06llu", date_year(p->ev_civil),
		 (unsigned long long)++g->serial[SRC_CIVIL_CREMATION]);
	agency_name(g, p, SRC_CIVIL_CREMATION, name, sizeof name);
	agency_id(g, p, nr, &id, true);
	int32_t death = noise_date(g, nr, p->death, p->ev_civil);
	if (death < p->birth)
		death = p->death;
	names_full(kin, p->surname, names_pick_given(r, p->eth, rng_chance(r, 0.5) ? 1 : 2, 1970));
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, name);
	sink_str(s, sex_cn(p));
	sink_int(s, date_age(p->birth, p->death));
	sink_str(s, id.s);
	sink_date(s, death, DS_SLASH);
	sink_date(s, p->ev_civil, DS_SLASH);
	sink_str(s, h->addr);
	sink_str(s, "延吉市殡仪馆");
	sink_str(s, kin);
	finish(g, SRC_CIVIL_CREMATION, &id, p);
	bundle_add(&g->bundle, FK_DEATH, EV_CIVIL, death, NO_DATE, 0, 0, 0);

	/* someone registered elsewhere, cremated here: no ID, nobody's fact */
	Stranger x;
	if (!noise_stranger(g, nr, &x))
		return;
	int32_t burnt = x.death + 1 + (int32_t)rng_below(nr, 4);
	snprintf(no, sizeof no, "YJHH%04d%06llu", date_year(burnt),
		 (unsigned long long)++g->serial[SRC_CIVIL_CREMATION]);
	names_full(kin, names_pick_surname(nr, ETH_KOREAN), names_pick_given(nr, ETH_KOREAN, 1, 1970));
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, x.name);
	sink_str(s, x.sex == 1 ? "男" : "女");
	sink_int(s, date_age(x.birth, x.death));
	sink_str(s, "");
	sink_date(s, x.death, DS_SLASH);
	sink_date(s, burnt, DS_SLASH);
	sink_str(s, x.addr);
	sink_str(s, "延吉市殡仪馆");
	sink_str(s, kin);
	memcpy(s->row_link, NOISE_NOT_ON_REGISTER, 19);
	uint64_t rec = sink_end(s);
	noise_link(g, SRC_CIVIL_CREMATION, rec, NOISE_NOT_ON_REGISTER);
	drain_links(g, SRC_CIVIL_CREMATION);
}

/* 民政 低保: one row per member of a covered household (current or left in the last three years). */
static void emit_civil_dibao(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)r;
	const int32_t D = g->asof;
	if (!h->dibao || h->dibao_start > D)
		return;
	if (h->dibao_end != NO_DATE && h->dibao_end < date_add_months(D, -36))
		return;
	int32_t start = dmax(h->dibao_start, p->birth);
	if (p->death != NO_DATE && p->death < start)
		return;
	Sink *s = &g->sinks[SRC_CIVIL_DIBAO];
	char no[48], head[96], name[96];
	IdField id, hid;
	const Person *hp = &h->m[0];
	snprintf(no, sizeof no, "DB%s%09u", unit_of(h)->code, h->number);
	agency_name(g, hp, SRC_CIVIL_DIBAO, head, sizeof head);
	agency_name(g, p, SRC_CIVIL_DIBAO, name, sizeof name);
	agency_id(g, hp, nr, &hid, false);
	agency_id(g, p, nr, &id, false);
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, head);
	sink_str(s, hid.s);
	sink_str(s, name);
	sink_str(s, id.s);
	sink_str(s, p == hp ? "本人" : RELATIONS[p->relation]);
	sink_str(s, h->dibao_urban ? "城市低保" : "农村低保");
	sink_str(s, town_of(h)->name);
	sink_str(s, unit_of(h)->name);
	sink_money(s, h->dibao_cents);
	sink_date(s, start, DS_YMD8);
	sink_date(s, h->dibao_end, DS_YMD8);
	finish(g, SRC_CIVIL_DIBAO, &id, p);
	bundle_add(&g->bundle, FK_DIBAO, 0, start, h->dibao_end, 0, 0, 0);
}

/* 民政 特困人员. */
static void emit_civil_tekun(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_TEKUN)
			continue;
		Sink *s = &g->sinks[SRC_CIVIL_TEKUN];
		char name[96];
		IdField id;
		agency_name(g, p, SRC_CIVIL_TEKUN, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		sink_begin(s);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, id.s);
		sink_str(s, sp->sub ? "集中供养" : "分散供养");
		sink_date(s, sp->start, DS_SLASH);
		sink_date(s, sp->end, DS_SLASH);
		sink_str(s, town_of(h)->name);
		sink_str(s, sp->sub ? "延吉市社会福利中心" : "");
		sink_money(s, 91000);
		sink_str(s, p->age >= 60 ? "无劳动能力,无生活来源,无法定赡养抚养扶养义务人" : "重度残疾,无生活来源");
		finish(g, SRC_CIVIL_TEKUN, &id, p);
		bundle_add(&g->bundle, FK_TEKUN, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* 法院 宣告死亡: the judgement's date is the date of death (民法典 第48条). */
static void emit_court_death(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	if (p->ev_court == NO_DATE)
		return;
	Sink *s = &g->sinks[SRC_COURT_DEATH];
	char no[64], name[96], kin[64];
	IdField id;
	snprintf(no, sizeof no, "(%d)吉2401民特%llu号", date_year(p->ev_court),
		 (unsigned long long)(100 + ++g->serial[SRC_COURT_DEATH]));
	agency_name(g, p, SRC_COURT_DEATH, name, sizeof name);
	agency_id(g, p, nr, &id, false);
	int32_t birth = noise_birth(g, nr, p->birth);
	names_full(kin, p->surname, names_pick_given(r, p->eth, 2, 1975));
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, name);
	sink_str(s, sex_cn(p));
	sink_str(s, id.s);
	sink_date(s, birth, DS_CN);
	sink_date(s, p->missing_since, DS_CN);
	sink_date(s, p->ev_court, DS_CN);
	sink_str(s, kin);
	finish(g, SRC_COURT_DEATH, &id, p);
	bundle_add(&g->bundle, FK_DEATH, EV_COURT, p->ev_court, NO_DATE, 0, 0, 0);
}

/* 法院 刑事判决 (last three years). */
static void emit_court_criminal(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_PRISON || !sp->court)
			continue;
		Sink *s = &g->sinks[SRC_COURT_CRIMINAL];
		char no[64], name[96], term[32];
		IdField id;
		snprintf(no, sizeof no, "(%d)吉2401刑初%llu号", date_year(sp->start),
			 (unsigned long long)(10 + ++g->serial[SRC_COURT_CRIMINAL]));
		agency_name(g, p, SRC_COURT_CRIMINAL, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		term_text(term, sp->start, sp->end);
		bool community = sp->sub == 1;
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, id.s);
		sink_str(s, CRIMES[sp->extra % N_CRIMES]);
		sink_str(s, sp->sub == 2 ? "无期徒刑" : community ? "有期徒刑，缓刑" : "有期徒刑");
		sink_str(s, term);
		sink_str(s, community ? "社区矫正" : "监禁");
		sink_date(s, sp->start, DS_ISO);
		sink_date(s, sp->end, DS_ISO);
		sink_date(s, sp->start - 3 - (int32_t)(sp->extra % 20), DS_ISO);
		finish(g, SRC_COURT_CRIMINAL, &id, p);
		bundle_add(&g->bundle, FK_PRISON, community ? PT_COMMUNITY : PT_PRISON, sp->start, sp->end, 0, 0, 0);
	}
}

/* 司法 服刑人员 / 社区矫正对象: current, and released in the last three years. */
static void emit_justice_corrections(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	const int32_t D = g->asof;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_PRISON)
			continue;
		Sink *s = &g->sinks[SRC_JUSTICE_CORRECTIONS];
		char name[96], term[32];
		IdField id;
		agency_name(g, p, SRC_JUSTICE_CORRECTIONS, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		term_text(term, sp->start, sp->end);
		bool community = sp->sub == 1;
		bool out = sp->end != NO_DATE && sp->end <= D;   /* released on the end date */
		sink_begin(s);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, id.s);
		sink_str(s, community ? "社区矫正对象" : "服刑人员");
		sink_str(s, CRIMES[sp->extra % N_CRIMES]);
		sink_str(s, term);
		sink_date(s, sp->start, DS_YMD8);
		sink_date(s, sp->end, DS_YMD8);
		sink_str(s, community ? (out ? "已解矫" : "在矫") : (out ? "已释放" : "在押"));
		sink_str(s, community ? "延吉市司法局" : "吉林省延吉监狱");
		finish(g, SRC_JUSTICE_CORRECTIONS, &id, p);
		bundle_add(&g->bundle, FK_PRISON, community ? PT_COMMUNITY : PT_PRISON, sp->start, sp->end, 0, 0, 0);
	}
}

/* 医保 职工医保参保人员. */
static void emit_medical_insured(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_EMP_MEDICAL)
			continue;
		Sink *s = &g->sinks[SRC_MEDICAL_INSURED];
		char no[24], name[96];
		IdField id;
		mi_number(p, no);
		agency_name(g, p, SRC_MEDICAL_INSURED, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		bool retired = p->age >= (p->sex == 1 ? 60 : 55) && sp->end == NO_DATE;
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, name);
		sink_str(s, sex_code(p));
		sink_str(s, id.s);
		sink_str(s, sp->sub == 1 ? "" : sp->extra % 2 ? INSTITUTIONS[sp->extra % N_INST] : ENTERPRISES[sp->extra % N_ENT]);
		sink_str(s, sp->sub == 1 ? "灵活就业" : retired ? "退休" : "在职");
		sink_str(s, "职工基本医疗保险");
		sink_str(s, sp->end == NO_DATE ? "参保缴费" : "终止参保");
		sink_date(s, sp->start, DS_YMD8);
		sink_date(s, sp->end, DS_YMD8);
		finish(g, SRC_MEDICAL_INSURED, &id, p);
		bundle_add(&g->bundle, FK_EMP_MEDICAL, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* 医保 结算: claims of the last 24 months, the largest extract. */
static void emit_medical_claims(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	if (p->claim_factor == 0)
		return;
	const int32_t D = g->asof;
	const int32_t from = date_add_months(D, -24) + 1;
	const int32_t to = last_day(g, p);
	if (to < from)
		return;
	double lambda = p->claim_factor / 10.0 / 12.0;
	int whole = (int)lambda;
	double frac = lambda - whole;
	char mi[24], name[96];
	mi_number(p, mi);
	agency_name(g, p, SRC_MEDICAL_CLAIMS, name, sizeof name);
	/* the engine folds rows with the same canonical values (id, date, amount)
	 * as duplicates: two claims of a person on one day never cost the same */
	struct { int32_t day; int64_t total; } seen[256];
	int nseen = 0;
	for (int ym = date_ym(from); ym <= date_ym(to); ym = ym_add(ym, 1)) {
		int n = whole + (rng_chance(r, frac) ? 1 : 0);
		int32_t lo = dmax(ym_first(ym), dmax(from, p->birth)), hi = dmin(ym_last(ym), to);
		for (int k = 0; k < n && lo <= hi; k++) {
			int32_t day = lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
			double u = rng_unit(r);
			const char *kind;
			int64_t total;
			/* med_type as the national platform codes it */
			if (u < (p->age >= 60 ? 0.08 : 0.04)) {
				kind = "21";                     /* 普通住院 */
				total = (int64_t)rng_range(r, 3000, 40000) * 100 + rng_below(r, 100);
			} else if (u < 0.25 && p->age >= 45) {
				kind = "14";                     /* 门诊慢特病 */
				total = (int64_t)rng_range(r, 150, 1500) * 100 + rng_below(r, 100);
			} else {
				kind = "11";                     /* 普通门诊 */
				total = (int64_t)rng_range(r, 20, 600) * 100 + rng_below(r, 100);
			}
			for (int k2 = 0; k2 < nseen; k2++)
				if (seen[k2].day == day && seen[k2].total == total)
					total++, k2 = -1;
			if (nseen < 256) {
				seen[nseen].day = day;
				seen[nseen].total = total;
				nseen++;
			}
			int64_t fund = total * rng_range(r, 40, 80) / 100;
			Sink *s = &g->sinks[SRC_MEDICAL_CLAIMS];
			char no[48];
			IdField id;
			serial(g, SRC_MEDICAL_CLAIMS, "JS", day, no);
			agency_id(g, p, nr, &id, false);
			sink_begin(s);
			sink_str(s, no);
			sink_str(s, mi);
			sink_str(s, id.s);
			sink_str(s, name);
			sink_str(s, sex_code(p));
			sink_str(s, kind);
			sink_str(s, HOSPITALS[rng_below(r, N_HOSP)]);
			/* settled during opening hours; the time follows from the serial number */
			sink_datetime(s, day, 7 * 3600 + (int)(g->serial[SRC_MEDICAL_CLAIMS] * 2654435761u % (14 * 3600)));
			sink_money(s, total);
			sink_money(s, fund);
			sink_money(s, total - fund);
			finish(g, SRC_MEDICAL_CLAIMS, &id, p);
			bundle_add(&g->bundle, FK_CLAIM, 0, day, NO_DATE, total, 0, 0);
		}
	}
}

/* 医保 住院死亡. */
static void emit_medical_death(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	if (p->ev_medical == NO_DATE)
		return;
	Sink *s = &g->sinks[SRC_MEDICAL_DEATH];
	char no[48], name[96];
	IdField id;
	snprintf(no, sizeof no, "ZY%04d%07llu", date_year(p->death),
		 (unsigned long long)++g->serial[SRC_MEDICAL_DEATH]);
	agency_name(g, p, SRC_MEDICAL_DEATH, name, sizeof name);
	agency_id(g, p, nr, &id, false);
	int32_t death = noise_date(g, nr, p->death, p->ev_medical);
	if (death < p->birth)
		death = p->death;
	int32_t admitted = dmax(p->birth, p->death - rng_range(r, 0, 40));
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, id.s);
	sink_str(s, name);
	sink_int(s, p->sex);
	sink_date(s, admitted, DS_ISO);
	sink_date(s, death, DS_ISO);
	sink_str(s, "死亡");
	sink_str(s, HOSPITALS[rng_below(r, 6)]);
	sink_date(s, p->ev_medical, DS_ISO);
	finish(g, SRC_MEDICAL_DEATH, &id, p);
	bundle_add(&g->bundle, FK_DEATH, EV_MEDICAL, death, NO_DATE, 0, 0, 0);
}

/* 残联 残疾人证: the certificate number is the ID plus category and grade digits. */
static void emit_disability(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_DISABILITY)
			continue;
		Sink *s = &g->sinks[SRC_DISABILITY];
		char no[32], name[96];
		IdField id;
		snprintf(no, sizeof no, "%s%d%d", p->id, sp->sub2 + 1, sp->sub);
		agency_name(g, p, SRC_DISABILITY, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, id.s);
		sink_str(s, DISABILITY_KINDS[sp->sub2 % 7]);
		sink_str(s, GRADES_CN[sp->sub]);
		sink_date(s, sp->start, DS_ISO);
		sink_date(s, sp->end, DS_ISO);
		sink_str(s, h->addr);
		finish(g, SRC_DISABILITY, &id, p);
		bundle_add(&g->bundle, FK_DISABILITY, sp->sub, sp->start, sp->end, 0, 0, 0);
	}
}

/* 乡村振兴 脱贫户 / 监测户: one row per household and date of inclusion, as the rosters are
 * kept: the members' names, relations and ID numbers each in one cell, in the same order
 * (成员姓名 "张三、李四", 成员证件号码 "ID1;ID2"; connectors/agencies/poverty_household.conf
 * splits them).  Members born after the household's inclusion have their own date, so their
 * own row.  A member whose ID the noise garbled gets a row of his own: readers repair a
 * mistyped ID only on a row of one person, and a record's hidden link names one person.  The
 * rows of a group are written at the turn of its first member; every member adds his own fact
 * at his own turn. */
static void poverty_row(Gen *g, const Household *h, const char *const cell[6], int32_t start,
			const IdField *id, const Person *p)
{
	Sink *s = &g->sinks[SRC_POVERTY];
	sink_begin(s);
	for (int c = 0; c < 6; c++)
		sink_str(s, cell[c]);   /* 户编号 户主姓名 户主证件号码 成员姓名 成员证件号码 与户主关系 */
	sink_str(s, h->poor_kind ? "监测户" : "脱贫户");
	sink_str(s, town_of(h)->name);
	sink_str(s, unit_of(h)->name);
	sink_date(s, start, DS_ISO);
	sink_date(s, h->poor_end, DS_ISO);
	finish(g, SRC_POVERTY, id, p);
}

static void emit_poverty(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)r;
	if (!h->poor)
		return;
	int32_t start = dmax(h->poor_start, p->birth);
	if (start > g->asof)
		return;
	int first = 0;
	while (dmax(h->poor_start, h->m[first].birth) != start)
		first++;
	if (&h->m[first] == p) {
		char no[48], head[96], name[96], names[HH_MAX * 100], ids[HH_MAX * 70], rels[HH_MAX * 20];
		IdField hid, id[HH_MAX];
		size_t nn = 0, ni = 0, nrl = 0;
		int packed = 0;
		snprintf(no, sizeof no, "%s%06u", unit_of(h)->code, h->number % 1000000);
		agency_name(g, &h->m[0], SRC_POVERTY, head, sizeof head);
		agency_id(g, &h->m[0], nr, &hid, false);
		for (int i = first; i < h->size; i++) {
			const Person *m = &h->m[i];
			if (dmax(h->poor_start, m->birth) != start)
				continue;
			agency_id(g, m, nr, &id[i], false);
			if (id[i].noisy)
				continue;
			agency_name(g, m, SRC_POVERTY, name, sizeof name);
			const char *sep = packed ? "、" : "";
			nn += (size_t)snprintf(names + nn, sizeof names - nn, "%s%s", sep, name);
			ni += (size_t)snprintf(ids + ni, sizeof ids - ni, "%s%s", packed ? ";" : "", id[i].s);
			nrl += (size_t)snprintf(rels + nrl, sizeof rels - nrl, "%s%s", sep, RELATIONS[m->relation]);
			packed++;
		}
		if (packed > 0) {
			const char *cell[6] = { no, head, hid.s, names, ids, rels };
			poverty_row(g, h, cell, start, NULL, p);
		}
		for (int i = first; i < h->size; i++) {
			const Person *m = &h->m[i];
			if (dmax(h->poor_start, m->birth) != start || !id[i].noisy)
				continue;
			agency_name(g, m, SRC_POVERTY, name, sizeof name);
			const char *cell[6] = { no, head, hid.s, name, id[i].s, RELATIONS[m->relation] };
			poverty_row(g, h, cell, start, &id[i], m);
		}
	}
	bundle_add(&g->bundle, FK_POOR, 0, start, h->poor_end, 0, 0, 0);
}

/* 教育 学籍: current students (planned graduation) and graduates of the last five years. */
static void emit_education(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	const int32_t D = g->asof;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_STUDENT)
			continue;
		Sink *s = &g->sinks[SRC_EDUCATION];
		char no[32], name[96], grade[32];
		IdField id;
		snprintf(no, sizeof no, "G%s", p->id);
		agency_name(g, p, SRC_EDUCATION, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		int year = date_year(dmin(sp->end, D)) - date_year(sp->start) + (date_ym(dmin(sp->end, D)) % 100 >= 9);
		if (year < 1)
			year = 1;
		static const char *const CN[] = { "一", "二", "三", "四", "五" };
		snprintf(grade, sizeof grade, "%s%s", sp->sub <= 1 ? "高" : sp->sub == 4 ? "研" : "大", CN[(year - 1) % 5]);
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, id.s);
		sink_str(s, SCHOOLS[sp->sub % 5][sp->extra % 4]);
		sink_str(s, STAGES[sp->sub % 5]);
		sink_str(s, grade);
		sink_date(s, sp->start, DS_ISO);
		sink_date(s, sp->end, DS_ISO);
		sink_str(s, sp->sub2 == 2 ? "退学" : sp->end < D ? "毕业" : "在读");
		finish(g, SRC_EDUCATION, &id, p);
		bundle_add(&g->bundle, FK_STUDENT, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* 公积金 缴存明细: monthly contributions of the last 12 months. */
static void emit_provident(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_PROVIDENT)
			continue;
		int employer = -1;
		for (int k = 0; k < p->nspells; k++)
			if ((p->sp[k].kind == SP_EMP_PENSION || p->sp[k].kind == SP_INST_PENSION) && p->sp[k].end == NO_DATE)
				employer = k;
		const char *org = employer >= 0 && p->sp[employer].kind == SP_INST_PENSION
				  ? INSTITUTIONS[p->sp[employer].extra % N_INST]
				  : ENTERPRISES[(employer >= 0 ? p->sp[employer].extra : sp->extra) % N_ENT];
		char unit_acct[24], acct[24], name[96];
		snprintf(unit_acct, sizeof unit_acct, "1020%08u",
			 (unsigned)((employer >= 0 ? p->sp[employer].extra : sp->extra) * 7717u % 100000000u));
		snprintf(acct, sizeof acct, "2224%010llu", (unsigned long long)((p->index * 48271ULL) % 10000000000ULL));
		agency_name(g, p, SRC_PROVIDENT, name, sizeof name);
		int first = dmax(date_ym(sp->start), ym_add(g->paid_ym, -11));
		int lastm = g->paid_ym;
		if (sp->end != NO_DATE && date_ym(sp->end) < lastm)
			lastm = date_ym(sp->end);
		if (p->death != NO_DATE && date_ym(p->death) < lastm)
			lastm = date_ym(p->death);
		int64_t part = (int64_t)sp->extra * 12;          /* 12 % of the base, in cents */
		for (int ym = first; ym <= lastm; ym = ym_add(ym, 1)) {
			Sink *s = &g->sinks[SRC_PROVIDENT];
			IdField id;
			agency_id(g, p, nr, &id, false);
			if (strlen(id.s) > 18) {
				/* full-width digits (54 bytes) do not fit the 18-byte column
				 * of this fixed-width file: such a record keeps the plain ID */
				memcpy(id.s, p->id, 19);
				id.noisy = false;
			}
			sink_begin(s);
			sink_str(s, unit_acct);
			sink_str(s, org);
			sink_str(s, acct);
			sink_str(s, name);
			sink_str(s, id.s);
			sink_month(s, ym, MS_YM6);
			sink_money(s, (int64_t)sp->extra * 100);
			sink_money(s, part);
			sink_money(s, part);
			sink_money(s, 2 * part);
			finish(g, SRC_PROVIDENT, &id, p);
			bundle_add(&g->bundle, FK_PROVIDENT, 0, ym, NO_DATE, 2 * part, 0, 0);
		}
	}
}

/* 工信 企业用工花名册. */
static void emit_industry_roster(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_ROSTER)
			continue;
		Sink *s = &g->sinks[SRC_INDUSTRY_ROSTER];
		char name[96], code[24];
		IdField id;
		int e = (int)(sp->extra % N_ENT);
		snprintf(code, sizeof code, "912224017%09u", (unsigned)(e * 104723u % 1000000000u));
		code[18] = 0;
		agency_name(g, p, SRC_INDUSTRY_ROSTER, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		static const char *const JOBS[] = { "操作工", "技术员", "销售", "管理人员", "司机", "仓管员", "质检员", "会计" };
		sink_begin(s);
		sink_str(s, ENTERPRISES[e]);
		sink_str(s, code);
		sink_str(s, INDUSTRIES[e % 10]);
		sink_str(s, name);
		sink_str(s, id.s);
		sink_str(s, JOBS[sp->extra % 8]);
		sink_str(s, sp->extra % 5 == 0 ? "劳务派遣" : "劳动合同");
		sink_date(s, sp->start, DS_ISO);
		sink_date(s, sp->end, DS_ISO);
		finish(g, SRC_INDUSTRY_ROSTER, &id, p);
		bundle_add(&g->bundle, FK_ROSTER, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* The tax rows of the current person, so that no two share the canonical
 * values (id, date, amount, type) the engine folds as duplicates. */
static struct { int tt; int32_t day; int64_t cents; } g_tax_seen[64];
static int g_tax_nseen;

/* One row of 税务 征收. */
static void tax_row(Gen *g, Household *h, Person *p, Rng *nr, const char *kind, int tt,
		    int tier, int64_t cents, int32_t day)
{
	for (int k = 0; k < g_tax_nseen; k++)
		if (g_tax_seen[k].tt == tt && g_tax_seen[k].day == day && g_tax_seen[k].cents == cents) {
			day = day > p->birth + 1 ? day - 1 : day + 1;   /* the bank booked it a day apart */
			k = -1;
		}
	if (g_tax_nseen < 64) {
		g_tax_seen[g_tax_nseen].tt = tt;
		g_tax_seen[g_tax_nseen].day = day;
		g_tax_seen[g_tax_nseen].cents = cents;
		g_tax_nseen++;
	}
	Sink *s = &g->sinks[SRC_TAX];
	char no[48], name[96], tierbuf[16], year[8];
	IdField id;
	snprintf(no, sizeof no, "3222401%04d%010llu", date_year(day), (unsigned long long)++g->serial[SRC_TAX]);
	agency_name(g, p, SRC_TAX, name, sizeof name);
	agency_id(g, p, nr, &id, false);
	snprintf(tierbuf, sizeof tierbuf, "%d", tier);
	snprintf(year, sizeof year, "%d", date_year(day));
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, name);
	sink_str(s, id.s);
	sink_str(s, "城乡居民基本养老保险费");
	sink_str(s, kind);
	sink_str(s, tt == TT_PERSONAL ? tierbuf : "");
	sink_money(s, cents);
	sink_str(s, year);
	sink_date(s, day, DS_ISO);
	sink_str(s, town_of(h)->name);
	sink_str(s, "国家税务总局延吉市税务局");
	finish(g, SRC_TAX, &id, p);
	bundle_add(&g->bundle, FK_TAX, tt, day, NO_DATE, cents, 0, 0);
}

static int32_t day_in(Rng *r, int32_t lo, int32_t hi)
{
	return hi <= lo ? lo : lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* 税务 城乡居民养老保险费征收: the calendar years D-2 .. D. */
static void emit_tax(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	const int32_t D = g->asof;
	const int32_t last = last_day(g, p);
	g_tax_nseen = 0;
	if (p->rp != RP_NONE && p->tax_mode != TAX_NONE) {
		/* the days on which the person was a contributor */
		int32_t from = p->rp_start, to = last;
		if (p->rp == RP_TERM && p->rp_change != NO_DATE)
			to = dmin(to, p->rp_change);
		if (p->rp_benefit_ym)
			to = dmin(to, ym_first(p->rp_benefit_ym) - 1);
		const Division *u = unit_of(h);
		for (int y = date_year(D) - 2; y <= date_year(D); y++) {
			int32_t lo = dmax(from, date_make(y, 1, 1)), hi = dmin(to, date_make(y, 12, 31));
			if (lo > hi)
				continue;
			if (!rng_chance(r, p->pay_persist / 100.0))
				continue;
			/* the collection campaign runs from March to July */
			int32_t day = rng_chance(r, 0.7) ? day_in(r, date_make(y, 3, 1), date_make(y, 7, 31))
							 : day_in(r, date_make(y, 1, 1), date_make(y, 12, 31));
			if (day < lo || day > hi)
				day = day_in(r, lo, hi);
			if (p->gov_paid)
				tax_row(g, h, p, nr, "政府代缴", TT_PERSONAL, 100, 10000, day);
			else
				tax_row(g, h, p, nr, "个人缴费", TT_PERSONAL, p->rp_tier, (int64_t)p->rp_tier * 100, day);
			if (u->collective) {
				int32_t cday = day_in(r, dmax(day, date_make(y, 10, 1)), date_make(y, 12, 20));
				if (cday <= hi)
					tax_row(g, h, p, nr, "集体补助", TT_COLLECTIVE, 0, (int64_t)u->collective_yuan * 100, cday);
			}
			if (rng_chance(r, 0.004)) {
				int32_t dday = day_in(r, lo, hi);
				tax_row(g, h, p, nr, "社会资助", TT_DONOR, 0, (int64_t)rng_range(r, 2, 10) * 10000, dday);
			}
		}
	}
	if (p->tax_mode == TAX_ABOVE_TIER) {
		/* a generous collective and a donor in the same year: above the top tier */
		int y = date_year(D) - 1;
		int32_t lo = dmax(dmax(p->rp_start, date_make(y, 1, 1)), p->birth);
		int32_t hi = dmin(last, date_make(y, 12, 31));
		if (lo <= hi) {
			tax_row(g, h, p, nr, "集体补助", TT_COLLECTIVE, 0, 120000, day_in(r, lo, hi));
			tax_row(g, h, p, nr, "社会资助", TT_DONOR, 0, (int64_t)rng_range(r, 9, 15) * 10000, day_in(r, lo, hi));
		}
	}
	if (p->tax_mode == TAX_STRAY) {
		int32_t day = D - rng_range(r, 20, 300);
		if (day <= last && day > p->birth)
			tax_row(g, h, p, nr, "个人缴费", TT_PERSONAL, 200, 20000, day);
	}
}

static int64_t monthly_basic(const Gen *g, const Person *p, int ym)
{
	(void)g;
	return pop_basic_cents(ym / 100, p->age);
}

/* 社保 城乡居民养老保险参保: one row per enrolled person (snapshot). */
static void emit_si_resident(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)r;
	if (p->rp == RP_NONE)
		return;
	Sink *s = &g->sinks[SRC_SI_RESIDENT];
	char no[24], name[96], tier[16];
	IdField id;
	si_number(p, no);
	agency_name(g, p, SRC_SI_RESIDENT, name, sizeof name);
	agency_id(g, p, nr, &id, false);
	snprintf(tier, sizeof tier, "%d", p->rp_tier);
	int64_t basic = NO_MONEY, monthly = NO_MONEY, account = NO_MONEY;
	if (p->rp_benefit_ym) {
		basic = monthly_basic(g, p, g->asof_ym);
		account = p->rp_account;
		monthly = basic + account;
	}
	const Division *t = town_of(h);
	sink_begin(s);
	sink_str(s, no);
	sink_str(s, name);
	sink_str(s, sex_cn(p));
	sink_str(s, id.s);
	sink_date(s, p->birth, DS_YMD8);
	sink_date(s, p->rp_start, DS_YMD8);
	sink_str(s, RP_STATUS_CN[p->rp]);
	sink_month(s, p->rp_benefit_ym, MS_YM6);
	sink_money(s, monthly);
	sink_money(s, basic);
	sink_money(s, account);
	sink_str(s, p->rp_tier ? tier : "");
	sink_str(s, t->code);
	sink_str(s, t->name);
	sink_str(s, unit_of(h)->name);
	bool changed = p->rp == RP_SUSP || p->rp == RP_TERM;
	sink_date(s, changed ? p->rp_change : NO_DATE, DS_YMD8);
	sink_str(s, changed ? RP_REASON_CN[p->rp_reason % 6] : "");
	finish(g, SRC_SI_RESIDENT, &id, p);
	static const uint8_t CODE[5] = { 0, RS_CONTRIBUTING, RS_RECEIVING, RS_SUSPENDED, RS_TERMINATED };
	bundle_add(&g->bundle, FK_RESIDENT, CODE[p->rp], p->rp_start, p->rp_benefit_ym, monthly, basic, 0);
}

/* 社保 待遇发放明细: the last 24 paid months. */
static void emit_si_payment(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	if (!p->rp_benefit_ym || !p->rp_last_paid_ym)
		return;
	int first = p->rp_benefit_ym > ym_add(g->paid_ym, -23) ? p->rp_benefit_ym : ym_add(g->paid_ym, -23);
	int lastm = p->rp_last_paid_ym < g->paid_ym ? p->rp_last_paid_ym : g->paid_ym;
	if (first > lastm)
		return;
	char no[24], name[96];
	si_number(p, no);
	agency_name(g, p, SRC_SI_PAYMENT, name, sizeof name);
	const char *bank = BANKS[p->index % (sizeof BANKS / sizeof BANKS[0])];
	for (int ym = first; ym <= lastm; ym = ym_add(ym, 1)) {
		if (p->rp_gap_from && ym >= p->rp_gap_from && ym <= p->rp_gap_to)
			continue;
		Sink *s = &g->sinks[SRC_SI_PAYMENT];
		char serialno[48];
		IdField id;
		int64_t basic = monthly_basic(g, p, ym), account = p->rp_account;
		int32_t paid = date_make(ym / 100, ym % 100, 10);
		serial(g, SRC_SI_PAYMENT, "FF", paid, serialno);
		agency_id(g, p, nr, &id, false);
		sink_begin(s);
		sink_str(s, serialno);
		sink_str(s, no);
		sink_str(s, id.s);
		sink_str(s, name);
		sink_month(s, ym, MS_YM6);
		sink_money(s, basic);
		sink_money(s, account);
		sink_money(s, basic + account);
		sink_date(s, paid, DS_YMD8);
		sink_str(s, bank);
		finish(g, SRC_SI_PAYMENT, &id, p);
		bundle_add(&g->bundle, FK_PAYMENT, 0, ym, NO_DATE, basic, account, basic + account);
	}
}

/* 社保 企业职工基本养老保险. */
static void emit_si_employee(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	(void)r;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_EMP_PENSION)
			continue;
		Sink *s = &g->sinks[SRC_SI_EMPLOYEE];
		char no[24], name[96], org[16];
		IdField id;
		si_number(p, no);
		no[3] = '9';
		snprintf(org, sizeof org, "DW%08u", (unsigned)(sp->extra % N_ENT) * 1031u + 10000u);
		agency_name(g, p, SRC_SI_EMPLOYEE, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		bool retired = sp->end == NO_DATE && p->age >= (p->sex == 1 ? 60 : 50);
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, id.s);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, org);
		sink_str(s, ENTERPRISES[sp->extra % N_ENT]);
		sink_date(s, sp->start, DS_YMD8);
		sink_str(s, sp->end != NO_DATE ? "终止参保" : retired ? "正常待遇" : "参保缴费");
		sink_str(s, retired ? "退休" : "在职");
		sink_date(s, sp->end, DS_YMD8);
		finish(g, SRC_SI_EMPLOYEE, &id, p);
		bundle_add(&g->bundle, FK_EMP_PENSION, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* 社保 机关事业单位养老保险 (from the 2014-10-01 reform). */
static void emit_si_institution(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	(void)h;
	for (int i = 0; i < p->nspells; i++) {
		const Spell *sp = &p->sp[i];
		if (sp->kind != SP_INST_PENSION)
			continue;
		Sink *s = &g->sinks[SRC_SI_INSTITUTION];
		char no[24], name[96];
		IdField id;
		si_number(p, no);
		no[3] = '8';
		agency_name(g, p, SRC_SI_INSTITUTION, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		const char *org = INSTITUTIONS[sp->extra % N_INST];
		bool agency = strstr(org, "局") || strstr(org, "政府") || strstr(org, "法院") || strstr(org, "检察院") || strstr(org, "办事处");
		int32_t work = sp->sub ? dmin(sp->start, date_birthday(p->birth, 22) + (int32_t)rng_below(r, 1500)) : sp->start;
		bool retired = sp->end == NO_DATE && p->age >= (p->sex == 1 ? 60 : 55);
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, id.s);
		sink_str(s, name);
		sink_str(s, sex_cn(p));
		sink_str(s, org);
		sink_str(s, agency ? "机关" : "事业单位");
		sink_date(s, work, DS_YMD8);
		sink_date(s, sp->start, DS_YMD8);
		sink_str(s, sp->end != NO_DATE ? "终止参保" : retired ? "正常待遇" : "参保缴费");
		sink_str(s, retired ? "退休" : "在职");
		sink_date(s, sp->end, DS_YMD8);
		finish(g, SRC_SI_INSTITUTION, &id, p);
		bundle_add(&g->bundle, FK_INST_PENSION, 0, sp->start, sp->end, 0, 0, 0);
	}
}

/* 社保 待遇领取资格认证: passed certifications only. */
static void emit_si_certification(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	if (p->cert_mode == 0)
		return;
	const int32_t D = g->asof;
	int32_t days[2];
	int n = 0;
	if (p->cert_mode == 1)
		days[n++] = D - (int32_t)rng_below(r, 360);
	else
		days[n++] = D - 366 - (int32_t)rng_below(r, 354);
	if (rng_chance(r, 0.2))
		days[n++] = days[0] - 365 - (int32_t)rng_below(r, 30);
	for (int k = n - 1; k >= 0; k--) {
		if (days[k] > last_day(g, p) || days[k] <= p->birth)
			continue;
		Sink *s = &g->sinks[SRC_SI_CERTIFICATION];
		char no[48], name[96], org[96];
		IdField id;
		serial(g, SRC_SI_CERTIFICATION, "RZ", days[k], no);
		agency_name(g, p, SRC_SI_CERTIFICATION, name, sizeof name);
		agency_id(g, p, nr, &id, false);
		static const char *const HOW[] = { "人脸识别", "人脸识别", "社区上门认证", "窗口认证", "视频认证" };
		snprintf(org, sizeof org, "%s社会保障事务所", town_of(h)->name);
		sink_begin(s);
		sink_str(s, no);
		sink_str(s, id.s);
		sink_str(s, name);
		sink_date(s, days[k], DS_ISO);
		sink_str(s, HOW[rng_below(r, 5)]);
		sink_str(s, "通过");
		sink_str(s, org);
		finish(g, SRC_SI_CERTIFICATION, &id, p);
		bundle_add(&g->bundle, FK_CERT, 0, days[k], NO_DATE, 0, 0, 0);
	}
}

/* ---------------- driving the emitters ---------------- */

bool emit_open(Gen *g)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/extracts", g->out_dir);
	for (int i = 0; i < SRC_COUNT; i++)
		if (!sink_open(&g->sinks[i], &SOURCES[i], dir, g->tag, g->asof, g->persons, g->seed, i,
			       i != SRC_REF_DIVISIONS))
			return false;
	for (int i = 0; i < SRC_COUNT; i++)
		g->sinks[i].part_rows = g->xlsx_part_rows;
	return true;
}

void emit_person(Gen *g, Household *h, Person *p, Rng *r, Rng *nr)
{
	emit_police_register(g, h, p);
	emit_health_death(g, h, p, r, nr);
	emit_civil_cremation(g, h, p, r, nr);
	emit_civil_dibao(g, h, p, r, nr);
	emit_civil_tekun(g, h, p, r, nr);
	emit_court_death(g, h, p, r, nr);
	emit_court_criminal(g, h, p, r, nr);
	emit_justice_corrections(g, h, p, r, nr);
	emit_medical_insured(g, h, p, r, nr);
	emit_medical_claims(g, h, p, r, nr);
	emit_medical_death(g, h, p, r, nr);
	emit_disability(g, h, p, r, nr);
	emit_poverty(g, h, p, r, nr);
	emit_education(g, h, p, r, nr);
	emit_provident(g, h, p, r, nr);
	emit_industry_roster(g, h, p, r, nr);
	emit_tax(g, h, p, r, nr);
	emit_si_resident(g, h, p, r, nr);
	emit_si_payment(g, h, p, r, nr);
	emit_si_employee(g, h, p, r, nr);
	emit_si_institution(g, h, p, r, nr);
	emit_si_certification(g, h, p, r, nr);
}

/* 数据局 参考: townships, communities and villages (the engine reads codes from here). */
void emit_ref_divisions(Gen *g)
{
	Sink *s = &g->sinks[SRC_REF_DIVISIONS];
	static const char *const LEVEL[3] = { "乡镇", "社区", "村" };
	for (int i = 0; i < places_count(); i++) {
		const Division *d = places_get(i);
		char parent[16];
		if (d->level == LV_TOWNSHIP)
			snprintf(parent, sizeof parent, "%s", places_county_code(d->county));
		else
			snprintf(parent, sizeof parent, "%s", places_get(d->township)->code);
		sink_begin(s);
		sink_str(s, d->code);
		sink_str(s, d->name);
		sink_str(s, LEVEL[d->level]);
		sink_str(s, parent);
		sink_end(s);
		truth_add_division(g->truth, d->code, LEVEL[d->level]);
	}
}

bool emit_close(Gen *g)
{
	bool ok = true;
	for (int i = 0; i < SRC_COUNT; i++) {
		ok &= sink_close(&g->sinks[i]);
		drain_links(g, i);
	}
	return ok;
}
