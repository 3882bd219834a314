/*
 * test_pieces.c
 *     Unit tests for reading a delivery with several threads (engine/load.c): a large JSON
 *     Lines or fixed-width file cut into pieces after line ends, parsed by several threads and
 *     merged in order, must give exactly what one thread reading it whole gives.  Random files
 *     full of what makes pieces hard -- a BOM, CRLF, blank lines, lines longer than the record
 *     limit (cut inside a piece or across several), malformed JSON, IDs for repair, duplicates,
 *     no line end at the end, gzip -- are read with 1 thread and with 2 and 3 threads in tiny
 *     pieces; every count, reject, pending record and fact must agree.  A truncated gzip file
 *     gives the same error.  With history = latest the same files keep, per person, the latest
 *     fact on or before the as-of date and the latest after it (the first in record order among
 *     equal dates), whatever the threads and pieces, with the same counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "load.h"
#include "log.h"
#include "sourcedef.h"
#include "store.h"
#include "time_limit.h"

#define ID1 "11010519491231002X"
#define ID2 "222401198503150017"
#define ID3 "222401199001010027"
#define ID2_TYPO "222401198503150018"

static const char JSONL_DEF[] =
	"[source]\nname = claims\nfact = medical_claim\nfiles = claims_*.jsonl*\nformat = jsonl\n"
	"max_record_bytes = 64\n"
	"[fields]\nid_number = id | idnum\ndate = t | date\namount = a | money\nname = n | name\n";

static const char FIXED_DEF[] =
	"[source]\nname = fund\nfact = provident_fund\nfiles = fund_*.dat\nformat = fixed\n"
	"max_record_bytes = 64\n"
	"[fields]\nid_number = 1-18 | idnum\nmonth = 19-24 | month\namount = 25-34 | money\n";

static char dir[256];
static uint64_t seed = 0x2545F4914F6CDD1Dull;

static unsigned
rnd(unsigned n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned) (seed % n);
}

static void
write_bytes(const char *name, const char *data, size_t len, bool gzip)
{
	char		path[512];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (gzip)
	{
		gzFile		g = gzopen(path, "wb");

		assert_non_null(g);
		assert_int_equal(gzwrite(g, data, (unsigned) len), (int) len);
		gzclose(g);
		return;
	}
	FILE	   *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
remove_all(void)
{
	static const char *names[] = {"claims_1.jsonl", "claims_2.jsonl.gz", "fund_1.dat", NULL};
	char		path[512];

	for (int i = 0; names[i]; i++)
	{
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
}

/* A random JSON Lines file of about n lines. */
static size_t
make_jsonl(char *out, size_t cap, int n)
{
	static const char *ids[] = {ID1, ID2, ID3, ID2_TYPO, "12345"};
	size_t		o = 0;

	if (rnd(3) == 0)
		o += (size_t) snprintf(out + o, cap - o, "\xEF\xBB\xBF");
	for (int i = 0; i < n && o + 300 < cap; i++)
	{
		const char *eol = rnd(4) == 0 ? "\r\n" : "\n";

		switch (rnd(12))
		{
		case 0:
			o += (size_t) snprintf(out + o, cap - o, "%s", rnd(2) ? "\n" : "  \t\r\n");
			break;
		case 1:					/* longer than the limit of 64 */
			{
				int			k = 60 + (int) rnd(200);

				o += (size_t) snprintf(out + o, cap - o, "{\"id\":\"%s\",\"n\":\"", ID1);
				for (int j = 0; j < k; j++)
					out[o++] = 'x';
				o += (size_t) snprintf(out + o, cap - o, "\"}%s", eol);
				break;
			}
		case 2:
			o += (size_t) snprintf(out + o, cap - o, "{\"id\":\"%s\",\"t\":%s", ID2, eol);
			break;
		case 3:					/* a BOM inside the file is no BOM: a bad line */
			o += (size_t) snprintf(out + o, cap - o, "\xEF\xBB\xBF{\"id\":\"%s\"}%s", ID3, eol);
			break;
		default:
			o += (size_t) snprintf(out + o, cap - o,
								   "{\"id\":\"%s\",\"t\":\"2024-0%u-1%u\",\"a\":%u.5,\"n\":\"张%u\"}%s",
								   ids[rnd(5)], 1 + rnd(9), rnd(10), rnd(4), rnd(3), eol);
			break;
		}
	}
	if (rnd(2) && o > 0 && out[o - 1] == '\n')
		o -= (o > 1 && out[o - 2] == '\r') ? 2 : 1;	/* no line end at the end */
	return o;
}

static size_t
make_fixed(char *out, size_t cap, int n)
{
	static const char *ids[] = {ID1, ID2, ID3, ID2_TYPO, "123456789012345678"};
	size_t		o = 0;

	for (int i = 0; i < n && o + 300 < cap; i++)
	{
		if (rnd(10) == 0)
		{
			int			k = 50 + (int) rnd(150);

			for (int j = 0; j < k; j++)
				out[o++] = rnd(8) ? '9' : ' ';
			out[o++] = '\n';
			continue;
		}
		o += (size_t) snprintf(out + o, cap - o, "%s2024%02u%10u%s", ids[rnd(5)], 1 + rnd(13),
							   rnd(100000), rnd(5) ? "\n" : "\r\n");
	}
	return o;
}

/* Everything a load produced, as text; facts in (file, record, sub) order. */
static int
cmp_fact(const void *a, const void *b)
{
	const Fact *x = a,
			   *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->record != y->record)
		return x->record < y->record ? -1 : 1;
	return (x->sub > y->sub) - (x->sub < y->sub);
}

static char *
load_text_asof(const SourceDef *defs, int ndefs, int threads, size_t piece, Day asof, CbError *err,
			   bool *ok, Vec *facts)
{
	Store		st;
	LoadReport	rep;
	size_t		cap = 1 << 20, n = 0;
	char	   *out = malloc(cap);

	assert_non_null(out);
	store_init(&st);
	load_set_piece_bytes(piece);
	memset(err, 0, sizeof *err);
	*ok = load_delivery_asof(&st, defs, ndefs, dir, false, threads, asof, &rep, err);
	load_set_piece_bytes(0);
#define OUT(...) do { if (n + 16384 > cap) { cap *= 2; out = realloc(out, cap); assert_non_null(out); } \
					  n += (size_t) snprintf(out + n, cap - n, __VA_ARGS__); } while (0)
	if (!*ok)
		OUT("error: %s: %s\n", err->input_at, err->message);
	else
	{
		for (size_t i = 0; i < st.files.len; i++)
		{
			const SourceFile *sf = &VEC_AT(&st.files, SourceFile, i);

			OUT("file %s %llu %llu %llu %llu %llu %s\n", sf->name, (unsigned long long) sf->size,
				(unsigned long long) sf->read, (unsigned long long) sf->accepted,
				(unsigned long long) sf->duplicates, (unsigned long long) sf->rejected, sf->sha256);
		}
		for (size_t i = 0; i < st.rejects.len; i++)
		{
			const Reject *r = &VEC_AT(&st.rejects, Reject, i);

			OUT("reject %u %llu %llu %llu %s | %s\n", r->file, (unsigned long long) r->record_no,
				(unsigned long long) r->line_no, (unsigned long long) r->byte_offset, r->reason,
				r->raw);
		}
		for (size_t i = 0; i < rep.pending.len; i++)
		{
			const PendingRecord *p = &VEC_AT(&rep.pending, PendingRecord, i);

			OUT("pending %u %llu %llu %llu %d %016llx %s %s\n", p->file,
				(unsigned long long) p->fact.record, (unsigned long long) p->line_no,
				(unsigned long long) p->byte_offset, p->resolved, (unsigned long long) p->hash,
				p->id_chars ? p->id_chars : "-", p->name ? p->name : "-");
		}
		qsort(st.facts.data, st.facts.len, sizeof(Fact), cmp_fact);
		for (size_t i = 0; i < st.facts.len; i++)
		{
			const Fact *f = &VEC_AT(&st.facts, Fact, i);

			OUT("fact %u %llu %u %llu %d %d %lld %lld %u\n", f->file, (unsigned long long) f->record,
				f->sub, (unsigned long long) f->person, f->d1, f->d2, (long long) f->amount,
				(long long) f->amount2, f->code);
		}
		OUT("bytes %llu\n", (unsigned long long) rep.bytes);
		if (facts)
		{
			*facts = st.facts;
			vec_init(&st.facts, sizeof(Fact));
		}
	}
#undef OUT
	load_report_free(&rep);
	store_free(&st);
	return out;
}

static char *
load_text(const SourceDef *defs, int ndefs, int threads, size_t piece, CbError *err, bool *ok)
{
	return load_text_asof(defs, ndefs, threads, piece, DAY_NONE, err, ok, NULL);
}

static void
parse_defs(SourceDef defs[2])
{
	CbError		err;

	memset(&err, 0, sizeof err);
	if (!sourcedef_parse("claims.conf", JSONL_DEF, strlen(JSONL_DEF), &defs[0], &err) ||
		!sourcedef_parse("fund.conf", FIXED_DEF, strlen(FIXED_DEF), &defs[1], &err))
		fail_msg("%s: %s", err.input_at, err.message);
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void) state;
	snprintf(dir, sizeof dir, "%s/test_pieces_XXXXXX", t && *t ? t : P_tmpdir);
	assert_non_null(mkdtemp(dir));
	log_init(true);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	remove_all();
	rmdir(dir);
	return 0;
}

static void
test_pieces_agree(void **state)
{
	static char a[200000], b[200000], c[200000];
	SourceDef	defs[2];
	CbError		err;
	bool		ok;

	(void) state;
	parse_defs(defs);
	int			rounds = (int) test_work(40, 8);

	for (int round = 0; round < rounds; round++)
	{
		size_t		na = make_jsonl(a, sizeof a, 50 + (int) rnd(1500)),
					nb = make_jsonl(b, sizeof b, 50 + (int) rnd(800)),
					nc = make_fixed(c, sizeof c, 50 + (int) rnd(800));

		remove_all();
		write_bytes("claims_1.jsonl", a, na, false);
		write_bytes("claims_2.jsonl.gz", b, nb, true);
		write_bytes("fund_1.dat", c, nc, false);
		char	   *whole = load_text(defs, 2, 1, 0, &err, &ok);

		if (!ok)
			fail_msg("round %d: %s", round, whole);
		for (int threads = 2; threads <= 3; threads++)
		{
			size_t		piece = 69 + rnd(400);
			char	   *cut = load_text(defs, 2, threads, piece, &err, &ok);

			if (strcmp(whole, cut) != 0)
			{
				size_t		k = 0;

				while (whole[k] && whole[k] == cut[k])
					k++;
				while (k > 0 && whole[k - 1] != '\n')
					k--;
				fail_msg("round %d, %d threads, pieces of %zu bytes: differs at\n"
						 "whole: %.300s\npieces: %.300s", round, threads, piece, whole + k, cut + k);
			}
			free(cut);
		}
		free(whole);
	}
	sourcedef_free(&defs[0]);
	sourcedef_free(&defs[1]);
}

static void
test_truncated_gzip_same_error(void **state)
{
	static char a[400000];
	SourceDef	defs[2];
	CbError		err;
	bool		ok;
	char		path[512];

	(void) state;
	parse_defs(defs);
	remove_all();
	size_t		na = make_jsonl(a, sizeof a, 3000);

	write_bytes("claims_2.jsonl.gz", a, na, true);
	snprintf(path, sizeof path, "%s/claims_2.jsonl.gz", dir);
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size / 2), 0);
	char	   *whole = load_text(defs, 1, 1, 0, &err, &ok);

	assert_false(ok);
	assert_non_null(strstr(whole, "truncated gzip"));
	char	   *cut = load_text(defs, 1, 2, 200, &err, &ok);

	assert_false(ok);
	assert_string_equal(whole, cut);
	free(whole);
	free(cut);
	sourcedef_free(&defs[0]);
	sourcedef_free(&defs[1]);
}

/* The definitions with history = latest. */
static void
parse_latest_defs(SourceDef defs[2])
{
	char		a[sizeof JSONL_DEF + 32],
				b[sizeof FIXED_DEF + 32];
	CbError		err;

	memset(&err, 0, sizeof err);
	/* both begin with "[source]\n": the key goes right after it */
	snprintf(a, sizeof a, "[source]\nhistory = latest\n%s", JSONL_DEF + 9);
	snprintf(b, sizeof b, "[source]\nhistory = latest\n%s", FIXED_DEF + 9);
	if (!sourcedef_parse("claims.conf", a, strlen(a), &defs[0], &err) ||
		!sourcedef_parse("fund.conf", b, strlen(b), &defs[1], &err))
		fail_msg("%s: %s", err.input_at, err.message);
	assert_int_equal(defs[0].history, HISTORY_LATEST);
	assert_int_equal(defs[1].history, HISTORY_LATEST);
}

/* The counts (and rejects, pending records) of a load: its text up to the facts. */
static size_t
head_len(const char *text)
{
	const char *f = strstr(text, "\nfact ");

	return f ? (size_t) (f - text) : strlen(text);
}

static bool
side(const Fact *f, int32_t limit_day, int32_t limit_month)
{
	return f->d1 > (f->kind == FK_PROVIDENT_FUND ? limit_month : limit_day);
}

static void
test_history_latest(void **state)
{
	static char a[200000], b[200000], c[200000];
	SourceDef	all[2],
				latest[2];
	CbError		err;
	bool		ok;
	Day			asof = date_from_ymd(2024, 5, 10);
	int32_t		asof_month = date_month_of(asof);

	(void) state;
	parse_defs(all);
	parse_latest_defs(latest);
	int			rounds = (int) test_work(12, 4);

	for (int round = 0; round < rounds; round++)
	{
		size_t		na = make_jsonl(a, sizeof a, 200 + (int) rnd(1500)),
					nb = make_jsonl(b, sizeof b, 50 + (int) rnd(800)),
					nc = make_fixed(c, sizeof c, 200 + (int) rnd(800));
		Vec			fa,
					fl;

		remove_all();
		write_bytes("claims_1.jsonl", a, na, false);
		write_bytes("claims_2.jsonl.gz", b, nb, true);
		write_bytes("fund_1.dat", c, nc, false);
		char	   *every = load_text_asof(all, 2, 1, 0, asof, &err, &ok, &fa);

		assert_true(ok);
		char	   *kept = load_text_asof(latest, 2, 1, 0, asof, &err, &ok, &fl);

		assert_true(ok);
		/* the same counts, rejects and pending records; fewer facts */
		assert_int_equal(head_len(every), head_len(kept));
		assert_memory_equal(every, kept, head_len(every));
		assert_true(fl.len < fa.len);
		/* without an as-of date (check-extracts, explain) every fact stays */
		char	   *nodate = load_text_asof(latest, 2, 1, 0, DAY_NONE, &err, &ok, NULL);

		assert_string_equal(every, nodate);
		free(nodate);

		const Fact *A = fa.data,
				   *L = fl.data;

		/* every kept fact is one of all the facts (both sorted by file, record, sub) */
		for (size_t i = 0, j = 0; i < fl.len; i++)
		{
			while (j < fa.len && cmp_fact(&A[j], &L[i]) < 0)
				j++;
			assert_true(j < fa.len && memcmp(&A[j], &L[i], sizeof(Fact)) == 0);
		}
		/* for every fact: the kept ones of its person, kind and side of the as-of date include
		 * one with the latest date, the first of all the facts with it; undated facts stay; a
		 * fund record (never pending) is kept once per person and side */
		for (size_t i = 0; i < fa.len; i++)
		{
			const Fact *x = &A[i];
			const Fact *first = NULL;
			size_t		same_side = 0;
			bool		found = false;

			if (x->d1 == DAY_NONE)
			{
				for (size_t j = 0; j < fl.len && !found; j++)
					found = memcmp(&L[j], x, sizeof(Fact)) == 0;
				assert_true(found);
				continue;
			}
			for (size_t j = 0; j < fa.len; j++)
				if (A[j].person == x->person && A[j].kind == x->kind && A[j].d1 != DAY_NONE &&
					side(&A[j], asof, asof_month) == side(x, asof, asof_month) &&
					(first == NULL || A[j].d1 > first->d1))
					first = &A[j];
			for (size_t j = 0; j < fl.len; j++)
				if (L[j].person == x->person && L[j].kind == x->kind && L[j].d1 != DAY_NONE &&
					side(&L[j], asof, asof_month) == side(x, asof, asof_month))
				{
					same_side++;
					found |= memcmp(&L[j], first, sizeof(Fact)) == 0;
				}
			assert_true(found);
			if (x->kind == FK_PROVIDENT_FUND)
				assert_int_equal(same_side, 1);
		}
		/* the same whatever the threads and pieces */
		for (int threads = 2; threads <= 3; threads++)
		{
			char	   *cut = load_text_asof(latest, 2, threads, 69 + rnd(400), asof, &err, &ok, NULL);

			assert_true(ok);
			assert_string_equal(kept, cut);
			free(cut);
		}
		free(every);
		free(kept);
		vec_free(&fa);
		vec_free(&fl);
	}
	for (int k = 0; k < 2; k++)
	{
		sourcedef_free(&all[k]);
		sourcedef_free(&latest[k]);
	}
}

/* The records of a line-format file, estimated from the line ends in its first MiB: exact for a
 * short file, plain or gzip; within 1 % for a long one of even lines; 0 with no line end and for
 * a file that is not there. */
static void
test_estimate_records(void **state)
{
	(void) state;
	enum {LINE = 100, LINES = 40000};
	char	   *data = malloc((size_t) LINE * LINES);
	char		path[512];

	assert_non_null(data);
	for (int i = 0; i < LINES; i++)
	{
		memset(data + (size_t) i * LINE, 'a' + i % 26, LINE - 1);
		data[(size_t) i * LINE + LINE - 1] = '\n';
	}
	write_bytes("claims_1.jsonl", data, (size_t) 3 * LINE, false);
	snprintf(path, sizeof path, "%s/claims_1.jsonl", dir);
	assert_int_equal(load_estimate_records(path, 3 * LINE), 4);
	write_bytes("claims_2.jsonl.gz", data, (size_t) 3 * LINE, true);
	snprintf(path, sizeof path, "%s/claims_2.jsonl.gz", dir);
	assert_int_equal(load_estimate_records(path, 3 * LINE), 4);

	const uint64_t bytes = (uint64_t) LINE * LINES;

	for (int gz = 0; gz < 2; gz++)
	{
		const char *name = gz ? "claims_2.jsonl.gz" : "claims_1.jsonl";

		write_bytes(name, data, (size_t) bytes, gz);
		snprintf(path, sizeof path, "%s/%s", dir, name);
		uint64_t	n = load_estimate_records(path, bytes);

		assert_in_range(n, LINES - LINES / 100, LINES + LINES / 100);
	}
	memset(data, 'x', 4096);
	write_bytes("claims_1.jsonl", data, 4096, false);
	snprintf(path, sizeof path, "%s/claims_1.jsonl", dir);
	assert_int_equal(load_estimate_records(path, 4096), 0);
	snprintf(path, sizeof path, "%s/no_such_file.jsonl", dir);
	assert_int_equal(load_estimate_records(path, 4096), 0);
	free(data);
	remove_all();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces_agree),
		cmocka_unit_test(test_truncated_gzip_same_error),
		cmocka_unit_test(test_history_latest),
		cmocka_unit_test(test_estimate_records),
	};

	return cmocka_run_group_tests_name("reading in pieces", tests, setup, teardown);
}
