-- make bench, columns (3) and (4): the ten lists of shared/policy/POLICY.md from the facts of
-- facts.sql, the same SQL in PostgreSQL and DuckDB.  The rules are those of rules/*.rules
-- with the values of rules/parameters.conf written in (16 years, 60 years, 3 / 12 / 24
-- months, 2000 yuan, 1200 yuan + 10 x the basic pension, 6000 per staff member, division
-- 222401, authoritative death sources police, health, court, severe disability grade <= 2):
-- change a parameter there and this file has to follow by hand.
--
-- The driver creates params(d date), the as-of date, first.  Each list is a table l_<list>
-- with the columns of the generator's truth (tests/synth/SPEC.md), what the drivers write
-- out and compare with canbao's lists.

CREATE TABLE win AS
SELECT d,
       CAST(d - INTERVAL '3 months' AS DATE) AS m3,
       CAST(d - INTERVAL '12 months' AS DATE) AS m12,
       CAST(d - INTERVAL '24 months' AS DATE) AS m24,
       CAST(d + INTERVAL '3 months' AS DATE) AS p3,
       month_of(d) AS dm
FROM params;

-- ---- per person: one row per register entry, everything the lists ask about it
CREATE TABLE p_death AS
SELECT e.id, min(e.death_date) AS dod,
       max(CASE WHEN e.evidence = 'civil' THEN 1 ELSE 0 END) AS civil,
       max(CASE WHEN e.evidence = 'court' THEN 1 ELSE 0 END) AS court,
       max(CASE WHEN e.evidence = 'health' THEN 1 ELSE 0 END) AS health,
       max(CASE WHEN e.evidence = 'medical' THEN 1 ELSE 0 END) AS medical,
       max(CASE WHEN e.evidence = 'police' THEN 1 ELSE 0 END) AS police
FROM (SELECT id, death_date, evidence FROM f_death
      UNION ALL
      SELECT id, cancel_date, 'police' FROM f_register
      WHERE status = 'cancelled' AND cancel_reason = 'death' AND cancel_date IS NOT NULL) e
JOIN f_register r ON r.id = e.id
CROSS JOIN win w
WHERE e.death_date <= w.d AND e.death_date >= r.birth_date
GROUP BY e.id;

CREATE TABLE p_enrolment AS
SELECT id, status, basic_pension
FROM (SELECT id, status, basic_pension,
             row_number() OVER (PARTITION BY id ORDER BY start_date, status) AS n
      FROM f_enrolment) e
WHERE n = 1;

-- the records that hold the person in prison on D: type prison (or none), started, not
-- released (a release on D is out)
CREATE TABLE p_prison AS
SELECT id,
       max(CASE WHEN holding THEN 1 ELSE 0 END) AS in_prison,
       max(CASE WHEN holding AND end_date IS NULL THEN 1 ELSE 0 END) AS life,
       max(CASE WHEN holding THEN start_date END) AS held_since,
       max(CASE WHEN holding THEN end_date END) AS release_date,
       max(CASE WHEN is_prison AND end_date <= d THEN end_date END) AS released
FROM (SELECT id, start_date, end_date, d,
             (type IS NULL OR type = 'prison') AS is_prison,
             (type IS NULL OR type = 'prison') AND start_date <= d AND (end_date IS NULL OR end_date > d) AS holding
      FROM f_prison CROSS JOIN win) s
GROUP BY id;

-- active on D (both ends inclusive)
CREATE TABLE p_active AS
SELECT id,
       max(CASE WHEN kind = 'student' THEN 1 ELSE 0 END) AS student,
       max(CASE WHEN kind = 'institution_pension' THEN 1 ELSE 0 END) AS institution,
       max(CASE WHEN kind = 'employee_pension' THEN 1 ELSE 0 END) AS employee,
       max(CASE WHEN kind IN ('employee_medical', 'enterprise_roster') THEN 1 ELSE 0 END) AS employed,
       max(CASE WHEN kind IN ('dibao', 'tekun', 'poor_household', 'disability') THEN 1 ELSE 0 END) AS government_paid
FROM (SELECT kind, id, start_date, end_date FROM f_period
      UNION ALL
      SELECT 'disability', id, start_date, end_date FROM f_disability WHERE grade <= 2) a
CROSS JOIN win w
WHERE a.start_date <= w.d AND (a.end_date IS NULL OR a.end_date >= w.d)
GROUP BY id;

-- the last sign of life on or before D: a claim, a collection, a certification, a provident-
-- fund contribution (first day of its month), a roster or employee-medical record (the
-- earlier of D and its end, when it started by D)
CREATE TABLE p_sign AS
SELECT id, max(last_sign) AS last_sign
FROM (SELECT id, max(date) AS last_sign FROM f_claim CROSS JOIN win WHERE date <= d GROUP BY id
      UNION ALL
      SELECT id, max(date) FROM f_tax CROSS JOIN win WHERE date <= d GROUP BY id
      UNION ALL
      SELECT id, max(date) FROM f_certification CROSS JOIN win WHERE date <= d GROUP BY id
      UNION ALL
      SELECT id, first_day(max(month)) FROM f_provident CROSS JOIN win WHERE month <= dm GROUP BY id
      UNION ALL
      SELECT id, max(least(end_date, d)) FROM f_period CROSS JOIN win
      WHERE kind IN ('enterprise_roster', 'employee_medical') AND start_date <= d
        AND (end_date IS NULL OR end_date >= start_date)
      GROUP BY id) s
GROUP BY id;

-- a provident-fund contribution within 3 months before D: employment signal
CREATE TABLE p_provident AS
SELECT DISTINCT id FROM f_provident CROSS JOIN win WHERE first_day(month) > m3 AND first_day(month) <= d;

-- collections within 12 months before D
CREATE TABLE p_tax AS
SELECT id, sum(amount) AS recent_sum
FROM f_tax CROSS JOIN win WHERE date > m12 AND date <= d
GROUP BY id;

CREATE TABLE person AS
SELECT r.id, r.birth_date, r.division, r.household,
       age_on(r.birth_date, w.d) AS age,
       e.status AS enrolment, e.basic_pension,
       coalesce(e.status IN ('contributing', 'receiving', 'suspended'), false) AS live,
       dth.id IS NOT NULL AS dead, dth.dod,
       concat_ws(';', CASE WHEN dth.civil = 1 THEN 'civil' END, CASE WHEN dth.court = 1 THEN 'court' END,
                 CASE WHEN dth.health = 1 THEN 'health' END, CASE WHEN dth.medical = 1 THEN 'medical' END,
                 CASE WHEN dth.police = 1 THEN 'police' END) AS sources,
       CASE WHEN dth.civil + dth.court + dth.health + dth.medical + dth.police >= 2
              OR dth.police + dth.health + dth.court >= 1 THEN 'confirmed' ELSE 'to_verify' END AS confidence,
       coalesce(pr.in_prison, 0) = 1 AS in_prison, pr.life, pr.held_since, pr.release_date, pr.released,
       coalesce(r.status = 'active' AND r.division LIKE '222401%' AND age_on(r.birth_date, w.d) >= 16
                AND coalesce(a.student, 0) = 0 AND coalesce(a.institution, 0) = 0
                AND coalesce(a.employee, 0) = 0 AND dth.id IS NULL, false) AS eligible,
       coalesce(a.employee, 0) = 1 AS employee, coalesce(a.institution, 0) = 1 AS institution,
       coalesce(a.employed, 0) = 1 OR pf.id IS NOT NULL AS employment_signal,
       coalesce(a.government_paid, 0) = 1 AS government_paid,
       s.last_sign,
       coalesce(s.last_sign > w.m24 AND s.last_sign <= w.d, false) AS seen_24,
       coalesce(s.last_sign > w.m12 AND s.last_sign <= w.d, false) AS seen_12,
       t.recent_sum
FROM f_register r
CROSS JOIN win w
LEFT JOIN p_enrolment e ON e.id = r.id
LEFT JOIN p_death dth ON dth.id = r.id
LEFT JOIN p_prison pr ON pr.id = r.id
LEFT JOIN p_active a ON a.id = r.id
LEFT JOIN p_provident pf ON pf.id = r.id
LEFT JOIN p_sign s ON s.id = r.id
LEFT JOIN p_tax t ON t.id = r.id;

-- ---- 1. eligible but not enrolled; in prison on D apart
CREATE TABLE l_unenrolled_eligible AS
SELECT id AS id_number, substr(division, 1, 9) AS township, division AS village, household,
       nullif(concat_ws(';', CASE WHEN age >= 60 THEN 'age60' END,
                        CASE WHEN employment_signal THEN 'employment_signal' END,
                        CASE WHEN government_paid THEN 'government_paid' END,
                        CASE WHEN NOT seen_24 THEN 'possibly_absent' END), '') AS flags
FROM person WHERE eligible AND NOT live AND NOT in_prison;

CREATE TABLE l_unenrolled_in_prison AS
SELECT id AS id_number, substr(division, 1, 9) AS township,
       CASE WHEN life = 1 THEN NULL ELSE release_date END AS release_date
FROM person WHERE eligible AND NOT live AND in_prison;

-- ---- 2. deceased beneficiaries: payments after the month of death, funeral subsidy
CREATE TABLE l_deceased_beneficiaries AS
SELECT p.id AS id_number, p.dod AS death_date, p.sources, p.confidence,
       count(DISTINCT CASE WHEN pay.month > month_of(p.dod) THEN pay.month END) AS months_paid_after_death,
       CAST(coalesce(sum(CASE WHEN pay.month > month_of(p.dod) THEN pay.total END), 0) AS NUMERIC(14, 2)) AS overpaid,
       CAST(1200 + 10 * coalesce(min(CASE WHEN pay.month = month_of(p.dod) THEN pay.basic END), p.basic_pension, 0)
            AS NUMERIC(14, 2)) AS funeral_subsidy
FROM person p LEFT JOIN f_payment pay ON pay.id = p.id
WHERE p.enrolment = 'receiving' AND p.dead
GROUP BY p.id, p.dod, p.sources, p.confidence, p.basic_pension;

-- ---- 3. deceased contributors
CREATE TABLE l_deceased_contributors AS
SELECT id AS id_number, dod AS death_date, sources, confidence
FROM person WHERE enrolment = 'contributing' AND dead;

-- ---- 4. suspension during imprisonment, resumption after release
CREATE TABLE l_prison_suspension AS
SELECT id AS id_number, 'suspend' AS action, month_add(month_of(held_since), 1) AS from_month
FROM person WHERE enrolment = 'receiving' AND in_prison
UNION ALL
SELECT id, 'resume', month_add(month_of(released), 1)
FROM person WHERE enrolment = 'suspended' AND NOT in_prison AND released IS NOT NULL;

-- ---- 5. double enrolment, one row per scheme
CREATE TABLE l_double_enrolment AS
SELECT id AS id_number, 'employee' AS scheme FROM person WHERE live AND employee
UNION ALL
SELECT id, 'institution' FROM person WHERE live AND institution;

-- ---- 6. contributors reaching 60 within 3 months after D
CREATE TABLE l_approaching_benefit_age AS
SELECT p.id AS id_number, birthday(p.birth_date, 60) AS birthday60
FROM person p CROSS JOIN win w
WHERE p.enrolment = 'contributing' AND NOT p.dead
  AND birthday(p.birth_date, 60) > w.d AND birthday(p.birth_date, 60) <= w.p3;

-- ---- 7. receivers with no sign of life in 12 months
CREATE TABLE l_proof_of_life_due AS
SELECT id AS id_number, last_sign AS last_sign_of_life
FROM person WHERE enrolment = 'receiving' AND NOT dead AND NOT seen_12;

-- ---- 8. contribution reconciliation
CREATE TABLE l_contribution_reconciliation AS
SELECT id AS id_number, 'collection_without_enrolment' AS "case", CAST(NULL AS INTEGER) AS year,
       CAST(recent_sum AS NUMERIC(14, 2)) AS amount
FROM person WHERE NOT live AND recent_sum IS NOT NULL
UNION ALL
SELECT id, 'enrolled_without_collection', NULL, CAST(0 AS NUMERIC(14, 2))
FROM person WHERE enrolment = 'contributing' AND NOT dead AND recent_sum IS NULL
UNION ALL
SELECT t.id, 'subsidy_above_tier', t.year, CAST(t.amount AS NUMERIC(14, 2))
FROM (SELECT id, CAST(extract(year FROM date) AS INTEGER) AS year, sum(amount) AS amount
      FROM f_tax CROSS JOIN win
      WHERE type IN ('collective', 'donor') AND date <= d
      GROUP BY id, CAST(extract(year FROM date) AS INTEGER)) t
JOIN f_register r ON r.id = t.id
WHERE t.amount > 2000;

-- ---- 9. township staffing: service objects (live enrolment, or on list 1), one staff member
-- per 6000 and at least one, the administrative villages (村, 200-399) of the reference list
CREATE TABLE l_township_staffing AS
SELECT town.code AS township,
       coalesce(so.n, 0) AS service_objects,
       greatest(CAST(ceil(coalesce(so.n, 0) / 6000.0) AS INTEGER), 1) AS township_staff,
       (SELECT count(*) FROM f_divisions v
        WHERE v.level = '村' AND length(v.code) = 12 AND substr(v.code, 10, 3) BETWEEN '200' AND '399'
          AND substr(v.code, 1, 9) = town.code) AS villages
FROM f_divisions town
LEFT JOIN (SELECT substr(division, 1, 9) AS township, count(*) AS n
           FROM person WHERE live OR (eligible AND NOT live)
           GROUP BY substr(division, 1, 9)) so ON so.township = town.code
WHERE town.level = '乡镇' AND town.code LIKE '222401%' AND length(town.code) = 9;
