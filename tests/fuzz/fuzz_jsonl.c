/*
 * fuzz_jsonl — the JSON Lines reader (connectors/jsonl.c, a hand-written strict scanner).
 *
 * Input: a spec line, then the file.  Spec keys: f=<key or key/path> repeated,
 * enc=gbk|gb18030|utf-8, max=<max_record_bytes>.  Example:
 *     f=sfzh f=xm f=person/birth max=4096
 *     {"sfzh":"222401198503150017","xm":"金哲","person":{"birth":"1985-03-15"}}
 */
#include "fuzzlib.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line;
    size_t line_len, len;
    const uint8_t *file;
    fuzz_split_line(data, size, &line, &line_len, &file, &len);
    FuzzSpec s;
    fuzz_spec_parse(&s, line, line_len);

    const char *names[FUZZ_MAX_TOKENS];
    int n = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.key[i], "f") == 0)
            names[n++] = s.val[i];

    ReaderSpec spec = {.format = RF_JSONL};
    fuzz_spec_common(&s, &spec);
    spec.names = names;
    spec.nnames = n;
    fuzz_read_all(&spec, file, len, true);
    return 0;
}
