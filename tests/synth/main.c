/*
 * main.c — synth: the synthetic Yanji delivery and its truth.
 *
 *   synth --persons N --seed S --asof YYYY-MM-DD --out DIR [--noise LEVEL]
 *
 * Writes DIR/extracts/ (one file per agency source, as the agencies drop
 * them), DIR/truth/ (one CSV per list of SPEC.md, counts.csv, and at noise
 * > 0 hidden_links.csv) and a summary on stderr.  Same arguments, same bytes.
 */
#define _POSIX_C_SOURCE 200809L

#include "synth.h"
#include "truth.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *f)
{
	fputs("usage: synth --persons N --seed S --asof YYYY-MM-DD --out DIR [--noise LEVEL]\n"
	      "             [--xlsx-part-rows N]\n"
	      "\n"
	      "Generate a synthetic Yanji population of N register rows, every agency\n"
	      "extract for the as-of date, and the truth of every list of SPEC.md.\n"
	      "\n"
	      "  --persons N     register rows to generate (1 .. 100000000)\n"
	      "  --seed S        seed (unsigned 64-bit); same arguments, same bytes\n"
	      "  --asof DATE     the as-of date D (2012-01-01 .. 2099-12-31)\n"
	      "  --out DIR       output folder; writes DIR/extracts and DIR/truth\n"
	      "  --noise LEVEL   identity noise, 0 (default) .. 10: ID typos, missing IDs,\n"
	      "                  variant characters, date slips, namesakes of the dead\n"
	      "  --xlsx-part-rows N  an Excel source goes on in a further workbook\n"
	      "                  (name_D_2.xlsx, ...) after N records (50 .. 1000000;\n"
	      "                  default 1000000, below the 1,048,576 rows of a sheet)\n"
	      "  --help          this text\n", f);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool make_dir(const char *path)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	fprintf(stderr, "synth: could not create folder \"%s\": %s\n", path, strerror(errno));
	return false;
}

/* Remove what an earlier run wrote (our stems only), so that the globs of
 * the definitions never see a stale file of another as-of date. */
static void clean_dir(const char *dir, bool truth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		bool ours = false;
		if (truth) {
			size_t n = strlen(e->d_name);
			ours = n > 4 && strcmp(e->d_name + n - 4, ".csv") == 0;
		} else {
			for (int i = 0; i < SRC_COUNT && !ours; i++) {
				size_t n = strlen(SOURCES[i].stem);
				ours = strncmp(e->d_name, SOURCES[i].stem, n) == 0 &&
				       (e->d_name[n] == '_' || e->d_name[n] == '.');
			}
		}
		if (ours) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			remove(path);
		}
	}
	closedir(d);
}

/* The place that issued the person's ID: mostly Yanji; people who moved in
 * carry numbers from elsewhere in Yanbian, Jilin or other provinces. */
static int issue_place(const Person *p, int county, Rng *r)
{
	double u = rng_unit(r);
	if (p->out_of_city) {
		if (u < 0.85)
			return idnum_place_of_county(county);
		if (u < 0.95)
			return 0;
		return 8 + (int)rng_below(r, (uint32_t)(idnum_place_count() - 8));
	}
	double native = date_year(p->birth) >= 1995 ? 0.96 : 0.86;
	if (u < native)
		return 0;
	if (u < native + (1 - native) * 0.6)
		return 1 + (int)rng_below(r, 7);
	return 8 + (int)rng_below(r, (uint32_t)(idnum_place_count() - 8));
}

/* Every file of every source with its counts (an XLSX source in parts has
 * one per part), in the order of their names.  NULL when out of memory. */
static struct SinkFile *all_files(const Gen *g, int *n)
{
	int k = 0;
	for (int i = 0; i < SRC_COUNT; i++)
		k += g->sinks[i].nparts + 1;
	struct SinkFile *f = calloc((size_t)k, sizeof *f);
	if (!f)
		return NULL;
	*n = 0;
	for (int i = 0; i < SRC_COUNT; i++) {
		const Sink *s = &g->sinks[i];
		for (int p = 0; p < s->nparts; p++)
			f[(*n)++] = s->parts[p];
		struct SinkFile *c = &f[(*n)++];
		memcpy(c->file, s->file, sizeof c->file);
		c->records = s->records;
		c->malformed = s->malformed;
		c->duplicates = s->duplicates;
	}
	for (int i = 1; i < *n; i++)
		for (int j = i; j > 0 && strcmp(f[j - 1].file, f[j].file) > 0; j--) {
			struct SinkFile t = f[j];
			f[j] = f[j - 1];
			f[j - 1] = t;
		}
	return f;
}

static bool write_counts(Gen *g, const char *truth_dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/counts.csv", truth_dir);
	int n;
	struct SinkFile *files = all_files(g, &n);
	FILE *f = files ? fopen(path, "wb") : NULL;
	if (!f) {
		fprintf(stderr, "synth: could not create \"%s\": %s\n", path, strerror(files ? errno : ENOMEM));
		free(files);
		return false;
	}
	fprintf(f, "file,records,malformed,duplicates\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s,%llu,%llu,%llu\n", files[i].file, (unsigned long long)files[i].records,
			(unsigned long long)files[i].malformed, (unsigned long long)files[i].duplicates);
	free(files);
	return fclose(f) == 0;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void summary(Gen *g, Truth *t, double secs)
{
	const Stats *st = &g->st;
	double n = st->persons ? (double)st->persons : 1;
	fprintf(stderr, "synth: %llu persons in %llu households (%.2f per household), D = %s, seed %llu, noise %g\n",
		(unsigned long long)st->persons, (unsigned long long)st->households, n / (st->households ? st->households : 1),
		g->tag, (unsigned long long)g->seed, g->noise);
	fprintf(stderr, "  in Yanji %.1f %%, elsewhere in Yanbian %.1f %%; Korean-Chinese %.1f %%; male %.1f %%\n",
		100 * st->in_city / n, 100 * st->out_of_city / n, 100 * st->korean / n, 100 * st->male / n);
	fprintf(stderr, "  ages 0-15 %.1f %%, 16-59 %.1f %%, 60-79 %.1f %%, 80+ %.1f %%\n",
		100 * st->age_band[0] / n, 100 * st->age_band[1] / n, 100 * st->age_band[2] / n, 100 * st->age_band[3] / n);
	fprintf(stderr, "  died in the last 3 years %llu (known to some agency %llu, register cancelled %llu); moved out %llu; abroad %llu\n",
		(unsigned long long)st->dead, (unsigned long long)st->dead_known, (unsigned long long)st->cancelled_death,
		(unsigned long long)st->moved_out, (unsigned long long)st->abroad);
	fprintf(stderr, "  resident pension: contributing %llu, receiving %llu, suspended %llu, terminated %llu\n",
		(unsigned long long)st->rp[RP_CONTRIB], (unsigned long long)st->rp[RP_RECEIV],
		(unsigned long long)st->rp[RP_SUSP], (unsigned long long)st->rp[RP_TERM]);
	fprintf(stderr, "  boundary scenarios placed: %llu of %d\n", (unsigned long long)st->scenarios_applied, scenario_count());
	fprintf(stderr, "  extracts (records / malformed / duplicates):\n");
	int nf = 0;
	struct SinkFile *files = all_files(g, &nf);
	for (int i = 0; i < nf; i++)
		fprintf(stderr, "    %-40s %10llu %5llu %5llu\n", files[i].file, (unsigned long long)files[i].records,
			(unsigned long long)files[i].malformed, (unsigned long long)files[i].duplicates);
	free(files);
	fprintf(stderr, "  truth (rows):\n");
	for (int i = 0; i < truth_list_count(); i++)
		fprintf(stderr, "    %-40s %10zu\n", truth_list_name(i), truth_list_rows(t, i));
	if (g->noise > 0)
		fprintf(stderr, "    %-40s %10llu\n", "hidden_links", (unsigned long long)g->hidden_rows);
	fprintf(stderr, "  %.2f s\n", secs);
}

int main(int argc, char **argv)
{
	Gen *g = NULL;
	Truth *t = NULL;
	int rc = 1;
	uint64_t persons = 0, seed = 0, part_rows = SINK_XLSX_PART_ROWS;
	bool have_persons = false, have_seed = false, have_asof = false;
	const char *out = NULL;
	int32_t asof = NO_DATE;
	double noise = 0;
	double t0 = now_seconds();

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			fprintf(stderr, "synth: option %s needs a value\n", a);
			usage(stderr);
			return 2;
		}
		i++;
		if (strcmp(a, "--persons") == 0) {
			have_persons = parse_u64(v, &persons) && persons >= 1 && persons <= 100000000;
			if (!have_persons) {
				fprintf(stderr, "synth: --persons must be an integer from 1 to 100000000, not \"%s\"\n", v);
				return 2;
			}
		} else if (strcmp(a, "--seed") == 0) {
			have_seed = parse_u64(v, &seed);
			if (!have_seed) {
				fprintf(stderr, "synth: --seed must be an unsigned integer, not \"%s\"\n", v);
				return 2;
			}
		} else if (strcmp(a, "--asof") == 0) {
			have_asof = date_parse_iso(v, &asof) && asof >= date_make(2012, 1, 1) && asof <= date_make(2099, 12, 31);
			if (!have_asof) {
				fprintf(stderr, "synth: --asof must be a date YYYY-MM-DD from 2012-01-01 to 2099-12-31, not \"%s\"\n", v);
				return 2;
			}
		} else if (strcmp(a, "--out") == 0) {
			out = v;
		} else if (strcmp(a, "--xlsx-part-rows") == 0) {
			if (!parse_u64(v, &part_rows) || part_rows < 50 || part_rows > SINK_XLSX_PART_ROWS) {
				fprintf(stderr, "synth: --xlsx-part-rows must be an integer from 50 to %u, not \"%s\"\n",
					SINK_XLSX_PART_ROWS, v);
				return 2;
			}
		} else if (strcmp(a, "--noise") == 0) {
			char *end;
			errno = 0;
			noise = strtod(v, &end);
			if (errno || *end || !(noise >= 0 && noise <= 10)) {
				fprintf(stderr, "synth: --noise must be a number from 0 to 10, not \"%s\"\n", v);
				return 2;
			}
		} else {
			fprintf(stderr, "synth: unknown option \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!have_persons || !have_seed || !have_asof || !out) {
		fprintf(stderr, "synth: --persons, --seed, --asof and --out are required\n");
		usage(stderr);
		return 2;
	}

	if (strlen(out) > 3000) {
		fprintf(stderr, "synth: --out path is too long\n");
		return 2;
	}
	char extracts[3072], truth_dir[3072];
	snprintf(extracts, sizeof extracts, "%s/extracts", out);
	snprintf(truth_dir, sizeof truth_dir, "%s/truth", out);
	if (!make_dir(out) || !make_dir(extracts) || !make_dir(truth_dir))
		return 1;
	clean_dir(extracts, false);
	clean_dir(truth_dir, true);

	g = calloc(1, sizeof *g);
	if (!g) {
		fprintf(stderr, "synth: out of memory\n");
		return 1;
	}
	g->seed = seed;
	g->asof = asof;
	g->asof_ym = date_ym(asof);
	{
		int y, m, d;
		date_split(asof, &y, &m, &d);
		g->paid_ym = d >= 10 ? g->asof_ym : ym_add(g->asof_ym, -1);
	}
	g->persons = (long)persons;
	g->noise = noise;
	g->xlsx_part_rows = part_rows;
	g->out_dir = out;
	date_format(g->tag, asof, DS_YMD8);
	places_init();
	t = truth_new(asof);
	g->truth = t;
	if (!t || !idnum_init(&g->ids, date_make(1900, 1, 1), asof)) {
		fprintf(stderr, "synth: out of memory\n");
		goto done;
	}
	if (!emit_open(g))
		goto done;
	if (noise > 0) {
		char path[4096];
		snprintf(path, sizeof path, "%s/hidden_links.csv", truth_dir);
		g->hidden = fopen(path, "wb");
		if (!g->hidden) {
			fprintf(stderr, "synth: could not create \"%s\": %s\n", path, strerror(errno));
			goto done;
		}
		setvbuf(g->hidden, NULL, _IOFBF, 1 << 20);
		fprintf(g->hidden, "file,record,id_number\n");
	}
	emit_ref_divisions(g);

	/* the population, household by household, unit by unit */
	{
		static Household h;
		Rng pr[HH_MAX], nr[HH_MAX];
		uint64_t hh_index = 0, done_persons = 0;
		double cum = 0;
		int nunits = places_unit_count();
		for (int k = 0; k < nunits; k++) {
			int unit = places_unit(k);
			cum += places_get(unit)->weight;
			uint64_t target = k == nunits - 1 ? persons : (uint64_t)(cum * (double)persons + 0.5);
			if (target > persons)
				target = persons;
			while (done_persons < target) {
				uint64_t room = target - done_persons;
				pop_household(g, &h, unit, room < HH_MAX ? (int)room : HH_MAX, hh_index++);
				g->st.households++;
				for (int i = 0; i < h.size; i++) {
					Person *p = &h.m[i];
					p->index = g->st.persons;
					scenario_pick(g, &h, p);
					g->st.persons++;
				}
				for (int i = 0; i < h.size; i++) {
					Person *p = &h.m[i];
					rng_seed(&pr[i], seed, STREAM_PERSON, p->index);
					rng_seed(&nr[i], seed, STREAM_NOISE, p->index);
					p->issue = issue_place(p, places_get(unit)->county, &pr[i]);
					if (!idnum_issue(&g->ids, p->issue, p->birth, p->sex, p->id)) {
						fprintf(stderr, "synth: ran out of ID sequence numbers\n");
						goto done;
					}
				}
				for (int i = 0; i < h.size; i++) {
					Person *p = &h.m[i];
					pop_life(g, &h, p, &pr[i]);
					scenario_apply(g, &h, p, &pr[i]);
					noise_namesake(g, &nr[i], &h, p);
				}
				for (int i = 0; i < h.size; i++) {
					Person *p = &h.m[i];
					bundle_reset(&g->bundle, p->id);
					emit_person(g, &h, p, &pr[i], &nr[i]);
					if (g->bundle.overflow) {
						fprintf(stderr, "synth: internal error: too many facts for one person\n");
						goto done;
					}
					truth_person(t, &g->bundle);
					noise_remember(g, &h, p);
					/* statistics for the summary */
					Stats *st = &g->st;
					if (p->out_of_city)
						st->out_of_city++;
					else
						st->in_city++;
					st->korean += p->eth == ETH_KOREAN;
					st->male += p->sex == 1;
					st->age_band[p->age < 16 ? 0 : p->age < 60 ? 1 : p->age < 80 ? 2 : 3]++;
					if (p->death != NO_DATE) {
						st->dead++;
						st->dead_known += p->ev_health != NO_DATE || p->ev_civil != NO_DATE ||
								  p->ev_medical != NO_DATE || p->ev_court != NO_DATE ||
								  p->reg_cancel == RAW_DEATH;
						st->cancelled_death += p->reg_cancel == RAW_DEATH;
					}
					st->moved_out += p->reg_cancel == RAW_MOVED;
					st->abroad += p->abroad;
					st->rp[p->rp]++;
				}
				done_persons += (uint64_t)h.size;
			}
		}
	}

	if (!emit_close(g))
		goto done;
	if (g->hidden) {
		bool bad = ferror(g->hidden) != 0;
		bad |= fclose(g->hidden) != 0;
		g->hidden = NULL;
		if (bad) {
			fprintf(stderr, "synth: could not write hidden_links.csv\n");
			goto done;
		}
	}
	if (!truth_write(t, truth_dir) || !write_counts(g, truth_dir))
		goto done;
	summary(g, t, now_seconds() - t0);
	rc = 0;
done:
	if (g) {
		if (g->hidden)
			fclose(g->hidden);
		idnum_free(&g->ids);
		for (int i = 0; i < SRC_COUNT; i++)
			free(g->sinks[i].parts);
	}
	truth_free(t);
	free(g);
	return rc;
}
