-- make bench, column (4): the helper functions of facts.sql and lists.sql as DuckDB macros.
-- The same names and meanings as functions_pg.sql (read the comments there); only the
-- dialect differs: macros instead of functions, RE2 full-match instead of anchored ~,
-- try_strptime for dates, TRY_CAST, // for integer division, strlen counts bytes.  A macro
-- is expanded where it is used, so facts.sql applies idwide and idcheck in two steps.

CREATE MACRO ws() AS ' ' || chr(9) || chr(12288);
CREATE MACRO present(raw) AS coalesce(trim(raw, ws()) <> '', false);
CREATE MACRO clean(raw) AS nullif(trim(raw, ws()), '');
CREATE MACRO bad_bytes(raw) AS strpos(coalesce(raw, ''), chr(65533)) > 0;

CREATE MACRO days_in_month(y, m) AS
    CASE WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
         WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;
CREATE MACRO ymd(y, m, d) AS
    CASE WHEN y BETWEEN 1 AND 9999 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND days_in_month(y, m)
         THEN make_date(y, m, d) END;
CREATE MACRO int_at(t, p, n) AS TRY_CAST(substr(t, p, n) AS INTEGER);

-- ---- GB 11643 ID numbers
CREATE MACRO idsum(t) AS
    (int_at(t, 1, 1) * 7 + int_at(t, 2, 1) * 9 + int_at(t, 3, 1) * 10 + int_at(t, 4, 1) * 5
   + int_at(t, 5, 1) * 8 + int_at(t, 6, 1) * 4 + int_at(t, 7, 1) * 2 + int_at(t, 8, 1) * 1
   + int_at(t, 9, 1) * 6 + int_at(t, 10, 1) * 3 + int_at(t, 11, 1) * 7 + int_at(t, 12, 1) * 9
   + int_at(t, 13, 1) * 10 + int_at(t, 14, 1) * 5 + int_at(t, 15, 1) * 8 + int_at(t, 16, 1) * 4
   + int_at(t, 17, 1) * 2) % 11;
CREATE MACRO idwide18(t) AS t || substr('10X98765432', idsum(t) + 1, 1);
CREATE MACRO idwide_t(t) AS
    CASE WHEN regexp_full_match(t, '[0-9]{15}') THEN idwide18(substr(t, 1, 6) || '19' || substr(t, 7))
         ELSE t END;
CREATE MACRO idwide(raw) AS
    CASE WHEN regexp_full_match(raw, '[0-9]{17}[0-9X]') THEN raw
         ELSE idwide_t(upper(translate(raw, '０１２３４５６７８９Ｘｘ ' || chr(9) || chr(12288), '0123456789XX'))) END;
CREATE MACRO idcheck(t) AS
    CASE WHEN regexp_full_match(t, '[0-9]{17}[0-9X]')
          AND substr(t, 7, 4) BETWEEN '1880' AND '2100'
          AND TRY_CAST(substr(t, 7, 4) || '-' || substr(t, 11, 2) || '-' || substr(t, 13, 2) AS DATE) IS NOT NULL
          AND substr(t, 1, 2) IN ('11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35',
                                  '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54',
                                  '61', '62', '63', '64', '65', '71', '81', '82', '83', '91')
          AND substr('10X98765432', idsum(t) + 1, 1) = substr(t, 18, 1) THEN t END;
CREATE MACRO idkey(raw) AS
    CASE WHEN strlen(raw) = 18 AND strpos(raw, ' ') = 0 AND right(raw, 1) <> 'x' THEN raw ELSE idwide(raw) END;

-- ---- dates, months, money, integers: try_strptime with the spellings canbao reads, after a
-- fast path for the two common ones (try_strptime with a list of formats is slow)
CREATE MACRO pdate_any(raw) AS
    CAST(try_strptime(trim(raw, ws()), ['%Y-%m-%d', '%Y%m%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日',
                                        '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S',
                                        '%Y/%m/%d %H:%M:%S', '%Y%m%d %H:%M:%S']) AS DATE);
CREATE MACRO pdate(raw) AS
    CASE WHEN regexp_full_match(raw, '\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?')
         THEN TRY_CAST(substr(raw, 1, 10) AS DATE)
         WHEN regexp_full_match(raw, '\d{8}')
         THEN TRY_CAST(substr(raw, 1, 4) || '-' || substr(raw, 5, 2) || '-' || substr(raw, 7, 2) AS DATE)
         ELSE pdate_any(raw) END;
CREATE MACRO month_of(d) AS CAST(extract(year FROM d) * 100 + extract(month FROM d) AS INTEGER);
CREATE MACRO pmonth(raw) AS
    CASE WHEN regexp_full_match(raw, '\d{6}')
         THEN CASE WHEN substr(raw, 5, 2) BETWEEN '01' AND '12' THEN TRY_CAST(raw AS INTEGER) END
         ELSE coalesce(month_of(try_strptime(trim(raw, ws()), ['%Y%m', '%Y-%m', '%Y/%m', '%Y.%m', '%Y年%m月', '%Y年%m月份'])),
                       month_of(pdate(raw))) END;

CREATE MACRO pmoney(raw) AS
    CASE WHEN regexp_full_match(trim(raw), '[-+]?\d{1,12}(\.\d{1,2})?') THEN TRY_CAST(trim(raw) AS DECIMAL(14, 2)) END;
CREATE MACRO pint(raw) AS
    CASE WHEN regexp_full_match(trim(raw), '[-+]?\d{1,9}') THEN TRY_CAST(trim(raw) AS INTEGER) END;

-- ---- calendar helpers of the rules
CREATE MACRO month_add(m, n) AS
    CAST(((m // 100) * 12 + m % 100 - 1 + n) // 12 * 100 + ((m // 100) * 12 + m % 100 - 1 + n) % 12 + 1 AS INTEGER);
CREATE MACRO first_day(m) AS make_date(m // 100, m % 100, 1);
CREATE MACRO age_on(birth, d) AS
    CAST(extract(year FROM d) - extract(year FROM birth)
         - CASE WHEN extract(month FROM d) * 100 + extract(day FROM d)
                   < extract(month FROM birth) * 100 + extract(day FROM birth) THEN 1 ELSE 0 END AS INTEGER);
CREATE MACRO birthday(birth, n) AS
    CASE WHEN extract(month FROM birth) = 2 AND extract(day FROM birth) = 29
          AND days_in_month(extract(year FROM birth) + n, 2) = 28
         THEN make_date(extract(year FROM birth) + n, 3, 1)
         ELSE make_date(extract(year FROM birth) + n, extract(month FROM birth), extract(day FROM birth)) END;
