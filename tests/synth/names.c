/*
 * names.c — surnames and given names by ethnicity, sex and generation, and
 * the simplified -> traditional / variant characters of the name noise.
 *
 * A person's name is two 16-bit codes into these tables, never a string in
 * memory.  Korean-Chinese (朝鲜族) surnames are weighted so that 金 and 李
 * are very common, as in Yanbian; given names follow the Korean-Chinese
 * style (哲洙, 英子, 美兰, 敏俊 ...).
 */
#include "synth.h"

#include <string.h>

typedef struct WName { const char *s; uint16_t w; } WName;

static const WName SUR_KOREAN[] = {
	{ "金", 200 }, { "李", 160 }, { "朴", 80 }, { "崔", 60 }, { "郑", 40 }, { "姜", 30 },
	{ "赵", 25 }, { "尹", 20 }, { "张", 25 }, { "林", 15 }, { "韩", 20 }, { "吴", 15 },
	{ "申", 15 }, { "权", 12 }, { "黄", 12 }, { "安", 12 }, { "宋", 10 }, { "柳", 10 },
	{ "洪", 10 }, { "全", 12 }, { "高", 10 }, { "文", 10 }, { "孙", 8 }, { "梁", 8 },
	{ "裴", 8 }, { "白", 8 }, { "许", 8 }, { "南", 8 }, { "沈", 6 }, { "卢", 6 },
	{ "河", 4 }, { "丁", 5 }, { "成", 4 }, { "车", 5 }, { "具", 4 }, { "禹", 4 },
	{ "朱", 4 }, { "任", 4 }, { "罗", 4 }, { "辛", 3 }, { "闵", 3 }, { "陈", 3 },
	{ "池", 3 }, { "严", 3 }, { "元", 3 }, { "蔡", 3 }, { "千", 3 }, { "方", 3 },
	{ "孔", 2 }, { "玄", 3 }, { "咸", 2 }, { "卞", 2 }, { "廉", 2 }, { "杨", 3 },
	{ "边", 2 }, { "吕", 2 }, { "秋", 2 }, { "都", 2 }, { "石", 2 }, { "慎", 1 },
	{ "苏", 2 }, { "宣", 1 }, { "周", 2 }, { "薛", 1 }, { "马", 2 }, { "吉", 1 },
	{ "延", 1 }, { "表", 1 }, { "明", 1 }, { "奇", 1 }, { "潘", 1 }, { "王", 2 },
	{ "琴", 1 }, { "玉", 1 }, { "陆", 1 }, { "印", 1 }, { "孟", 1 }, { "诸", 1 },
	{ "卓", 1 }, { "鞠", 1 }, { "余", 1 }, { "秦", 1 }, { "鱼", 1 }, { "殷", 1 },
	{ "片", 1 }, { "庾", 1 }, { "龙", 1 }, { "太", 1 },
};

static const WName SUR_HAN[] = {
	{ "王", 70 }, { "李", 70 }, { "张", 65 }, { "刘", 55 }, { "陈", 25 }, { "杨", 25 },
	{ "赵", 30 }, { "黄", 10 }, { "周", 12 }, { "吴", 12 }, { "徐", 14 }, { "孙", 22 },
	{ "马", 15 }, { "朱", 10 }, { "胡", 10 }, { "郭", 12 }, { "何", 6 }, { "高", 15 },
	{ "林", 6 }, { "罗", 5 }, { "郑", 6 }, { "梁", 6 }, { "谢", 5 }, { "宋", 8 },
	{ "唐", 5 }, { "许", 6 }, { "韩", 10 }, { "冯", 7 }, { "邓", 4 }, { "曹", 7 },
	{ "彭", 3 }, { "曾", 2 }, { "肖", 5 }, { "田", 8 }, { "董", 9 }, { "袁", 4 },
	{ "潘", 4 }, { "于", 14 }, { "蒋", 3 }, { "蔡", 3 }, { "余", 2 }, { "杜", 6 },
	{ "叶", 2 }, { "程", 5 }, { "苏", 5 }, { "魏", 6 }, { "吕", 6 }, { "丁", 5 },
	{ "任", 6 }, { "沈", 4 }, { "姚", 4 }, { "卢", 4 }, { "姜", 8 }, { "崔", 6 },
	{ "钟", 2 }, { "谭", 3 }, { "陆", 2 }, { "汪", 2 }, { "范", 5 }, { "金", 5 },
	{ "石", 5 }, { "廖", 1 }, { "贾", 6 }, { "夏", 3 }, { "付", 6 }, { "方", 3 },
	{ "白", 5 }, { "邹", 2 }, { "孟", 5 }, { "熊", 2 }, { "秦", 3 }, { "邱", 2 },
	{ "江", 2 }, { "尹", 3 }, { "薛", 3 }, { "闫", 5 }, { "段", 3 }, { "雷", 2 },
	{ "侯", 4 }, { "史", 3 }, { "陶", 2 }, { "贺", 2 }, { "顾", 2 }, { "毛", 2 },
	{ "郝", 4 }, { "邵", 3 }, { "万", 2 }, { "钱", 2 }, { "严", 2 }, { "武", 3 },
	{ "孔", 3 }, { "汤", 1 }, { "关", 4 }, { "谷", 3 }, { "隋", 2 }, { "鲁", 2 },
	{ "常", 3 }, { "宫", 2 }, { "尚", 2 }, { "佟", 2 },
};

static const WName SUR_MANCHU[] = {
	{ "关", 30 }, { "那", 15 }, { "佟", 15 }, { "赵", 15 }, { "付", 10 }, { "肖", 8 },
	{ "郎", 8 }, { "金", 8 }, { "吴", 8 }, { "索", 5 }, { "伊", 3 }, { "白", 5 }, { "何", 5 },
};

static const WName SUR_HUI[] = {
	{ "马", 40 }, { "回", 5 }, { "白", 10 }, { "沙", 5 }, { "杨", 10 }, { "哈", 5 },
	{ "李", 10 }, { "金", 5 },
};

static const WName SUR_MONGOL[] = {
	{ "包", 20 }, { "白", 10 }, { "韩", 10 }, { "宝", 5 }, { "鲍", 5 },
};

static const struct { const WName *t; int n; } SURNAMES[ETH_COUNT] = {
	{ SUR_KOREAN, sizeof SUR_KOREAN / sizeof SUR_KOREAN[0] },
	{ SUR_HAN, sizeof SUR_HAN / sizeof SUR_HAN[0] },
	{ SUR_MANCHU, sizeof SUR_MANCHU / sizeof SUR_MANCHU[0] },
	{ SUR_HUI, sizeof SUR_HUI / sizeof SUR_HUI[0] },
	{ SUR_MONGOL, sizeof SUR_MONGOL / sizeof SUR_MONGOL[0] },
};

/* Given names: [style 0 Korean, 1 Han][sex 0 male, 1 female][generation: born <1970, 1970-1989, 1990-]. */
#define GN 20
static const char *const GIVEN[2][2][3][GN] = {
	{ /* Korean-Chinese */
	  { { "哲洙", "英浩", "成哲", "明哲", "光日", "永吉", "龙洙", "东哲", "永哲", "成日",
	      "昌浩", "正浩", "仁洙", "光洙", "龙浩", "万福", "文浩", "京浩", "相哲", "春吉" },
	    { "成龙", "哲男", "光哲", "永镇", "东旭", "成浩", "相浩", "光浩", "海龙", "龙哲",
	      "明日", "英哲", "在哲", "春雨", "东日", "俊哲", "成国", "贤洙", "文哲", "正日" },
	    { "敏俊", "俊浩", "在勋", "政勋", "成勋", "智勋", "贤宇", "承宇", "民浩", "东贤",
	      "俊熙", "宇镇", "泰民", "尚宇", "贤俊", "在贤", "浩然", "子豪", "宇轩", "俊杰" } },
	  { { "顺子", "英子", "春花", "贞淑", "明淑", "英姬", "顺姬", "贞姬", "玉顺", "福顺",
	      "英淑", "京子", "花子", "今顺", "正子", "春子", "玉子", "贞子", "善玉", "凤顺" },
	    { "美兰", "京花", "美善", "惠善", "美玉", "英兰", "春兰", "香兰", "美花", "贞花",
	      "恩姬", "善姬", "美英", "红梅", "海燕", "莲花", "丽华", "明花", "京淑", "顺女" },
	    { "秀贤", "恩惠", "智慧", "敏智", "多恩", "惠珍", "秀妍", "智妍", "瑞贤", "恩智",
	      "佳恩", "智媛", "丽娜", "艺琳", "欣妍", "雅琳", "书贤", "美娜", "贤珠", "恩彩" } } },
	{ /* Han and others */
	  { { "建国", "国庆", "建华", "立新", "卫东", "振华", "德明", "永福", "长林", "学文",
	      "玉山", "凤山", "宝山", "国华", "志刚", "文斌", "树森", "连生", "庆林", "广才" },
	    { "志强", "伟", "磊", "军", "勇", "涛", "明", "超", "刚", "海",
	      "宏伟", "国栋", "鹏", "辉", "亮", "斌", "东", "杰", "波", "峰" },
	    { "浩然", "子轩", "宇航", "文博", "一鸣", "梓豪", "俊熙", "博文", "天佑", "思远",
	      "子涵", "皓轩", "宇轩", "明轩", "睿", "泽宇", "晨阳", "家豪", "奕辰", "嘉懿" } },
	  { { "秀英", "桂兰", "玉兰", "淑珍", "凤芝", "秀兰", "桂芝", "玉珍", "淑兰", "素梅",
	      "翠花", "金凤", "玉芬", "淑华", "秀珍", "桂荣", "丽华", "凤琴", "春梅", "秀云" },
	    { "丽", "静", "敏", "艳", "红梅", "晓燕", "雪", "丹", "丽娜", "莉",
	      "婷", "娟", "霞", "颖", "洁", "秀丽", "海燕", "丽丽", "晶", "琳" },
	    { "欣怡", "梓涵", "雨桐", "子涵", "可馨", "诗涵", "思琪", "佳怡", "一诺", "雨萱",
	      "梦琪", "语嫣", "欣妍", "若曦", "紫涵", "雅琪", "佳琪", "心怡", "芷若", "梓萱" } } },
};

static const char *const ETHNICITY[ETH_COUNT] = { "朝鲜族", "汉族", "满族", "回族", "蒙古族" };

const char *names_ethnicity(int eth) { return ETHNICITY[eth]; }

uint16_t names_pick_surname(Rng *r, int eth)
{
	const WName *t = SURNAMES[eth].t;
	int n = SURNAMES[eth].n;
	uint32_t total = 0;
	for (int i = 0; i < n; i++)
		total += t[i].w;
	uint32_t x = rng_below(r, total);
	int i = 0;
	while (x >= t[i].w) {
		x -= t[i].w;
		i++;
	}
	return (uint16_t)((eth << 8) | i);
}

uint16_t names_pick_given(Rng *r, int eth, int sex, int birth_year)
{
	int style = eth == ETH_KOREAN ? 0 : 1;
	int gen = birth_year < 1970 ? 0 : birth_year < 1990 ? 1 : 2;
	/* a few older Korean-Chinese carry Han-style names and the other way round */
	if (rng_chance(r, 0.06))
		style = 1 - style;
	int table = (style * 2 + (sex - 1)) * 3 + gen;
	return (uint16_t)((table << 8) | rng_below(r, GN));
}

const char *names_surname(uint16_t code)
{
	return SURNAMES[code >> 8].t[code & 0xff].s;
}

const char *names_given(uint16_t code)
{
	int table = code >> 8;
	int gen = table % 3, sex = (table / 3) % 2, style = table / 6;
	return GIVEN[style][sex][gen][code & 0xff];
}

size_t names_full(char *buf, uint16_t surname, uint16_t given)
{
	const char *s = names_surname(surname), *g = names_given(given);
	size_t a = strlen(s), b = strlen(g);
	memcpy(buf, s, a);
	memcpy(buf + a, g, b);
	buf[a + b] = 0;
	return a + b;
}

/* Simplified -> traditional or variant forms seen in other agencies' systems. */
static const char *const VARIANTS[][2] = {
	{ "刘", "劉" }, { "国", "國" }, { "郑", "鄭" }, { "赵", "趙" }, { "张", "張" },
	{ "陈", "陳" }, { "吴", "吳" }, { "韩", "韓" }, { "卢", "盧" }, { "许", "許" },
	{ "权", "權" }, { "黄", "黃" }, { "孙", "孫" }, { "东", "東" }, { "龙", "龍" },
	{ "凤", "鳳" }, { "华", "華" }, { "兰", "蘭" }, { "顺", "順" }, { "哲", "喆" },
	{ "贤", "賢" }, { "丽", "麗" }, { "红", "紅" }, { "军", "軍" }, { "伟", "偉" },
	{ "庆", "慶" }, { "宝", "寶" }, { "学", "學" }, { "杰", "傑" }, { "刚", "剛" },
	{ "辉", "輝" }, { "鹏", "鵬" }, { "涛", "濤" }, { "荣", "榮" }, { "云", "雲" },
	{ "杨", "楊" }, { "马", "馬" }, { "边", "邊" }, { "闵", "閔" }, { "严", "嚴" },
	{ "车", "車" }, { "罗", "羅" }, { "苏", "蘇" }, { "鱼", "魚" }
};

bool names_variant(char *buf, size_t cap, const char *in, Rng *r, double p)
{
	size_t o = 0;
	bool changed = false;
	const char *s = in;
	while (*s) {
		size_t clen = 1;
		unsigned char c = (unsigned char)*s;
		if (c >= 0xf0)
			clen = 4;
		else if (c >= 0xe0)
			clen = 3;
		else if (c >= 0xc0)
			clen = 2;
		const char *rep = NULL;
		for (size_t k = 0; k < sizeof VARIANTS / sizeof VARIANTS[0]; k++) {
			if (strlen(VARIANTS[k][0]) == clen && memcmp(VARIANTS[k][0], s, clen) == 0) {
				if (rng_chance(r, p))
					rep = VARIANTS[k][1];
				break;
			}
		}
		const char *src = rep ? rep : s;
		size_t n = rep ? strlen(rep) : clen;
		if (o + n + 1 > cap)
			break;
		memcpy(buf + o, src, n);
		o += n;
		changed |= rep != NULL;
		s += clen;
	}
	buf[o] = 0;
	return changed;
}

/* Homophones: another character with the same toneless Mandarin reading, as an office writes
 * a name it heard (丽 / 莉, 浩 / 昊).  Every entry reads the same in ICU's Han-Latin. */
static const char *const HOMOPHONES[][4] = {
	{ "英", "莹", "瑛", NULL }, { "姬", "基", "继", NULL }, { "淑", "书", "舒", NULL },
	{ "顺", "舜", NULL, NULL }, { "玉", "钰", "雨", NULL }, { "子", "姿", "紫", NULL },
	{ "美", "梅", "玫", NULL }, { "兰", "岚", "蓝", NULL }, { "花", "华", NULL, NULL },
	{ "浩", "昊", "皓", NULL }, { "洙", "珠", "柱", NULL }, { "成", "城", "诚", NULL },
	{ "明", "铭", "鸣", NULL }, { "光", "广", NULL, NULL }, { "永", "勇", "咏", NULL },
	{ "龙", "隆", NULL, NULL }, { "东", "冬", NULL, NULL }, { "春", "纯", "淳", NULL },
	{ "建", "健", "剑", NULL }, { "伟", "玮", "炜", NULL }, { "丽", "莉", "俐", NULL },
	{ "静", "晶", "婧", NULL }, { "敏", "民", "珉", NULL }, { "秀", "绣", NULL, NULL },
	{ "贤", "娴", NULL, NULL }, { "珍", "贞", "真", NULL }, { "芝", "之", "枝", NULL },
	{ "燕", "艳", "雁", NULL }, { "俊", "骏", "峻", NULL }, { "惠", "慧", "蕙", NULL },
	{ "智", "志", NULL, NULL }, { "红", "虹", "宏", NULL }, { "军", "君", NULL, NULL },
	{ "刚", "钢", NULL, NULL }, { "涛", "韬", NULL, NULL }, { "杰", "洁", NULL, NULL },
	{ "峰", "锋", "丰", NULL }, { "波", "博", NULL, NULL }, { "磊", "蕾", NULL, NULL },
	{ "斌", "彬", NULL, NULL }, { "亮", "良", NULL, NULL }, { "辉", "晖", NULL, NULL },
	{ "鹏", "朋", NULL, NULL }, { "云", "芸", "韵", NULL }, { "福", "富", NULL, NULL },
	{ "镇", "振", NULL, NULL },
};

/* Korean-Chinese given names written from their Korean reading: another character read the
 * same in Korean (英 / 永 / 荣 are all 영) but not in Mandarin, so neither the characters nor
 * the pinyin agree. */
static const char *const KOREAN_READINGS[][4] = {
	{ "英", "永", "荣", NULL },	/* 영 */
	{ "姬", "熙", "喜", NULL },	/* 희 */
	{ "洙", "秀", "寿", NULL },	/* 수 */
	{ "浩", "镐", "虎", NULL },	/* 호 */
	{ "哲", "澈", "铁", NULL },	/* 철 */
	{ "顺", "淳", "纯", NULL },	/* 순 */
	{ "成", "星", "盛", NULL },	/* 성 */
	{ "玉", "沃", NULL, NULL },	/* 옥 */
	{ "子", "慈", NULL, NULL },	/* 자 */
	{ "美", "米", "微", NULL },	/* 미 */
	{ "贞", "正", NULL, NULL },	/* 정 */
	{ "日", "一", "逸", NULL },	/* 일 */
	{ "龙", "勇", "容", NULL },	/* 용 */
	{ "善", "仙", "先", NULL },	/* 선 */
	{ "恩", "银", "殷", NULL },	/* 은 */
	{ "贤", "铉", "玄", NULL },	/* 현 */
	{ "俊", "准", NULL, NULL },	/* 준 */
	{ "宇", "佑", "友", NULL },	/* 우 */
	{ "京", "庆", NULL, NULL },	/* 경 */
	{ "今", "琴", NULL, NULL },	/* 금 */
	{ "东", "童", "同", NULL },	/* 동 */
	{ "国", "菊", NULL, NULL },	/* 국 */
	{ "旭", "郁", NULL, NULL },	/* 욱 */
	{ "智", "池", NULL, NULL },	/* 지 */
};

/* The replacement of the character at s (clen bytes) in table t, or NULL. */
static const char *respell_char(const char *const (*t)[4], size_t nt, const char *s, size_t clen, Rng *r, double p)
{
	for (size_t k = 0; k < nt; k++) {
		if (strlen(t[k][0]) != clen || memcmp(t[k][0], s, clen) != 0)
			continue;
		if (!rng_chance(r, p))
			return NULL;
		int n = 1;
		while (n < 4 && t[k][n])
			n++;
		return t[k][1 + rng_below(r, (uint32_t)(n - 1))];
	}
	return NULL;
}

bool names_respell(char *buf, size_t cap, const char *given, bool korean, Rng *r, double p_homo, double p_korean)
{
	size_t o = 0;
	bool changed = false;
	for (const char *s = given; *s;) {
		unsigned char c = (unsigned char)*s;
		size_t clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		const char *rep = NULL;
		if (korean)
			rep = respell_char(KOREAN_READINGS, sizeof KOREAN_READINGS / sizeof KOREAN_READINGS[0], s, clen, r, p_korean);
		if (rep == NULL)
			rep = respell_char(HOMOPHONES, sizeof HOMOPHONES / sizeof HOMOPHONES[0], s, clen, r, p_homo);
		const char *src = rep ? rep : s;
		size_t n = rep ? strlen(rep) : clen;
		if (o + n + 1 > cap)
			break;
		memcpy(buf + o, src, n);
		o += n;
		changed |= rep != NULL;
		s += clen;
	}
	buf[o] = 0;
	return changed;
}
