/*
 * fuzz_manifest — delivery manifests and their detached signatures (connectors/manifest.c),
 * both written by the agency, so hostile: the manifest's lines, the signature file (raw DER or
 * base64) and how the two are matched against the delivery's files.
 *
 * Input: the manifest text; optionally a line "%%" and the signature file's bytes, in which
 * case the definition asks for a signature (ECDSA P-256 with SHA-256 over the manifest, the
 * agency's public key below).  At start-up the target makes a delivery folder under $TMPDIR
 * (or /tmp) with one extract file, reg_20261128.csv, whose SHA-256 and size a valid manifest
 * lists; each input writes reg_20261128.manifest (and .manifest.sig) there and calls
 * manifest_verify.  Example:
 *     sha256 <64 hex digits> 42 reg_20261128.csv
 *     %%
 *     MEUCIQ... (base64 DER signature)
 * Checked: a failure says why and where; nothing leaks (LeakSanitizer).
 * The signed seeds were signed once with a throwaway private key whose public half is below.
 */
#include "fuzzlib.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "sourcedef.h"

static const char agency_pubkey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEO2Sfpx04GFkMP/0Ry8Zoiw67SS1P\n"
    "Vqdm+RJnkkDG/e73su1R2gh8CdJw8mIdzC7zFho5fWXbOeHTUreb/lyr2A==\n"
    "-----END PUBLIC KEY-----\n";

/* The extract file of the delivery (52 bytes). */
static const char extract_text[] = "公民身份号码,姓名\n222401198503150017,金哲\n";

static char dir[512];
static SourceDef def_plain, def_signed;

static void
write_file(const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "fuzz_manifest: could not write %s: %s\n", path, strerror(errno));
        abort();
    }
}

/* A register definition with the given [source] lines; [fields] maps every field the catalogue
 * requires (so that the target follows changes of engine/factkind.c). */
static void
parse_def(SourceDef *def, const char *source_lines)
{
    char text[4096], path[1024];
    size_t n = (size_t) snprintf(text, sizeof text, "[source]\n%s[fields]\n", source_lines);
    const KindSpec *ks = factkind_spec(FK_REGISTER);
    for (int i = 0; i < KIND_MAX_FIELDS && ks->fields[i].name; i++) {
        const FieldSpec *fs = &ks->fields[i];
        if (!fs->required)
            continue;
        if (fs->type == FT_ENUM)
            n += (size_t) snprintf(text + n, sizeof text - n, "%s = c%d | code(x:%s)\n", fs->name, i, fs->values[0]);
        else
            n += (size_t) snprintf(text + n, sizeof text - n, "%s = c%d\n", fs->name, i);
    }
    CbError err;
    snprintf(path, sizeof path, "%s/reg.conf", dir);
    if (!sourcedef_parse(path, text, strlen(text), def, &err)) {
        fprintf(stderr, "fuzz_manifest: definition: %s: %s\n%s", err.input_at, err.message, text);
        abort();
    }
}

static void
cleanup(void)
{
    static const char *names[] = {"reg_20261128.csv", "reg_20261128.manifest",
                                  "reg_20261128.manifest.sig", "agency.pem"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/canbao-fuzz-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "fuzz_manifest: mkdtemp %s: %s\n", dir, strerror(errno));
        abort();
    }
    atexit(cleanup);
    write_file("reg_20261128.csv", extract_text, strlen(extract_text));
    write_file("agency.pem", agency_pubkey, strlen(agency_pubkey));
    parse_def(&def_plain, "name = reg\nfact = register\nfiles = reg_*.csv\nmanifest = reg_*.manifest\n");
    parse_def(&def_signed, "name = reg\nfact = register\nfiles = reg_*.csv\nmanifest = reg_*.manifest\n"
                           "signature = reg_*.manifest.sig\npublic_key = agency.pem\n");
    return 0;
}

/* The offset of the line "%%" (after a '\n' or at the start), or SIZE_MAX; *rest after it. */
static size_t
find_separator(const uint8_t *data, size_t size, size_t *rest)
{
    for (size_t i = 0; i + 2 <= size; i++)
        if ((i == 0 || data[i - 1] == '\n') && data[i] == '%' && data[i + 1] == '%' &&
            (i + 2 == size || data[i + 2] == '\n')) {
            *rest = i + 2 < size ? i + 3 : size;
            return i;
        }
    return SIZE_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t rest = 0;
    size_t mlen = find_separator(data, size, &rest);
    bool signed_ = mlen != SIZE_MAX;
    if (!signed_)
        mlen = size;
    write_file("reg_20261128.manifest", data, mlen);
    if (signed_)
        write_file("reg_20261128.manifest.sig", data + rest, size - rest);

    char *all[] = {"reg_20261128.csv", "reg_20261128.manifest", "reg_20261128.manifest.sig"};
    char *files[] = {"reg_20261128.csv"};
    CbError err;
    memset(&err, 0, sizeof err);
    bool ok = manifest_verify(signed_ ? &def_signed : &def_plain, dir, all, signed_ ? 3 : 2, files, 1, &err);
    if (!ok) {
        fuzz_check_cstr(err.message, sizeof err.message, "CbError.message");
        fuzz_check_cstr(err.input_at, sizeof err.input_at, "CbError.input_at");
        fuzz_check_cstr(err.detail, sizeof err.detail, "CbError.detail");
        FUZZ_CHECK(err.message[0] != '\0', "manifest_verify failed without a message");
    }
    if (fuzz_show())
        fprintf(stderr, "  %s%s%s%s\n", ok ? "verified" : "refused: ", ok ? "" : err.input_at,
                ok ? "" : ": ", ok ? "" : err.message);
    return 0;
}
