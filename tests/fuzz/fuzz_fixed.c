/*
 * fuzz_fixed — the fixed-width reader (connectors/fixed.c).
 *
 * Input: a spec line, then the file.  Spec keys: c=<start>+<len> repeated (0-based start, in
 * bytes, or in characters with the key `chars`), enc=gbk|gb18030|utf-8, max=<max_record_bytes>.
 * Example:
 *     c=0+18 c=18+8 c=26+10 chars enc=gbk
 *     22240119850315001720230105金哲 ...
 */
#include "fuzzlib.h"

/* "<start>+<len>" with up to 10 digits each (uint32 range wraps as the API's type does). */
static bool
parse_col(const char *v, FixedColumn *c)
{
    unsigned long long a = 0, b = 0;
    int i = 0, k = 0;
    for (; v[i] >= '0' && v[i] <= '9' && k < 10; i++, k++)
        a = a * 10 + (unsigned) (v[i] - '0');
    if (k == 0 || v[i] != '+')
        return false;
    i++;
    for (k = 0; v[i] >= '0' && v[i] <= '9' && k < 10; i++, k++)
        b = b * 10 + (unsigned) (v[i] - '0');
    if (k == 0 || v[i] != '\0')
        return false;
    c->start = (uint32_t) a;
    c->len = (uint32_t) b;
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line;
    size_t line_len, len;
    const uint8_t *file;
    fuzz_split_line(data, size, &line, &line_len, &file, &len);
    FuzzSpec s;
    fuzz_spec_parse(&s, line, line_len);

    FixedColumn cols[FUZZ_MAX_TOKENS];
    int n = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.key[i], "c") == 0 && parse_col(s.val[i], &cols[n]))
            n++;

    ReaderSpec spec = {.format = RF_FIXED};
    fuzz_spec_common(&s, &spec);
    spec.columns = cols;
    spec.ncolumns = n;
    spec.fixed_chars = fuzz_spec_has(&s, "chars");
    fuzz_read_all(&spec, file, len, true);
    return 0;
}
