/*
 * fuzz_linkconf — the identity-resolution parameters (engine/linkconf.c, rules/linkage.conf).
 *
 * Input: the text of a linkage.conf (linkconf_parse wants a C string: the input is copied with
 * a NUL after it).  Checked: a failure says why and where; a success has one to BLOCK_MAX_RULES
 * blocking rules of known fields with non-empty levels, max_fallback_block not below max_block, probabilities within 0..1, review_probability not above link_probability, the m start
 * values of every comparison summing to 1, and a NUL-terminated OpenCC configuration name.
 */
#include "fuzzlib.h"

#include <math.h>

#include "identity.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    LinkConfig c;
    CbError err;
    memset(&err, 0, sizeof err);
    if (linkconf_parse("fuzz.conf", text, &c, &err)) {
        fuzz_check_cstr(c.opencc_config, sizeof c.opencc_config, "LinkConfig.opencc_config");
        FUZZ_CHECK(c.nrules >= 1 && c.nrules <= BLOCK_MAX_RULES, "%d blocking rules", c.nrules);
        for (int r = 0; r < c.nrules; r++) {
            const BlockRule *br = &c.rules[r];
            FUZZ_CHECK(br->nlevels >= 1 && br->nlevels <= BLOCK_MAX_LEVELS && br->nfields <= BLOCK_MAX_FIELDS &&
                           br->upto[br->nlevels - 1] == br->nfields,
                       "blocking rule %d: %d levels, %d fields", r, br->nlevels, br->nfields);
            for (int l = 0; l < br->nlevels; l++)
                FUZZ_CHECK(br->upto[l] > (l ? br->upto[l - 1] : 0), "blocking rule %d: empty level %d", r, l);
            for (int f = 0; f < br->nfields; f++)
                FUZZ_CHECK(br->field[f] < BF_COUNT, "blocking rule %d: field %d", r, br->field[f]);
        }
        FUZZ_CHECK(c.max_block >= 1 && c.max_fallback >= c.max_block, "max_block %d, max_fallback_block %d",
                   c.max_block, c.max_fallback);
        FUZZ_CHECK(c.prior > 0.0 && c.prior <= 1.0, "prior %g", c.prior);
        FUZZ_CHECK(c.link_probability >= 0.0 && c.link_probability <= 1.0 &&
                       c.review_probability >= 0.0 && c.review_probability <= c.link_probability,
                   "link %g, review %g", c.link_probability, c.review_probability);
        FUZZ_CHECK(c.max_block >= 0 && c.review_candidates >= 0 && c.em_iterations >= 0 &&
                       c.u_pairs >= 0 && c.em_min_pairs >= 0 && c.em_max_records >= 0,
                   "a negative count");
        for (int k = 0; k < CMP_COUNT; k++) {
            double sum = 0.0;
            for (int i = 0; i < FS_MAX_LEVELS; i++) {
                FUZZ_CHECK(isfinite(c.m_start[k][i]) && c.m_start[k][i] >= 0.0, "m_start[%d][%d] = %g", k, i,
                           c.m_start[k][i]);
                sum += c.m_start[k][i];
            }
            FUZZ_CHECK(sum == 0.0 || fabs(sum - 1.0) < 1e-9, "m_start[%d] sums to %g", k, sum);
        }
    } else {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
        FUZZ_CHECK(err.message[0] != '\0', "linkconf_parse failed without a message");
        FUZZ_CHECK(strstr(err.input_at, "fuzz.conf") != NULL, "error location \"%s\" does not name the file",
                   err.input_at);
        if (fuzz_show())
            fprintf(stderr, "  %s: %s\n", err.input_at, err.message);
    }
    free(text);
    return 0;
}
