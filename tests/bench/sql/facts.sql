-- make bench, columns (3) and (4): from the staged extracts (stg_<source>, raw text) to typed
-- facts, the same SQL in PostgreSQL and DuckDB.  Each definition of connectors/agencies/
-- is followed: every mapped field is parsed with its transform; a record is rejected when a
-- required field is empty or a present field does not parse (or, in the transcoded GBK /
-- GB18030 sources, holds an undecodable byte) - the records canbao rejects.
--
-- Records are tied to register persons by exact ID only (lists.sql joins on id): plain SQL
-- has no record linkage, so a record without a usable ID is dropped here, where canbao looks
-- for its person by name, birth date and address.  On data without identity noise (synth
-- --noise 0, what make bench generates) every clean record carries its person's ID.
--
-- Duplicates (the same canonical values again) are folded with DISTINCT where a list sums or
-- counts the facts (register, enrolment, payments, tax collections); elsewhere the lists only
-- ask whether a fact exists or for the latest date, which a duplicate does not change.
--
-- /*FENCE*/ is OFFSET 0 in PostgreSQL (parse each value once; the driver puts it in) and
-- nothing in DuckDB.

-- ---- the household register (ID numbers checked in full here: the other sources join them)
CREATE TABLE f_register AS
SELECT DISTINCT id, birth_date, household, division, status, cancel_reason, cancel_date
FROM (SELECT idcheck(idw) AS id, clean(name) AS name, clean(household) AS household,
             clean(division) AS division,
             CASE clean(sex) WHEN '男' THEN 'male' WHEN '女' THEN 'female' END AS sex, present(sex) AS sex_p,
             pdate(birth_date) AS birth_date, present(birth_date) AS birth_p,
             CASE clean(status) WHEN '正常' THEN 'active' WHEN '注销' THEN 'cancelled' END AS status,
             CASE clean(cancel_reason) WHEN '死亡' THEN 'death' WHEN '迁出' THEN 'moved_out'
                  ELSE CASE WHEN present(cancel_reason) THEN 'other' END END AS cancel_reason,
             pdate(cancel_date) AS cancel_date, present(cancel_date) AS cancel_p
      FROM (SELECT idwide(id_number) AS idw, * FROM stg_police_register /*FENCE*/) w /*FENCE*/) s
WHERE id IS NOT NULL AND division IS NOT NULL AND status IS NOT NULL
  AND (sex IS NOT NULL OR NOT sex_p) AND (birth_date IS NOT NULL OR NOT birth_p)
  AND (cancel_date IS NOT NULL OR NOT cancel_p);

-- ---- death evidence: health, civil (cremation), court, medical (in-hospital); police comes
-- from the register (lists.sql)
CREATE TABLE f_death AS
SELECT id, death_date, 'civil' AS evidence
FROM (SELECT idkey(id_number) AS id, pdate(death_date) AS death_date,
             CASE clean(sex) WHEN '男' THEN 'male' WHEN '女' THEN 'female' END AS sex, present(sex) AS sex_p,
             pint(age) AS age, present(age) AS age_p,
             bad_bytes(id_number) OR bad_bytes(name) OR bad_bytes(sex) OR bad_bytes(death_date)
                 OR bad_bytes(age) OR bad_bytes(address) AS bad
      FROM stg_civil_cremation /*FENCE*/) s
WHERE id IS NOT NULL AND death_date IS NOT NULL AND NOT bad
  AND (sex IS NOT NULL OR NOT sex_p) AND (age IS NOT NULL OR NOT age_p)
UNION ALL
SELECT id, death_date, 'health'
FROM (SELECT idkey(id_number) AS id, pdate(death_date) AS death_date,
             CASE clean(sex) WHEN '男' THEN 'male' WHEN '女' THEN 'female' END AS sex, present(sex) AS sex_p,
             pdate(birth_date) AS birth_date, present(birth_date) AS birth_p
      FROM stg_health_death_cert /*FENCE*/) s
WHERE id IS NOT NULL AND death_date IS NOT NULL
  AND (sex IS NOT NULL OR NOT sex_p) AND (birth_date IS NOT NULL OR NOT birth_p)
UNION ALL
SELECT id, death_date, 'court'
FROM (SELECT idkey(id_number) AS id, pdate(death_date) AS death_date,
             CASE clean(sex) WHEN '男' THEN 'male' WHEN '女' THEN 'female' END AS sex, present(sex) AS sex_p,
             pdate(birth_date) AS birth_date, present(birth_date) AS birth_p
      FROM stg_court_death_declaration /*FENCE*/) s
WHERE id IS NOT NULL AND death_date IS NOT NULL
  AND (sex IS NOT NULL OR NOT sex_p) AND (birth_date IS NOT NULL OR NOT birth_p)
UNION ALL
SELECT id, death_date, 'medical'
FROM (SELECT idkey(id_number) AS id, pdate(death_date) AS death_date,
             CASE clean(sex) WHEN '1' THEN 'male' WHEN '2' THEN 'female' END AS sex, present(sex) AS sex_p
      FROM stg_medical_inpatient_death /*FENCE*/) s
WHERE id IS NOT NULL AND death_date IS NOT NULL AND (sex IS NOT NULL OR NOT sex_p);

-- ---- the resident-scheme enrolment (one snapshot row per enrolled person)
CREATE TABLE f_enrolment AS
SELECT DISTINCT id, status, start_date, basic_pension
FROM (SELECT idkey(id_number) AS id, clean(name) AS name,
             CASE clean(status) WHEN '参保缴费' THEN 'contributing' WHEN '正常待遇' THEN 'receiving'
                  WHEN '暂停待遇' THEN 'suspended' WHEN '终止参保' THEN 'terminated' END AS status,
             pdate(start_date) AS start_date, present(start_date) AS start_p,
             pmonth(benefit_month) AS benefit_month, present(benefit_month) AS benefit_p,
             pmoney(monthly_pension) AS monthly_pension, present(monthly_pension) AS monthly_p,
             pmoney(basic_pension) AS basic_pension, present(basic_pension) AS basic_p
      FROM stg_si_resident_enrolment /*FENCE*/) s
WHERE id IS NOT NULL AND status IS NOT NULL
  AND (start_date IS NOT NULL OR NOT start_p) AND (benefit_month IS NOT NULL OR NOT benefit_p)
  AND (monthly_pension IS NOT NULL OR NOT monthly_p) AND (basic_pension IS NOT NULL OR NOT basic_p);

-- ---- monthly benefit payments; total = basic + personal account when the total is empty
CREATE TABLE f_payment AS
SELECT id, month, basic, coalesce(total, basic + coalesce(account, 0)) AS total
FROM (SELECT DISTINCT id, name, month, basic, account, total
      FROM (SELECT idkey(id_number) AS id, clean(name) AS name, pmonth(month) AS month,
                   pmoney(basic) AS basic, pmoney(account) AS account, present(account) AS account_p,
                   pmoney(total) AS total, present(total) AS total_p
            FROM stg_si_resident_payment /*FENCE*/) s
      WHERE id IS NOT NULL AND month IS NOT NULL AND basic IS NOT NULL
        AND (account IS NOT NULL OR NOT account_p) AND (total IS NOT NULL OR NOT total_p)) d;

-- ---- records with a start and an optional end date
CREATE TABLE f_period AS
SELECT kind, id, start_date, end_date
FROM (SELECT 'employee_pension' AS kind, idkey(id_number) AS id, pdate(start_date) AS start_date,
             pdate(end_date) AS end_date, present(end_date) AS end_p FROM stg_si_employee_pension
      UNION ALL
      SELECT 'institution_pension', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_si_institution_pension
      UNION ALL
      SELECT 'student', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_education_student
      UNION ALL
      SELECT 'employee_medical', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_medical_insured
      UNION ALL
      SELECT 'enterprise_roster', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_industry_roster
      UNION ALL
      SELECT 'dibao', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_civil_dibao
      UNION ALL
      SELECT 'tekun', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_civil_tekun
      UNION ALL
      SELECT 'poor_household', idkey(id_number), pdate(start_date), pdate(end_date), present(end_date)
      FROM stg_poverty_household /*FENCE*/) s
WHERE id IS NOT NULL AND start_date IS NOT NULL AND (end_date IS NOT NULL OR NOT end_p);

-- ---- prison: the justice roster (fixed width, GB18030) and the courts' criminal judgements
CREATE TABLE f_prison AS
SELECT id, start_date, end_date, type
FROM (SELECT idkey(id_number) AS id, pdate(start_date) AS start_date, pdate(end_date) AS end_date,
             present(end_date) AS end_p,
             CASE clean(type) WHEN '服刑人员' THEN 'prison' WHEN '社区矫正对象' THEN 'community_correction' END AS type,
             present(type) AS type_p,
             bad_bytes(id_number) OR bad_bytes(name) OR bad_bytes(start_date) OR bad_bytes(end_date)
                 OR bad_bytes(type) AS bad
      FROM stg_justice_corrections
      UNION ALL
      SELECT idkey(id_number), pdate(start_date), pdate(end_date), present(end_date),
             CASE clean(type) WHEN '监禁' THEN 'prison' WHEN '社区矫正' THEN 'community_correction' END,
             present(type), false
      FROM stg_court_criminal_judgement /*FENCE*/) s
WHERE id IS NOT NULL AND start_date IS NOT NULL AND NOT bad
  AND (end_date IS NOT NULL OR NOT end_p) AND (type IS NOT NULL OR NOT type_p);

-- ---- disability certificates
CREATE TABLE f_disability AS
SELECT id, grade, start_date, end_date
FROM (SELECT idkey(id_number) AS id,
             CASE clean(grade) WHEN '一级' THEN 1 WHEN '二级' THEN 2 WHEN '三级' THEN 3 WHEN '四级' THEN 4 END AS grade,
             pdate(start_date) AS start_date, present(start_date) AS start_p,
             pdate(end_date) AS end_date, present(end_date) AS end_p
      FROM stg_disability_cert /*FENCE*/) s
WHERE id IS NOT NULL AND grade IS NOT NULL
  AND (start_date IS NOT NULL OR NOT start_p) AND (end_date IS NOT NULL OR NOT end_p);

-- ---- provident-fund contributions (month yyyymm)
CREATE TABLE f_provident AS
SELECT id, month
FROM (SELECT idkey(id_number) AS id, pmonth(month) AS month,
             pmoney(amount) AS amount, present(amount) AS amount_p
      FROM stg_provident_fund /*FENCE*/) s
WHERE id IS NOT NULL AND month IS NOT NULL AND (amount IS NOT NULL OR NOT amount_p);

-- ---- medical claims, certifications: a dated sign of life
CREATE TABLE f_claim AS
SELECT id, date
FROM (SELECT idkey(id_number) AS id, pdate(date) AS date, pmoney(amount) AS amount, present(amount) AS amount_p,
             CASE clean(sex) WHEN '1' THEN 'male' WHEN '2' THEN 'female' END AS sex, present(sex) AS sex_p
      FROM stg_medical_claims /*FENCE*/) s
WHERE id IS NOT NULL AND date IS NOT NULL
  AND (amount IS NOT NULL OR NOT amount_p) AND (sex IS NOT NULL OR NOT sex_p);

CREATE TABLE f_certification AS
SELECT id, date
FROM (SELECT idkey(id_number) AS id, pdate(date) AS date FROM stg_si_certification /*FENCE*/) s
WHERE id IS NOT NULL AND date IS NOT NULL;

-- ---- contributions collected by the tax bureau
CREATE TABLE f_tax AS
SELECT DISTINCT id, name, date, amount, type
FROM (SELECT idkey(id_number) AS id, clean(name) AS name, pdate(date) AS date, pmoney(amount) AS amount,
             CASE clean(type) WHEN '个人缴费' THEN 'personal' WHEN '政府代缴' THEN 'personal'
                  WHEN '集体补助' THEN 'collective' WHEN '社会资助' THEN 'donor' END AS type,
             bad_bytes(id_number) OR bad_bytes(name) OR bad_bytes(date) OR bad_bytes(amount)
                 OR bad_bytes(type) AS bad
      FROM stg_tax_collection /*FENCE*/) s
WHERE id IS NOT NULL AND date IS NOT NULL AND amount IS NOT NULL AND type IS NOT NULL AND NOT bad;

-- ---- reference divisions
CREATE TABLE f_divisions AS
SELECT clean(code) AS code, clean(name) AS name, clean(level) AS level FROM stg_ref_divisions;

-- statistics for the planner (PostgreSQL does not gather them for a table made by CREATE
-- TABLE AS until autovacuum comes by)
ANALYZE f_register;
ANALYZE f_death;
ANALYZE f_enrolment;
ANALYZE f_payment;
ANALYZE f_period;
ANALYZE f_prison;
ANALYZE f_disability;
ANALYZE f_provident;
ANALYZE f_claim;
ANALYZE f_certification;
ANALYZE f_tax;
ANALYZE f_divisions;
