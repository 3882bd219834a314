# Parallel reading, grouping and rules (issues 3 and 8), sourced by tests/run-tests.sh: the
# delivery read, grouped and evaluated with 1, 2 and 3 threads (and with one PostgreSQL
# connection or two) gives the same counts, rejects, lists and database rows, and a broken delivery the same error (the first broken file in file
# order, whichever thread met it first); sources that keep only their latest records per person
# (history = latest) give the lists of every record kept, and a rule needing more is refused.  Grouping and rules share out persons from 256 per
# thread, so the 2,000 persons of the valgrind run use the threads too.  Runs on databases of
# its own; leaves PGDATABASE as it found it.
section "parallel reading"
THR="$TMP/threads"
THR_DB0=$PGDATABASE
mkdir -p "$THR"

check_exit "--threads 0 is a usage error" 2 'not a number from 1 to 256' \
    "$CANBAO" check-extracts --threads 0 "$DATA/extracts"
check_exit "--threads x is a usage error" 2 'not a number from 1 to 256' \
    "$CANBAO" run --threads x --asof $ASOF --extracts "$DATA/extracts" --out "$THR/o"

# check-extracts: every file's counts and the first rejects, the same whatever the threads
thr_check() {
    local t
    for t in 1 2 3; do
        "$CANBAO" --quiet check-extracts --threads $t "$DATA/extracts" >"$THR/check-$t.txt" || return 1
    done
    cmp "$THR/check-1.txt" "$THR/check-2.txt" && cmp "$THR/check-1.txt" "$THR/check-3.txt" &&
        [ "$(grep -c '_20' "$THR/check-1.txt")" -ge 20 ]
}
check "check-extracts: the same counts and rejects with 1, 2 and 3 threads" thr_check

# the whole night, each on a fresh database: the same files and database rows
thr_run() {   # thr_run T: the night with T threads on database canbao_thr_T
    "$PG_BIN/createdb" "canbao_thr_$1" || return 1
    PGDATABASE="canbao_thr_$1" "$CANBAO" --quiet db migrate >/dev/null || return 1
    # one thread also with one connection (the lifecycle prepared first, not beside the rows)
    PGDATABASE="canbao_thr_$1" CANBAO_DB_CONNECTIONS=$(( $1 == 1 ? 1 : 2 )) "$CANBAO" run --threads "$1" --asof $ASOF \
        --extracts "$DATA/extracts" --out "$THR/out-$1" >"$THR/run-$1.log" 2>&1 || {
        tail -n 5 "$THR/run-$1.log"; return 1; }
}
thr_dump() {   # thr_dump T: what the run stored, without times, hosts and folders
    PGDATABASE="canbao_thr_$1" psql -XAtq -v ON_ERROR_STOP=1 \
        -c "SELECT file_no, file_name, source, size_bytes, sha256, records_read, accepted, duplicates,
                   rejected FROM canbao.source_files ORDER BY file_no" \
        -c "SELECT file_no, record_no, line_no, byte_offset, reason, raw FROM canbao.rejects
             ORDER BY file_no, record_no" \
        -c "SELECT list_name, row_no, id_number, columns, rule FROM canbao.list_rows ORDER BY 1, 2" \
        -c "SELECT list_name, row_no, file_no, record_no, fact_kind FROM canbao.list_evidence
             ORDER BY 1, 2, 3, 4, 5"
}
thr_same() {
    local t f
    for t in 1 2 3; do thr_run $t || return 1; done
    for t in 2 3; do
        # every published file but the report (it carries the run's timings) and the checksums
        # of the release (they cover the report)
        for f in "$THR/out-1"/*; do
            case $(basename "$f") in report_*|SHA256SUMS) continue ;; esac
            cmp "$f" "$THR/out-$t/$(basename "$f")" || return 1
        done
        [ "$(ls "$THR/out-1" | wc -l)" = "$(ls "$THR/out-$t" | wc -l)" ] || { echo "file lists differ"; return 1; }
        diff <(thr_dump 1) <(thr_dump $t) >"$THR/dump-$t.diff" || { head -n 20 "$THR/dump-$t.diff"; return 1; }
    done
    [ "$(wc -l <"$THR/out-1/rejects.csv")" -gt 10 ] && grep -q 'event=timings read=' "$THR/run-2.log"
}
check "run: the same lists, rejects, files and database rows with 1 (and one connection), 2 and 3 threads" thr_same

# a delivery with two broken files: the error is the first in file order, whatever the threads
thr_broken() {
    local d="$THR/broken" t f out
    mkdir -p "$d"
    for f in "$DATA"/extracts/*; do ln -s "$f" "$d/$(basename "$f")"; done
    for f in "$d"/medical_claims_*.jsonl.gz "$d"/tax_collection_*.csv.gz; do
        rm "$f"
        head -c $(( $(stat -c %s "$DATA/extracts/$(basename "$f")") / 2 )) "$DATA/extracts/$(basename "$f")" >"$f"
    done
    for t in 1 2 3; do
        out=$("$CANBAO" --quiet check-extracts --threads $t "$d" 2>&1)
        [ $? = 3 ] || { echo "threads $t: exit code not 3"; return 1; }
        grep -q 'truncated gzip' <<<"$out" && grep -q 'medical_claims_' <<<"$out" &&
            ! grep -q 'tax_collection_' <<<"$out" || { echo "threads $t: $out"; return 1; }
        echo "$out" >"$THR/broken-$t.txt"
    done
    cmp "$THR/broken-1.txt" "$THR/broken-2.txt" && cmp "$THR/broken-1.txt" "$THR/broken-3.txt"
}
check "a broken delivery: the first broken file's error, the same with 1, 2 and 3 threads" thr_broken

# split(): the poverty roster packs a household's member IDs into one cell; a row is one record
thr_split() {
    local f rows multi
    f=$(basename "$(ls "$DATA"/extracts/poverty_household_*.csv)")
    multi=$(awk -F, 'NR > 1 && $5 ~ /;/ { n++ } END { print n + 0 }' "$DATA/extracts/$f")
    # some 4 per 1,000 persons (8 at the 2,000 of the valgrind run)
    [ "$multi" -gt 0 ] && [ "$multi" -ge $((PERSONS / 500)) ] ||
        { echo "only $multi rows with several member IDs for $PERSONS persons"; return 1; }
    rows=$(awk -F, -v f="$f" '$1 == f { print $2 }' "$DATA/truth/counts.csv")
    [ "$(awk -v f="$f" '$1 == f { print $3 }' "$THR/check-1.txt")" = "$rows" ] ||
        { echo "read: $(grep poverty "$THR/check-1.txt"), generator: $rows rows"; return 1; }
    # a list row cites the member's row: the same record number serves every member
    [ "$(PGDATABASE=canbao_thr_1 psql -XAtq -c "SELECT count(*) FROM canbao.list_evidence e
          JOIN canbao.source_files f USING (run_id, file_no) WHERE f.file_name = '$f'")" -gt 0 ]
}
check "split(): poverty rows with several member IDs read as one record each, members listed" thr_split
# history = latest (medical claims, provident fund): the night gives the lists it gives with
# every record kept (history = all), on a fresh database; only the provident-fund record a row
# of unenrolled_eligible cites may differ (the latest contribution in the window, not the
# earliest).  The same counts of records read and accepted.
thr_history() {
    local c="$THR/conn-all" f n
    cp -r connectors/agencies "$c"
    sed -i 's/^history *= *latest.*$/history = all/' "$c"/*.conf
    [ "$(grep -l '^history = all' "$c"/*.conf | wc -l)" -ge 2 ] || { echo "no history = latest to undo"; return 1; }
    grep -q 'event=history source=medical_claims .*superseded=[1-9]' "$THR/run-1.log" ||
        { echo "nothing superseded: $(grep event=history "$THR/run-1.log")"; return 1; }
    "$PG_BIN/createdb" canbao_thr_all || return 1
    PGDATABASE=canbao_thr_all "$CANBAO" --quiet db migrate >/dev/null || return 1
    PGDATABASE=canbao_thr_all "$CANBAO" run --threads 1 --connectors "$c" --asof $ASOF \
        --extracts "$DATA/extracts" --out "$THR/out-all" >"$THR/run-all.log" 2>&1 || { tail -n 5 "$THR/run-all.log"; return 1; }
    ! grep -q 'event=history' "$THR/run-all.log" || { echo "history = all reduced something"; return 1; }
    for f in "$THR/out-1"/*; do
        n=$(basename "$f")
        case $n in report_*|SHA256SUMS) continue ;; esac
        if [ "$n" = unenrolled_eligible.csv ]; then
            cmp <(sed 's/;provident_fund_[^;,]*//g' "$f") <(sed 's/;provident_fund_[^;,]*//g' "$THR/out-all/$n") || return 1
        else
            cmp "$f" "$THR/out-all/$n" || return 1
        fi
    done
    diff <(PGDATABASE=canbao_thr_1 psql -XAtq -c "SELECT file_name, records_read, accepted, duplicates, rejected
                                                  FROM canbao.source_files ORDER BY file_no") \
         <(PGDATABASE=canbao_thr_all psql -XAtq -c "SELECT file_name, records_read, accepted, duplicates, rejected
                                                    FROM canbao.source_files ORDER BY file_no")
}
check "history = latest: the same lists and counts as with every record kept" thr_history

# facts past the memory budget (--memory: a quarter of it for the facts) go to disk by person and
# come back a pass at a time: the same files and database rows as all in memory; the files
# are gone with the run (unlinked at once)
check_exit "--memory 0 is a usage error" 2 'memory 0 is not a size of at least 1M' \
    "$CANBAO" run --memory 0 --asof $ASOF --extracts "$DATA/extracts" --out "$THR/o"
check_exit "CANBAO_MEMORY=lots is a usage error" 2 'CANBAO_MEMORY=lots is not a size' \
    env CANBAO_MEMORY=lots "$CANBAO" run --asof $ASOF --extracts "$DATA/extracts" --out "$THR/o"
thr_spill() {
    local f tmp="$THR/tmp"
    mkdir -p "$tmp"
    "$PG_BIN/createdb" canbao_thr_spill || return 1
    PGDATABASE=canbao_thr_spill "$CANBAO" --quiet db migrate >/dev/null || return 1
    PGDATABASE=canbao_thr_spill TMPDIR="$tmp" "$CANBAO" run --threads 2 --memory 1M --asof $ASOF \
        --extracts "$DATA/extracts" --out "$THR/out-spill" >"$THR/run-spill.log" 2>&1 ||
        { tail -n 5 "$THR/run-spill.log"; return 1; }
    grep -q 'event=spill ' "$THR/run-spill.log" &&
        grep -Eq 'event=rules_evaluated .* passes=([2-9]|[1-9][0-9])' "$THR/run-spill.log" ||
        { echo "not spilled: $(grep -E 'event=(spill|rules_evaluated)' "$THR/run-spill.log")"; return 1; }
    ! grep -q 'event=spill' "$THR/run-2.log" || { echo "spilled without a budget"; return 1; }
    for f in "$THR/out-1"/*; do
        case $(basename "$f") in report_*|SHA256SUMS) continue ;; esac
        cmp "$f" "$THR/out-spill/$(basename "$f")" || return 1
    done
    diff <(thr_dump 1) <(thr_dump spill) >"$THR/dump-spill.diff" || { head -n 20 "$THR/dump-spill.diff"; return 1; }
    [ -z "$(ls -A "$tmp")" ] || { echo "left in TMPDIR: $(ls "$tmp")"; return 1; }
}
check "--memory: facts past the budget on disk, by person, pass by pass: the same files and rows" thr_spill
# (under valgrind, which needs TMPDIR itself, the program as built: tests/lib/checked.sh)
check_exit "--memory with TMPDIR missing: an error naming the folder, nothing published" 6 \
    'nonexistent-tmp: could not make a temporary file' \
    env TMPDIR="$THR/nonexistent-tmp" "${CANBAO_UNWRAPPED:-$CANBAO}" run --memory 1M --dry-run --asof $ASOF \
    --extracts "$DATA/extracts" --out "$THR/o-notmp"

# a rule that needs every claim, with the claims source keeping the latest: refused before reading
RHIST="$THR/rules-hist"
cp -r rules "$RHIST"
echo 'define claims_this_year = count(medical_claim where date within 1 year before asof)' >>"$RHIST/common.rules"
sed -i 's/^  where eligible and not live and not in_prison$/  where eligible and not live and not in_prison and claims_this_year >= 0/' \
    "$RHIST/unenrolled_eligible.rules"
check_exit "rules check: a count of claims with history = latest names the rule and the source" 3 \
    'common.rules:[0-9]+:[0-9]+: this aggregate over medical_claim needs every record, but source medical_claims keeps only the latest' \
    "$CANBAO" rules check "$RHIST" --connectors connectors/agencies
check_exit "run: the same refusal, exit 3, before reading" 3 'keeps only the latest per person' \
    "$CANBAO" run --rules "$RHIST" --asof $ASOF --extracts "$DATA/extracts" --out "$THR/out-hist"
check "refused run: no lists written" test ! -e "$THR/out-hist"
export PGDATABASE=$THR_DB0
