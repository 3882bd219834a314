/*
 * fuzz_sourcedef — connector definition parsing and checking (connectors/sourcedef.c).
 *
 * Input: the text of a definition file (one of connectors/agencies/).
 * Checked: a failure says why and where (message set, input location naming the file); a
 * success gives a definition whose counts are within their arrays, whose strings are
 * NUL-terminated and readable, whose fields and transforms are known; sourcedef_claims
 * answers for a few delivery file names; sourcedef_free releases everything (LeakSanitizer).
 */
#include "fuzzlib.h"

#include "sourcedef.h"

static void
check_str(const char *s, const char *what)
{
    if (s != NULL)
        fuzz_touch(s, strlen(s) + 1);
    (void) what;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *text = fuzz_dup(data, size);
    SourceDef def;
    CbError err;
    memset(&err, 0, sizeof err);
    bool ok = sourcedef_parse("fuzz.conf", text, size, &def, &err);
    if (!ok) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
        fuzz_check_cstr(err.hint, sizeof err.hint, "CbError.hint");
        FUZZ_CHECK(err.message[0] != '\0', "sourcedef_parse failed without a message");
        if (fuzz_show())
            fprintf(stderr, "  %s: %s\n", err.input_at, err.message);
        FUZZ_CHECK(strstr(err.input_at, "fuzz.conf") != NULL, "error location \"%s\" does not name the file",
                   err.input_at);
    } else {
        check_str(def.path, "path");
        check_str(def.name, "name");
        check_str(def.agency, "agency");
        FUZZ_CHECK(def.kind >= 0 && def.kind < FK_COUNT, "kind %d", (int) def.kind);
        FUZZ_CHECK(def.nglobs >= 0 && def.nglobs <= SOURCEDEF_MAX_GLOBS, "nglobs %d", def.nglobs);
        for (int i = 0; i < def.nglobs; i++)
            check_str(def.globs[i], "glob");
        FUZZ_CHECK(def.format >= RF_CSV && def.format <= RF_JSONL, "format %d", (int) def.format);
        check_str(def.record_path, "record");
        check_str(def.sheet, "sheet");
        check_str(def.manifest, "manifest");
        check_str(def.signature, "signature");
        check_str(def.public_key, "public_key");
        FUZZ_CHECK(def.delimiter != def.quote, "delimiter and quote are both '%c'", def.delimiter);
        FUZZ_CHECK(def.nfields >= 0 && def.nfields <= KIND_MAX_FIELDS, "nfields %d", def.nfields);
        const KindSpec *ks = factkind_spec(def.kind);
        int nkind = 0;
        while (nkind < KIND_MAX_FIELDS && ks->fields[nkind].name)
            nkind++;
        for (int i = 0; i < def.nfields; i++) {
            const FieldMap *fm = &def.fields[i];
            FUZZ_CHECK(fm->field >= 0 && fm->field < nkind, "field index %d of %d", fm->field, nkind);
            check_str(fm->column, "column");
            FUZZ_CHECK(fm->nxf >= 0 && fm->nxf <= FIELDMAP_MAX_XFORMS, "nxf %d", fm->nxf);
            if (def.format == RF_FIXED)
                FUZZ_CHECK(fm->fixed_start >= 1 && fm->fixed_end >= fm->fixed_start,
                           "fixed positions %u-%u", fm->fixed_start, fm->fixed_end);
            for (int x = 0; x < fm->nxf; x++) {
                const Xform *xf = &fm->xf[x];
                FUZZ_CHECK(strcmp(xform_name(xf->op), "?") != 0, "unknown transform %d", (int) xf->op);
                check_str(xf->arg, "default");
                FUZZ_CHECK(xf->ncodes >= 0, "ncodes %d", xf->ncodes);
                for (int k = 0; k < xf->ncodes; k++) {
                    check_str(xf->codes[k].from, "code from");
                    check_str(xf->codes[k].to, "code to");
                }
            }
        }
        static const char *files[] = {"police_register_20261128.csv", "police_register_20261128.csv.gz",
                                      "x.xml", "", ".manifest", "a*b?[c].csv"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
            (void) sourcedef_claims(&def, files[i]);
    }
    sourcedef_free(&def);
    free(text);
    return 0;
}
