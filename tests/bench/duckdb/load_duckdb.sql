-- make bench, column (4): every extract into DuckDB, as a user would load them: one table
-- stg_<source> per connector definition, columns named after its canonical fields, values as
-- raw text (the same shape as tests/bench/sql/load_pg.sql gives PostgreSQL; facts.sql reads
-- them).  ${EXTRACTS}, ${CONVERTED}, ${WORK} and ${STAMP} are filled in by run.mjs.
--
-- Delimited text: read_csv with the definition's delimiter and quote, every column as text,
-- ignore_errors = true skips the records with the wrong number of fields (canbao rejects
-- them).  GBK / GB18030 files: DuckDB reads no GBK without an extension from the network, so
-- run.mjs first transcodes them into ${WORK} (tests/bench/transcode.py, in the timed part).
-- XLSX and XML: the TSV files prepare_convert.py wrote before the timed run (DuckDB has no
-- XML reader; its Excel reader is an extension from the network).  Fixed width: one column
-- per line, substr; fixed width in bytes: substr of the line's bytes (a BLOB slice).
-- JSON Lines: read_ndjson_objects (a line that does not parse comes back NULL).  DuckDB's JSON
-- parser also accepts a trailing comma and NaN, which JSON and canbao do not: a substring test
-- rejects those lines (the lines are compact JSON: no space before a closing brace; a general
-- regular expression doubled the time of the claims).

CREATE TABLE stg_police_register AS
SELECT "公民身份号码" AS id_number, "姓名" AS name, "性别" AS sex, "出生日期" AS birth_date,
       "民族" AS ethnicity, "户号" AS household, "与户主关系" AS relation, "行政区划代码" AS division,
       "住址" AS address, "联系电话" AS phone, "户籍状态" AS status, "注销原因" AS cancel_reason,
       "注销日期" AS cancel_date
FROM read_csv('${EXTRACTS}/police_register_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_civil_cremation AS
SELECT "身份证号码" AS id_number, "逝者姓名" AS name, "性别" AS sex, "死亡日期" AS death_date,
       "年龄" AS age, "生前住址" AS address
FROM read_csv('${WORK}/civil_cremation.txt', delim = '\t', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_civil_dibao AS
SELECT "成员身份证号" AS id_number, "成员姓名" AS name, "审批日期" AS start_date, "退出日期" AS end_date
FROM read_csv('${CONVERTED}/civil_dibao.tsv', delim = '\t', quote = '', header = true,
              all_varchar = true, ignore_errors = true);

CREATE TABLE stg_civil_tekun AS
SELECT "身份证号码" AS id_number, "姓名" AS name, "认定日期" AS start_date, "终止日期" AS end_date
FROM read_csv('${CONVERTED}/civil_tekun.tsv', delim = '\t', quote = '', header = true,
              all_varchar = true, ignore_errors = true);

CREATE TABLE stg_disability_cert AS
SELECT "身份证号" AS id_number, "姓名" AS name, "残疾等级" AS grade, "发证日期" AS start_date,
       "有效期至" AS end_date
FROM read_csv('${CONVERTED}/disability_cert.tsv', delim = '\t', quote = '', header = true,
              all_varchar = true, ignore_errors = true);

CREATE TABLE stg_industry_roster AS
SELECT "身份证号码" AS id_number, "职工姓名" AS name, "入职日期" AS start_date, "离职日期" AS end_date
FROM read_csv('${CONVERTED}/industry_roster.tsv', delim = '\t', quote = '', header = true,
              all_varchar = true, ignore_errors = true);

CREATE TABLE stg_court_criminal_judgement AS
SELECT * FROM read_csv('${CONVERTED}/court_criminal_judgement.tsv', delim = '\t', quote = '',
                       header = true, all_varchar = true);

CREATE TABLE stg_court_death_declaration AS
SELECT * FROM read_csv('${CONVERTED}/court_death_declaration.tsv', delim = '\t', quote = '',
                       header = true, all_varchar = true);

CREATE TABLE stg_health_death_cert AS
SELECT * FROM read_csv('${CONVERTED}/health_death_cert.tsv', delim = '\t', quote = '',
                       header = true, all_varchar = true);

CREATE TABLE stg_education_student AS
SELECT "身份证号" AS id_number, "姓名" AS name, "入学日期" AS start_date, "毕业（离校）日期" AS end_date
FROM read_csv('${EXTRACTS}/education_student_${STAMP}.csv', delim = ';', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_justice_corrections AS
SELECT substr(line, 13, 18) AS id_number, substr(line, 1, 10) AS name, substr(line, 69, 8) AS start_date,
       substr(line, 77, 8) AS end_date, substr(line, 31, 8) AS type
FROM read_csv('${WORK}/justice_corrections.txt', columns = {'line': 'VARCHAR'}, delim = '\t', quote = '',
              header = false, auto_detect = false);

CREATE TABLE stg_medical_claims AS
SELECT v[1] AS id_number, v[2] AS date, v[3] AS amount, v[4] AS name, v[5] AS sex
FROM (SELECT json_extract_string(json, ['$.certno', '$.setl_time', '$.medfee_sumamt', '$.psn_name', '$.gend']) AS v
      FROM read_ndjson_objects('${EXTRACTS}/medical_claims_${STAMP}.jsonl.gz', ignore_errors = true)
      WHERE json_type(json) = 'OBJECT' AND NOT (contains(json, ',}') OR contains(json, ',]')
                                              OR contains(json, 'NaN') OR contains(json, 'Infinity'))) s;

CREATE TABLE stg_medical_inpatient_death AS
SELECT v[1] AS id_number, v[2] AS name, v[3] AS sex, v[4] AS death_date
FROM (SELECT json_extract_string(json, ['$.患者.证件号码', '$.患者.姓名', '$.患者.性别', '$.住院.死亡日期']) AS v
      FROM read_ndjson_objects('${EXTRACTS}/medical_inpatient_death_${STAMP}.jsonl', ignore_errors = true)
      WHERE json_type(json) = 'OBJECT' AND NOT (contains(json, ',}') OR contains(json, ',]')
                                              OR contains(json, 'NaN') OR contains(json, 'Infinity'))) s;

CREATE TABLE stg_medical_insured AS
SELECT "公民身份号码" AS id_number, "姓名" AS name, "参保日期" AS start_date, "终止日期" AS end_date
FROM read_csv('${EXTRACTS}/medical_insured_${STAMP}.txt', delim = '|', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

-- the members of a household in one cell: split as in load_pg.sql (read the comment there)
CREATE TABLE stg_poverty_household AS
SELECT CASE WHEN len(ids) > 1 THEN m ELSE id_raw END AS id_number, start_date, end_date
FROM (SELECT id_raw, start_date, end_date, ids,
             unnest(CASE WHEN greatest(len(ids), 1) <> greatest(len(names), 1) THEN []::VARCHAR[]
                         WHEN len(ids) <= 1 THEN [NULL::VARCHAR]
                         WHEN len(ids) > 64 OR len(list_filter(ids, x -> idcheck(idwide(x)) IS NULL)) > 0
                              THEN []::VARCHAR[]
                         ELSE ids END) AS m
      FROM (SELECT "成员证件号码" AS id_raw, "纳入日期" AS start_date, "退出日期" AS end_date,
                   list_filter(regexp_split_to_array(coalesce(trim("成员证件号码", ws()), ''), '[ \t　]*[;；、,，][ \t　]*'),
                               x -> x <> '') AS ids,
                   list_filter(regexp_split_to_array(coalesce(trim("成员姓名", ws()), ''), '[ \t　]*[;；、,，][ \t　]*'),
                               x -> x <> '') AS names
            FROM read_csv('${EXTRACTS}/poverty_household_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
                          header = true, all_varchar = true, ignore_errors = true)) r) s;

CREATE TABLE stg_provident_fund AS
SELECT decode(b[117:134]) AS id_number, decode(b[135:140]) AS month, decode(b[173:182]) AS amount
FROM (SELECT encode(line) AS b
      FROM read_csv('${EXTRACTS}/provident_fund_${STAMP}.dat', columns = {'line': 'VARCHAR'}, delim = '\t',
                    quote = '', header = false, auto_detect = false)) s;

CREATE TABLE stg_si_certification AS
SELECT "公民身份号码" AS id_number, "认证日期" AS date, "姓名" AS name
FROM read_csv('${EXTRACTS}/si_certification_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_si_employee_pension AS
SELECT c2 AS id_number, c3 AS name, c7 AS start_date, c10 AS end_date
FROM read_csv('${EXTRACTS}/si_employee_pension_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
              header = false, auto_detect = false, ignore_errors = true,
              columns = {'c1': 'VARCHAR', 'c2': 'VARCHAR', 'c3': 'VARCHAR', 'c4': 'VARCHAR', 'c5': 'VARCHAR',
                         'c6': 'VARCHAR', 'c7': 'VARCHAR', 'c8': 'VARCHAR', 'c9': 'VARCHAR', 'c10': 'VARCHAR'});

CREATE TABLE stg_si_institution_pension AS
SELECT "公民身份号码" AS id_number, "姓名" AS name, "参保日期" AS start_date, "终止日期" AS end_date
FROM read_csv('${EXTRACTS}/si_institution_pension_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_si_resident_enrolment AS
SELECT "公民身份号码" AS id_number, "姓名" AS name, "参保状态" AS status, "参保日期" AS start_date,
       "待遇开始年月" AS benefit_month, "月养老金" AS monthly_pension, "基础养老金" AS basic_pension,
       "乡镇（街道）代码" AS township
FROM read_csv('${EXTRACTS}/si_resident_enrolment_${STAMP}.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_si_resident_payment AS
SELECT "公民身份号码" AS id_number, "发放年月" AS month, "基础养老金" AS basic, "个人账户养老金" AS account,
       "发放金额" AS total, "姓名" AS name
FROM read_csv('${EXTRACTS}/si_resident_payment_${STAMP}.csv.gz', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_tax_collection AS
SELECT "身份证件号码" AS id_number, "入库日期" AS date, "实缴金额" AS amount, "缴费类型" AS type,
       "缴费人姓名" AS name
FROM read_csv('${WORK}/tax_collection.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true, ignore_errors = true);

CREATE TABLE stg_ref_divisions AS
SELECT "代码" AS code, "名称" AS name, "级别" AS level, "上级代码" AS parent
FROM read_csv('${EXTRACTS}/ref_divisions.csv', delim = ',', quote = '"', escape = '"',
              header = true, all_varchar = true);
