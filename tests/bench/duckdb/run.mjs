// make bench, column (4): the SQL of tests/bench/sql run in DuckDB on two threads.
//
//   node run.mjs EXTRACTS CONVERTED WORK OUT ASOF [THREADS]
//
// EXTRACTS: the delivery; CONVERTED: prepare_convert.py's TSV files (XLSX and XML); WORK: a
// scratch folder for the transcoded GBK / GB18030 files; OUT: the lists, one CSV each.
// An in-memory database: transcode (tests/bench/transcode.py), functions_duckdb.sql,
// load_duckdb.sql, ../sql/facts.sql, ../sql/lists.sql, then COPY each list to OUT.
// Prints one line: event=duckdb load=S sql=S total=S (seconds, wall clock).
// @duckdb/node-api comes from npm into build/bench (make bench installs it; nothing else
// needs it); NODE_PATH or the import path below finds it.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const [extracts, converted, work, out, asof, threads = '2'] = process.argv.slice(2);
if (!asof || !/^\d{4}-\d{2}-\d{2}$/.test(asof)) {
    console.error('usage: node run.mjs EXTRACTS CONVERTED WORK OUT ASOF [THREADS]');
    process.exit(2);
}
const require = createRequire(resolve(process.env.CANBAO_BENCH_NODE_MODULES || 'build/bench', 'node_modules') + '/');
const { DuckDBInstance } = require('@duckdb/node-api');

const LISTS = ['unenrolled_eligible', 'unenrolled_in_prison', 'deceased_beneficiaries', 'deceased_contributors',
    'prison_suspension', 'double_enrolment', 'approaching_benefit_age', 'proof_of_life_due',
    'contribution_reconciliation', 'township_staffing'];
const stamp = asof.replaceAll('-', '');
const python = process.env.CANBAO_BENCH_PYTHON || 'python3';

function transcode(encoding, from, to) {
    return new Promise((ok, fail) => {
        const p = spawn(python, [join(here, '..', 'transcode.py'), encoding, from], { stdio: ['ignore', 'pipe', 'inherit'] });
        p.stdout.pipe(createWriteStream(to));
        p.on('error', fail);
        p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`transcode ${from}: exit ${code}`))));
    });
}

function sqlFile(path, vars = {}) {
    let text = readFileSync(path, 'utf8').replaceAll('/*FENCE*/', '');
    for (const [k, v] of Object.entries(vars)) text = text.replaceAll('${' + k + '}', v.replaceAll("'", "''"));
    return text;
}

const t0 = performance.now();
mkdirSync(work, { recursive: true });
mkdirSync(out, { recursive: true });
await Promise.all([
    transcode('gbk', join(extracts, `civil_cremation_${stamp}.txt`), join(work, 'civil_cremation.txt')),
    transcode('gb18030', join(extracts, `justice_corrections_${stamp}.txt`), join(work, 'justice_corrections.txt')),
    transcode('gbk', join(extracts, `tax_collection_${stamp}.csv.gz`), join(work, 'tax_collection.csv')),
]);
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await instance.connect();
await con.run(sqlFile(join(here, 'functions_duckdb.sql')));
await con.run(sqlFile(join(here, 'load_duckdb.sql'), { EXTRACTS: resolve(extracts), CONVERTED: resolve(converted), WORK: resolve(work), STAMP: stamp }));
await con.run(sqlFile(join(here, '..', 'sql', 'facts.sql')));
const t1 = performance.now();
await con.run(`CREATE TABLE params AS SELECT DATE '${asof}' AS d`);
await con.run(sqlFile(join(here, '..', 'sql', 'lists.sql')));
for (const l of LISTS) {
    const file = join(resolve(out), `${l}.csv`).replaceAll("'", "''");
    await con.run(`COPY (SELECT * FROM l_${l} ORDER BY ALL) TO '${file}' (FORMAT csv, HEADER true)`);
}
const t2 = performance.now();
const s = (ms) => (ms / 1000).toFixed(3);
console.log(`event=duckdb load=${s(t1 - t0)} sql=${s(t2 - t1)} total=${s(t2 - t0)}`);
