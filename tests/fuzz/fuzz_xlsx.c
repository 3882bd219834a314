/*
 * fuzz_xlsx — the XLSX reader's zip container and everything under it (connectors/xlsx.c):
 * central directory, ZIP64, local headers, inflate with size / CRC / bomb checks, then the
 * workbook parts through libxml2.
 *
 * Input: the workbook file as delivered (a zip, or a gzip of one), no spec line; the first
 * visible worksheet is read.  Mutations mostly break CRCs, so this target exercises the
 * container; fuzz_xlsx_parts zips the XML parts itself to reach the sheet parser.
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
    ReaderSpec spec = {.format = RF_XLSX};
    fuzz_read_all(&spec, data, size, false);
    return 0;
}
