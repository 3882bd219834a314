/*
 * fuzz_xml — the XML reader (connectors/xml.c, libxml2's xmlTextReader, hardened).
 *
 * Input: a spec line, then the document.  Spec keys: rec=<record path> ("a/b/row", "//row";
 * default //record), f=<field> repeated ("child", "a/b", "@attr", "a/@attr", "."),
 * enc=gbk|gb18030|utf-8 (overrides the declaration), max=<max_record_bytes>, depth=<max_depth>.
 * Example:
 *     rec=//记录 f=姓名 f=@编号 f=人员/证件号 depth=16
 *     <?xml version="1.0" encoding="UTF-8"?><数据><记录 编号="1">...
 * libxml2's global error handlers abort: a message that would reach stderr is a finding.
 */
#define FUZZ_WITH_LIBXML2 1
#include "fuzzlib.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_quiet_libxml2();
    return 0;
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

    const char *names[FUZZ_MAX_TOKENS];
    int n = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.key[i], "f") == 0)
            names[n++] = s.val[i];

    ReaderSpec spec = {.format = RF_XML};
    fuzz_spec_common(&s, &spec);
    const char *rec = fuzz_spec_get(&s, "rec");
    spec.record_path = rec ? rec : "//record";
    spec.names = names;
    spec.nnames = n;
    spec.max_depth = (int) fuzz_spec_num(&s, "depth", 0);
    fuzz_read_all(&spec, file, len, true);
    return 0;
}
