/*
 * fuzz_gzip — the gzip framing under every reader (connectors/bytestream.c): gzip is recognised
 * by its magic bytes and undone transparently, member after member; a truncated or corrupt
 * stream must be READ_ERROR, never a crash, a hang or unbounded memory.
 *
 * Input: the file as delivered (no spec line), read with the CSV reader and default options:
 * the committed seeds are real .csv.gz files (single and multi-member, truncated, corrupt).
 * The reader must hash and count the compressed bytes, not the inflated ones.
 */
#include "fuzzlib.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ReaderSpec spec = {.format = RF_CSV};
    fuzz_read_all(&spec, data, size, false);
    return 0;
}
