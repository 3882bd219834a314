/*
 * fuzz_extract — a whole source: definition, reader, header binding, decoding and every
 * transform (connectors/extract.c over connectors/sourcedef.c and the readers).
 *
 * Input: a definition, a line "%%", then the extract file.  A definition that does not parse
 * ends the run (fuzz_sourcedef covers that).  Example:
 *     [source]
 *     name = reg
 *     fact = register
 *     files = reg_*.csv
 *     [fields]
 *     id_number = 公民身份号码 | idnum
 *     %%
 *     公民身份号码
 *     222401198503150017
 * Checked: every present value is NUL-terminated at its length and readable; a reject has a
 * reason; raw text is capped; record numbers increase; after EXT_EOF the whole file was hashed
 * and counted; closing frees everything (LeakSanitizer).
 */
#define FUZZ_WITH_LIBXML2 1
#include "fuzzlib.h"

#include "extract.h"
#include "sourcedef.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fuzz_quiet_libxml2();
    return 0;
}

/* The offset of the line "%%" (after a '\n' or at the start), or SIZE_MAX. */
static size_t
find_separator(const uint8_t *data, size_t size, size_t *file_at)
{
    for (size_t i = 0; i + 2 <= size; i++) {
        if ((i == 0 || data[i - 1] == '\n') && data[i] == '%' && data[i + 1] == '%' &&
            (i + 2 == size || data[i + 2] == '\n' || data[i + 2] == '\r')) {
            size_t j = i + 2;
            if (j < size && data[j] == '\r')
                j++;
            if (j < size && data[j] == '\n')
                j++;
            *file_at = j;
            return i;
        }
    }
    return SIZE_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t file_at;
    size_t def_len = find_separator(data, size, &file_at);
    if (def_len == SIZE_MAX)
        return 0;
    SourceDef def;
    CbError err;
    memset(&err, 0, sizeof err);
    void *text = fuzz_dup(data, def_len);
    bool ok = sourcedef_parse("fuzz.conf", text, def_len, &def, &err);
    free(text);
    if (!ok) {
        if (fuzz_show())
            fprintf(stderr, "  definition: %s: %s\n", err.input_at, err.message);
        sourcedef_free(&def);
        return 0;
    }

    size_t len = size - file_at;
    void *file = fuzz_dup(data + file_at, len);
    Extract *ex = extract_open_mem(&def, "fuzz.input", file, len, &err);
    if (ex == NULL) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        FUZZ_CHECK(err.message[0] != '\0', "extract_open_mem failed without a message");
        if (fuzz_show())
            fprintf(stderr, "  open failed: %s: %s\n", err.input_at, err.message);
    } else {
        CanonRecord rec;
        bool have_prev = false, eof = false;
        uint64_t prev = 0;
        for (;;) {
            memset(&err, 0, sizeof err);
            ExtStatus st = extract_next(ex, &rec, &err);
            FUZZ_CHECK(st == EXT_OK || st == EXT_REJECT || st == EXT_EOF || st == EXT_ERROR,
                       "status %d", (int) st);
            if (st == EXT_EOF) {
                eof = true;
                break;
            }
            if (st == EXT_ERROR) {
                fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
                FUZZ_CHECK(err.message[0] != '\0', "EXT_ERROR without a message");
                if (fuzz_show())
                    fprintf(stderr, "  EXT_ERROR: %s: %s\n", err.input_at, err.message);
                break;
            }
            fuzz_check_cstr(rec.reason, sizeof rec.reason, "CanonRecord.reason");
            if (st == EXT_REJECT)
                FUZZ_CHECK(rec.reason[0] != '\0', "EXT_REJECT without a reason");
            if (fuzz_show())
                fprintf(stderr, "  record %llu: %s%s\n", (unsigned long long) rec.record_no,
                        st == EXT_OK ? "ok" : "reject: ", st == EXT_OK ? "" : rec.reason);
            FUZZ_CHECK(rec.raw_len <= READER_RAW_MAX, "raw_len %zu", rec.raw_len);
            if (rec.raw_len)
                fuzz_touch(rec.raw, rec.raw_len);
            if (st == EXT_OK) {
                const KindSpec *ks = factkind_spec(def.kind);
                for (int i = 0; i < KIND_MAX_FIELDS && ks->fields[i].name != NULL; i++) {
                    const CanonValue *v = &rec.v[i];
                    if (!v->present)
                        continue;
                    FUZZ_CHECK(v->text != NULL, "value %d present without text", i);
                    fuzz_touch(v->text, (size_t) v->len + 1);
                    FUZZ_CHECK(v->text[v->len] == '\0', "value %d not NUL-terminated at its length", i);
                }
            }
            /* record numbers increase, but the members of a split() row share their row's */
            if (have_prev)
                FUZZ_CHECK(rec.record_no > prev || (rec.sub > 1 && rec.record_no == prev),
                           "record_no %llu (member %u) after %llu", (unsigned long long) rec.record_no,
                           (unsigned) rec.sub, (unsigned long long) prev);
            have_prev = true;
            prev = rec.record_no;
        }
        (void) extract_bytes(ex);
        if (eof) {
            char hex[65];
            FUZZ_CHECK(extract_sha256(ex, hex), "extract_sha256 failed after EXT_EOF");
            FUZZ_CHECK(extract_file_bytes(ex) == len, "file bytes %llu after EXT_EOF, input %zu",
                       (unsigned long long) extract_file_bytes(ex), len);
        }
        extract_close(ex);
    }
    free(file);
    sourcedef_free(&def);
    return 0;
}
