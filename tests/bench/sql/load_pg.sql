-- make bench, column (3): every extract into PostgreSQL 15, as a user would load them.
--
--   psql -v dir=EXTRACTS -v conv=CONVERTED -v stamp=YYYYMMDD -v py=PYTHON3 -v transcode=transcode.py
--
-- One relation stg_<source> per connector definition (connectors/agencies/<source>.conf), its
-- columns the definition's canonical fields, values as raw text; facts.sql reads them.
--
-- Delimited text: COPY can not skip a record with the wrong number of fields (the agencies'
-- files hold some, and canbao rejects exactly those), so each line is copied whole into a
-- one-column table (CSV mode with a delimiter and quote that never occur, so nothing is
-- interpreted) and split with string_to_array; the split keeps the lines with the header's
-- field count (header-less files: at least as many as the highest mapped position).  No
-- field of these files holds its delimiter; the one quoted file quotes every field.
-- GBK / GB18030 files come through transcode.py (COPY ... ENCODING 'GBK' stops at the first
-- invalid byte).  JSON Lines: jsonb, a line that does not parse caught per row (PostgreSQL 15
-- has no non-throwing JSON test).  XML: xmltable over the whole document.  XLSX: the TSV
-- written by prepare_convert.py before the timed run.  Fixed width in bytes: read as LATIN1,
-- where a byte is a character.  Each view ends in OFFSET 0 so that a field is taken out of
-- its line once, not again at every use in facts.sql (half the time of the big sources).

\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- one line per row, nothing interpreted
\set lines 'FORMAT csv, DELIMITER E''\\x01'', QUOTE E''\\x02'''

-- (a subtransaction per row, so not in parallel workers)
CREATE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL UNSAFE AS $$
BEGIN
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- ---- police_register: CSV, UTF-8 with BOM, CRLF, 15 columns
CREATE UNLOGGED TABLE raw_police_register (line text);
\set f :dir '/police_register_' :stamp '.csv'
COPY raw_police_register FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_police_register AS
SELECT f[1] AS id_number, f[2] AS name, f[3] AS sex, f[5] AS birth_date, f[4] AS ethnicity,
       f[6] AS household, f[7] AS relation, f[8] AS division, f[11] AS address, f[12] AS phone,
       f[13] AS status, f[14] AS cancel_reason, f[15] AS cancel_date
FROM (SELECT string_to_array(line, ',') AS f FROM raw_police_register OFFSET 0) s
WHERE cardinality(f) = 15 OFFSET 0;

-- ---- civil_cremation: tab-separated, GBK, CRLF, 10 columns
CREATE UNLOGGED TABLE raw_civil_cremation (line text);
\set p :py ' ' :transcode ' gbk ' :dir '/civil_cremation_' :stamp '.txt'
COPY raw_civil_cremation FROM PROGRAM :'p' WITH (:lines, HEADER true);
CREATE VIEW stg_civil_cremation AS
SELECT f[5] AS id_number, f[2] AS name, f[3] AS sex, f[6] AS death_date, f[4] AS age, f[8] AS address
FROM (SELECT string_to_array(line, E'\t') AS f FROM raw_civil_cremation OFFSET 0) s
WHERE cardinality(f) = 10 OFFSET 0;

-- ---- XLSX sheets, converted to TSV before the timed run
CREATE UNLOGGED TABLE raw_civil_dibao (line text);
\set f :conv '/civil_dibao.tsv'
COPY raw_civil_dibao FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_civil_dibao AS
SELECT f[5] AS id_number, f[4] AS name, f[11] AS start_date, f[12] AS end_date
FROM (SELECT string_to_array(line, E'\t') AS f FROM raw_civil_dibao OFFSET 0) s
WHERE cardinality(f) = 12 OFFSET 0;

CREATE UNLOGGED TABLE raw_civil_tekun (line text);
\set f :conv '/civil_tekun.tsv'
COPY raw_civil_tekun FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_civil_tekun AS
SELECT f[3] AS id_number, f[1] AS name, f[5] AS start_date, f[6] AS end_date
FROM (SELECT string_to_array(line, E'\t') AS f FROM raw_civil_tekun OFFSET 0) s
WHERE cardinality(f) = 10 OFFSET 0;

CREATE UNLOGGED TABLE raw_disability_cert (line text);
\set f :conv '/disability_cert.tsv'
COPY raw_disability_cert FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_disability_cert AS
SELECT f[4] AS id_number, f[2] AS name, f[6] AS grade, f[7] AS start_date, f[8] AS end_date
FROM (SELECT string_to_array(line, E'\t') AS f FROM raw_disability_cert OFFSET 0) s
WHERE cardinality(f) = 9 OFFSET 0;

CREATE UNLOGGED TABLE raw_industry_roster (line text);
\set f :conv '/industry_roster.tsv'
COPY raw_industry_roster FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_industry_roster AS
SELECT f[5] AS id_number, f[4] AS name, f[8] AS start_date, f[9] AS end_date
FROM (SELECT string_to_array(line, E'\t') AS f FROM raw_industry_roster OFFSET 0) s
WHERE cardinality(f) = 9 OFFSET 0;

-- ---- XML: xmltable, the namespaces as the documents declare them
\set f :dir '/court_criminal_judgement_' :stamp '.xml'
CREATE UNLOGGED TABLE stg_court_criminal_judgement AS
SELECT x.* FROM xmltable(
    XMLNAMESPACES('http://www.court.gov.cn/schema/cpws/2.1' AS fy), '//fy:文书'
    PASSING xmlparse(DOCUMENT convert_from(pg_read_binary_file(:'f'), 'UTF8'))
    COLUMNS id_number text PATH 'fy:被告人/fy:公民身份号码',
            name text PATH 'fy:被告人/fy:姓名',
            start_date text PATH 'fy:判决结果/fy:刑期/@起始日期',
            end_date text PATH 'fy:判决结果/fy:刑期/@截止日期',
            type text PATH 'fy:判决结果/fy:执行方式') x;

\set f :dir '/court_death_declaration_' :stamp '.xml'
CREATE UNLOGGED TABLE stg_court_death_declaration AS
SELECT x.* FROM xmltable(
    XMLNAMESPACES('http://www.court.gov.cn/schema/cpws/2.1' AS fy), '//fy:文书'
    PASSING xmlparse(DOCUMENT convert_from(pg_read_binary_file(:'f'), 'UTF8'))
    COLUMNS id_number text PATH 'fy:被申请人/fy:公民身份号码',
            name text PATH 'fy:被申请人/fy:姓名',
            sex text PATH 'fy:被申请人/fy:性别',
            birth_date text PATH 'fy:被申请人/fy:出生日期',
            death_date text PATH 'fy:裁判日期') x;

\set f :dir '/health_death_cert_' :stamp '.xml'
CREATE UNLOGGED TABLE stg_health_death_cert AS
SELECT x.* FROM xmltable(
    XMLNAMESPACES('urn:cn:gov:nhc:swyxzm:2.0' AS h), '/h:死亡医学证明书数据集/h:死亡医学证明书'
    PASSING xmlparse(DOCUMENT convert_from(pg_read_binary_file(:'f'), 'UTF8'))
    COLUMNS id_number text PATH 'h:死者/h:有效身份证件',
            name text PATH 'h:死者/h:姓名',
            sex text PATH 'h:死者/@性别',
            birth_date text PATH 'h:死者/h:出生日期',
            death_date text PATH 'h:死亡信息/h:死亡日期') x;

-- ---- education_student: ';'-separated, every field in double quotes, 10 columns
CREATE UNLOGGED TABLE raw_education_student (line text);
\set f :dir '/education_student_' :stamp '.csv'
COPY raw_education_student FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_education_student AS
SELECT btrim(f[4], '"') AS id_number, btrim(f[2], '"') AS name,
       btrim(f[8], '"') AS start_date, btrim(f[9], '"') AS end_date
FROM (SELECT string_to_array(line, ';') AS f FROM raw_education_student OFFSET 0) s
WHERE cardinality(f) = 10 OFFSET 0;

-- ---- justice_corrections: fixed width in characters, GB18030, no header
CREATE UNLOGGED TABLE raw_justice_corrections (line text);
\set p :py ' ' :transcode ' gb18030 ' :dir '/justice_corrections_' :stamp '.txt'
COPY raw_justice_corrections FROM PROGRAM :'p' WITH (:lines);
CREATE VIEW stg_justice_corrections AS
SELECT substr(line, 13, 18) AS id_number, substr(line, 1, 10) AS name,
       substr(line, 69, 8) AS start_date, substr(line, 77, 8) AS end_date, substr(line, 31, 8) AS type
FROM raw_justice_corrections WHERE line IS NOT NULL OFFSET 0;

-- ---- JSON Lines
CREATE UNLOGGED TABLE raw_medical_claims (line text);
\set p 'gzip -dc ' :dir '/medical_claims_' :stamp '.jsonl.gz'
COPY raw_medical_claims FROM PROGRAM :'p' WITH (:lines);
CREATE VIEW stg_medical_claims AS
SELECT j ->> 'certno' AS id_number, j ->> 'setl_time' AS date, j ->> 'medfee_sumamt' AS amount,
       j ->> 'psn_name' AS name, j ->> 'gend' AS sex
FROM (SELECT try_jsonb(line) AS j FROM raw_medical_claims OFFSET 0) s
WHERE jsonb_typeof(j) = 'object' OFFSET 0;

CREATE UNLOGGED TABLE raw_medical_inpatient_death (line text);
\set f :dir '/medical_inpatient_death_' :stamp '.jsonl'
COPY raw_medical_inpatient_death FROM :'f' WITH (:lines);
CREATE VIEW stg_medical_inpatient_death AS
SELECT j #>> '{患者,证件号码}' AS id_number, j #>> '{患者,姓名}' AS name, j #>> '{患者,性别}' AS sex,
       j #>> '{住院,死亡日期}' AS death_date
FROM (SELECT try_jsonb(line) AS j FROM raw_medical_inpatient_death OFFSET 0) s
WHERE jsonb_typeof(j) = 'object' OFFSET 0;

-- ---- medical_insured: '|'-separated, 10 columns
CREATE UNLOGGED TABLE raw_medical_insured (line text);
\set f :dir '/medical_insured_' :stamp '.txt'
COPY raw_medical_insured FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_medical_insured AS
SELECT f[4] AS id_number, f[2] AS name, f[9] AS start_date, f[10] AS end_date
FROM (SELECT string_to_array(line, '|') AS f FROM raw_medical_insured OFFSET 0) s
WHERE cardinality(f) = 10 OFFSET 0;

-- ---- poverty_household: CSV, 11 columns
CREATE UNLOGGED TABLE raw_poverty_household (line text);
\set f :dir '/poverty_household_' :stamp '.csv'
COPY raw_poverty_household FROM :'f' WITH (:lines, HEADER true);
-- A household's members share a row: their IDs and names in one cell each, split on ; ； 、 , ，
-- (connectors/agencies/poverty_household.conf).  As canbao reads it: one fact per member; the
-- row is rejected whole when the two cells list different numbers of values, more than 64, or
-- when an ID among several fails its check (IDs that share a cell are not repaired).
CREATE VIEW stg_poverty_household AS
SELECT CASE WHEN cardinality(s.ids) > 1 THEN m.id ELSE s.id_raw END AS id_number,
       s.start_date, s.end_date
FROM (SELECT f[5] AS id_raw, f[10] AS start_date, f[11] AS end_date,
             array_remove(regexp_split_to_array(coalesce(btrim(f[5], E' \t\u3000'), ''), E'[ \t\u3000]*[;；、,，][ \t\u3000]*'), '') AS ids,
             array_remove(regexp_split_to_array(coalesce(btrim(f[4], E' \t\u3000'), ''), E'[ \t\u3000]*[;；、,，][ \t\u3000]*'), '') AS names
      FROM (SELECT string_to_array(line, ',') AS f FROM raw_poverty_household OFFSET 0) r
      WHERE cardinality(f) = 11 OFFSET 0) s,
     LATERAL unnest(CASE WHEN greatest(cardinality(s.ids), 1) <> greatest(cardinality(s.names), 1) THEN '{}'::text[]
                         WHEN cardinality(s.ids) <= 1 THEN ARRAY[NULL::text]
                         WHEN cardinality(s.ids) > 64
                           OR EXISTS (SELECT 1 FROM unnest(s.ids) v WHERE idcheck(idwide(v)) IS NULL) THEN '{}'::text[]
                         ELSE s.ids END) AS m(id);

-- ---- provident_fund: fixed width in bytes, UTF-8 (names), no header
CREATE UNLOGGED TABLE raw_provident_fund (line text);
\set f :dir '/provident_fund_' :stamp '.dat'
COPY raw_provident_fund FROM :'f' WITH (:lines, ENCODING 'LATIN1');
CREATE VIEW stg_provident_fund AS
SELECT substr(line, 117, 18) AS id_number, substr(line, 135, 6) AS month, substr(line, 173, 10) AS amount
FROM raw_provident_fund WHERE line IS NOT NULL OFFSET 0;

-- ---- social insurance: CSV
CREATE UNLOGGED TABLE raw_si_certification (line text);
\set f :dir '/si_certification_' :stamp '.csv'
COPY raw_si_certification FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_si_certification AS
SELECT f[2] AS id_number, f[4] AS date, f[3] AS name
FROM (SELECT string_to_array(line, ',') AS f FROM raw_si_certification OFFSET 0) s
WHERE cardinality(f) = 7 OFFSET 0;

-- no header row: columns by position, the highest mapped one is 10
CREATE UNLOGGED TABLE raw_si_employee_pension (line text);
\set f :dir '/si_employee_pension_' :stamp '.csv'
COPY raw_si_employee_pension FROM :'f' WITH (:lines);
CREATE VIEW stg_si_employee_pension AS
SELECT f[2] AS id_number, f[3] AS name, f[7] AS start_date, f[10] AS end_date
FROM (SELECT string_to_array(line, ',') AS f FROM raw_si_employee_pension OFFSET 0) s
WHERE cardinality(f) >= 10 OFFSET 0;

CREATE UNLOGGED TABLE raw_si_institution_pension (line text);
\set f :dir '/si_institution_pension_' :stamp '.csv'
COPY raw_si_institution_pension FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_si_institution_pension AS
SELECT f[2] AS id_number, f[3] AS name, f[8] AS start_date, f[11] AS end_date
FROM (SELECT string_to_array(line, ',') AS f FROM raw_si_institution_pension OFFSET 0) s
WHERE cardinality(f) = 11 OFFSET 0;

CREATE UNLOGGED TABLE raw_si_resident_enrolment (line text);
\set f :dir '/si_resident_enrolment_' :stamp '.csv'
COPY raw_si_resident_enrolment FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_si_resident_enrolment AS
SELECT f[4] AS id_number, f[2] AS name, f[7] AS status, f[6] AS start_date, f[8] AS benefit_month,
       f[9] AS monthly_pension, f[10] AS basic_pension, f[13] AS township
FROM (SELECT string_to_array(line, ',') AS f FROM raw_si_resident_enrolment OFFSET 0) s
WHERE cardinality(f) = 17 OFFSET 0;

CREATE UNLOGGED TABLE raw_si_resident_payment (line text);
\set p 'gzip -dc ' :dir '/si_resident_payment_' :stamp '.csv.gz'
COPY raw_si_resident_payment FROM PROGRAM :'p' WITH (:lines, HEADER true);
CREATE VIEW stg_si_resident_payment AS
SELECT f[3] AS id_number, f[5] AS month, f[6] AS basic, f[7] AS account, f[8] AS total, f[4] AS name
FROM (SELECT string_to_array(line, ',') AS f FROM raw_si_resident_payment OFFSET 0) s
WHERE cardinality(f) = 10 OFFSET 0;

-- ---- tax_collection: CSV, GBK, CRLF, gzip, 11 columns
CREATE UNLOGGED TABLE raw_tax_collection (line text);
\set p :py ' ' :transcode ' gbk ' :dir '/tax_collection_' :stamp '.csv.gz'
COPY raw_tax_collection FROM PROGRAM :'p' WITH (:lines, HEADER true);
CREATE VIEW stg_tax_collection AS
SELECT f[3] AS id_number, f[9] AS date, f[7] AS amount, f[5] AS type, f[2] AS name
FROM (SELECT string_to_array(line, ',') AS f FROM raw_tax_collection OFFSET 0) s
WHERE cardinality(f) = 11 OFFSET 0;

-- ---- reference: townships and villages
CREATE UNLOGGED TABLE raw_ref_divisions (line text);
\set f :dir '/ref_divisions.csv'
COPY raw_ref_divisions FROM :'f' WITH (:lines, HEADER true);
CREATE VIEW stg_ref_divisions AS
SELECT f[1] AS code, f[2] AS name, f[3] AS level, f[4] AS parent
FROM (SELECT string_to_array(line, ',') AS f FROM raw_ref_divisions OFFSET 0) s
WHERE cardinality(f) = 4 OFFSET 0;
