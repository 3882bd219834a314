/*
 * fuzz_csv — the delimited-text reader (connectors/csv.c) through reader_open_mem.
 *
 * Input: a spec line, then the file.  Spec keys: d=<delimiter char> (d=tab for '\t'),
 * q=<quote char>, enc=gbk|gb18030|utf-8, max=<max_record_bytes>.  Example:
 *     d=; q=' enc=gbk max=256
 *     姓名;身份证号 ...
 */
#include "fuzzlib.h"

static char
one_char(const FuzzSpec *s, const char *key)
{
    const char *v = fuzz_spec_get(s, key);
    if (v == NULL || *v == '\0')
        return 0;
    if (strcmp(v, "tab") == 0)
        return '\t';
    return v[0];
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

    ReaderSpec spec = {.format = RF_CSV};
    fuzz_spec_common(&s, &spec);
    spec.delimiter = one_char(&s, "d");
    spec.quote = one_char(&s, "q");
    fuzz_read_all(&spec, file, len, false);
    return 0;
}
