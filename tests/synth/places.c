/*
 * places.c — the divisions the synthetic population lives in.
 *
 * Yanji (222401) with its six subdistricts (communities 001-199 only) and
 * four towns (communities and administrative villages 200-399), sized after
 * the 2020 census, plus one township in each other division of Yanbian for
 * the 4 % of register rows registered there.  The table does not depend on
 * the seed, so the reference list is the same for every run.
 */
#include "synth.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *code, *name; } COUNTIES[] = {
	{ "222401", "延吉市" }, { "222402", "图们市" }, { "222403", "敦化市" },
	{ "222404", "珲春市" }, { "222405", "龙井市" }, { "222406", "和龙市" },
	{ "222424", "汪清县" }, { "222426", "安图县" },
};

typedef struct TownDef {
	const char *code, *name;
	int county;
	double weight;          /* share of all register rows */
	int communities, villages;
} TownDef;

/* Yanji: 96 % of rows; shares after the 2020 census (about 563,000). */
static const TownDef TOWNS[] = {
	{ "222401001", "进学街道", 0, 0.1150, 12, 0 },
	{ "222401002", "北山街道", 0, 0.1820, 20, 0 },
	{ "222401003", "新兴街道", 0, 0.1150, 13, 0 },
	{ "222401004", "公园街道", 0, 0.1250, 15, 0 },
	{ "222401005", "河南街道", 0, 0.1820, 20, 0 },
	{ "222401006", "建工街道", 0, 0.1250, 14, 0 },
	{ "222401100", "小营镇", 0, 0.0340, 2, 14 },
	{ "222401101", "依兰镇", 0, 0.0240, 1, 16 },
	{ "222401102", "三道湾镇", 0, 0.0120, 1, 9 },
	{ "222401105", "朝阳川镇", 0, 0.0460, 3, 20 },
	/* the rest of Yanbian: 4 % */
	{ "222402001", "向上街道", 1, 0.0080, 2, 0 },
	{ "222403001", "胜利街道", 2, 0.0060, 2, 0 },
	{ "222404001", "靖和街道", 3, 0.0050, 2, 0 },
	{ "222405100", "东盛涌镇", 4, 0.0090, 1, 2 },
	{ "222406001", "民惠街道", 5, 0.0050, 2, 0 },
	{ "222424100", "汪清镇", 6, 0.0040, 1, 2 },
	{ "222426100", "明月镇", 7, 0.0030, 1, 2 },
};

static const char *const COMMUNITY_NAMES[] = {
	"丹英", "民昌", "园辉", "天池", "长白", "延新", "新民", "和平", "繁荣", "春光",
	"新风", "爱丹", "白川", "红光", "团结", "建设", "向阳", "东盛", "西园", "南山",
	"光明", "新华", "丹岭", "延青", "布尔哈通", "海兰", "延西", "延东", "延南", "延北",
	"局子街", "光新", "明珠", "金桥", "银河", "春华", "秋实", "松林", "桦林", "柳荫",
	"梨花", "杏林", "梅园", "兰亭", "锦绣", "富民", "安民", "惠民", "利民", "兴业",
	"振兴", "朝阳", "晨曦", "太阳", "月光", "星光", "彩虹", "百合", "牡丹", "金达莱",
	"阿里郎", "帽儿山", "烟集", "开发区", "工业", "新丰", "永丰", "丰收", "益民", "爱民",
	"亲民", "顺民", "新村", "滨河", "沿江", "江南", "江北", "河东", "河西", "北大",
	"龙门", "青年", "胜利", "建华", "前进", "先锋", "育才", "文化", "友谊", "人民",
	"和谐", "幸福", "康乐", "吉祥", "如意", "丽园", "美林", "水榭", "花园", "绿洲",
	"翠苑", "馨园", "雅居", "新苑", "春城", "东光", "北兴", "龙山", "烟厂", "公园",
	"新兴", "河南", "建工", "进学", "北山", "小营", "依兰", "三道", "朝阳川", "图们江",
	"月宫", "民主", "靖和", "安民街", "民惠", "汪清", "明月",
};

static const char *const VILLAGE_NAMES[] = {
	"五凤", "吉兴", "东光", "新丰", "兴安", "柳洞", "太阳", "长新", "勤俭", "龙渊",
	"合成", "仁坪", "小营", "平峰", "依兰", "春兴", "中兴", "兴隆", "长兴", "东新",
	"新兴", "英城", "河龙", "光新", "鲜明", "明新", "岩新", "春光", "烟集", "三道湾",
	"东沟", "西沟", "柳树", "石头", "吉成", "长安", "荣光", "水南", "朝阳川", "八道",
	"太兴", "龙峰", "明星", "丰产", "新东", "双龙", "安化", "花莲", "荣成", "兴农",
	"龙门", "丰收", "西城", "北兴", "永新", "大成", "和平", "光明", "新华", "东盛",
	"富裕", "靠山", "泉水", "北沟", "南沟", "江东", "龙头", "仁化", "德新", "福洞",
};

static const char *const ROADS[] = {
	"光明街", "局子街", "人民路", "新华街", "友谊路", "长白山路", "天池路", "延吉大路",
	"河南街", "参花街", "公园路", "爱丹路", "延西路", "和平路", "进学街", "北大街",
	"新兴街", "建工街", "丹英街", "朝阳街", "太平街", "海兰路", "布尔哈通路", "烟集路",
	"民安路", "延春路", "天山路", "解放路", "新民街", "白川街",
};

#define MAX_DIV 512

static Division g_div[MAX_DIV];
static int g_ndiv;
static int g_units[MAX_DIV];
static int g_nunits;
static bool g_ready;

static uint32_t hash32(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void places_init(void)
{
	if (g_ready)
		return;
	size_t ci = 0, vi = 0;
	for (size_t t = 0; t < sizeof TOWNS / sizeof TOWNS[0]; t++) {
		const TownDef *td = &TOWNS[t];
		int ti = g_ndiv++;
		Division *tw = &g_div[ti];
		snprintf(tw->code, sizeof tw->code, "%s", td->code);
		snprintf(tw->name, sizeof tw->name, "%s", td->name);
		tw->level = LV_TOWNSHIP;
		tw->township = ti;
		tw->county = td->county;
		int first = g_ndiv;
		double wsum = 0;
		for (int k = 0; k < td->communities + td->villages; k++) {
			bool village = k >= td->communities;
			Division *u = &g_div[g_ndiv];
			int num = village ? 200 + (k - td->communities) : 1 + k;
			snprintf(u->code, sizeof u->code, "%s%03d", td->code, num);
			if (village)
				snprintf(u->name, sizeof u->name, "%s村",
					 VILLAGE_NAMES[vi++ % (sizeof VILLAGE_NAMES / sizeof VILLAGE_NAMES[0])]);
			else
				snprintf(u->name, sizeof u->name, "%s社区",
					 COMMUNITY_NAMES[ci++ % (sizeof COMMUNITY_NAMES / sizeof COMMUNITY_NAMES[0])]);
			u->level = village ? LV_VILLAGE : LV_COMMUNITY;
			u->township = ti;
			u->county = td->county;
			uint32_t h = hash32(u->code);
			u->weight = (0.6 + (double)(h % 81) / 100.0) * (village ? 0.45 : 1.0);
			u->collective = village && (h >> 8) % 100 < 55;
			u->collective_yuan = u->collective ? 50 + (int)((h >> 16) % 6) * 30 : 0;
			wsum += u->weight;
			g_units[g_nunits++] = g_ndiv;
			g_ndiv++;
		}
		for (int k = first; k < g_ndiv; k++)
			g_div[k].weight = g_div[k].weight / wsum * td->weight;
	}
	g_ready = true;
}

int places_count(void) { return g_ndiv; }
const Division *places_get(int i) { return &g_div[i]; }
int places_unit_count(void) { return g_nunits; }
int places_unit(int k) { return g_units[k]; }
const char *places_county_code(int county) { return COUNTIES[county].code; }
const char *places_county_name(int county) { return COUNTIES[county].name; }
bool places_in_city(int div) { return g_div[div].county == 0; }

void places_address(char *buf, size_t cap, int unit, Rng *r)
{
	const Division *u = &g_div[unit];
	const Division *t = &g_div[u->township];
	const char *county = COUNTIES[u->county].name;
	if (u->level == LV_VILLAGE) {
		snprintf(buf, cap, "%s%s%s%d组%d号", county, t->name, u->name,
			 rng_range(r, 1, 9), rng_range(r, 1, 120));
		return;
	}
	uint32_t h = hash32(u->code);
	const char *road = ROADS[(h + rng_below(r, 3) * 7) % (sizeof ROADS / sizeof ROADS[0])];
	if (rng_chance(r, 0.8))
		snprintf(buf, cap, "%s%s%s%s%d号%d-%d-%d", county, t->name, u->name, road,
			 rng_range(r, 1, 899), rng_range(r, 1, 12), rng_range(r, 1, 6),
			 rng_range(r, 1, 7) * 100 + rng_range(r, 1, 4));
	else
		snprintf(buf, cap, "%s%s%s%s%d号", county, t->name, u->name, road, rng_range(r, 1, 899));
}
