-- make bench, column (3): the helper functions facts.sql and lists.sql call, PostgreSQL 15.
-- tests/bench/duckdb/functions_duckdb.sql defines the same names as DuckDB macros; everything else is shared.
--
-- Raw values arrive as text, untrimmed; every parser returns NULL for a value it cannot
-- read, so that facts.sql can tell "empty" (allowed when the field is optional) from
-- "present but invalid" (the record is rejected, as canbao rejects it).  Where a function
-- has a fast path it is a SQL function PostgreSQL inlines; the rare spellings go to PL/pgSQL.

-- a value with something in it after trimming spaces, tabs and U+3000
CREATE FUNCTION present(raw text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(btrim(raw, E' \t\u3000') <> '', false);

CREATE FUNCTION clean(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN nullif(btrim(raw, E' \t\u3000'), '');

-- a byte the transcoder could not decode (GBK / GB18030 sources): the record is rejected
CREATE FUNCTION bad_bytes(raw text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN strpos(coalesce(raw, ''), E'\uFFFD') > 0;

CREATE FUNCTION days_in_month(y int, m int) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
            WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END;

CREATE FUNCTION ymd(y int, m int, d int) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN y BETWEEN 1 AND 9999 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND days_in_month(y, m)
            THEN make_date(y, m, d) END;

-- ---- GB 11643 ID numbers
-- idwide: spaces dropped, full-width digits and x as ASCII, 15 digits widened to 18 (19
-- inserted, check character computed).  idcheck: the full check of a widened ID, for the
-- register: 18 characters, birth date, province, MOD 11-2 check character.
CREATE FUNCTION idsum(t text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (substr(t, 1, 1)::int * 7 + substr(t, 2, 1)::int * 9 + substr(t, 3, 1)::int * 10
      + substr(t, 4, 1)::int * 5 + substr(t, 5, 1)::int * 8 + substr(t, 6, 1)::int * 4
      + substr(t, 7, 1)::int * 2 + substr(t, 8, 1)::int * 1 + substr(t, 9, 1)::int * 6
      + substr(t, 10, 1)::int * 3 + substr(t, 11, 1)::int * 7 + substr(t, 12, 1)::int * 9
      + substr(t, 13, 1)::int * 10 + substr(t, 14, 1)::int * 5 + substr(t, 15, 1)::int * 8
      + substr(t, 16, 1)::int * 4 + substr(t, 17, 1)::int * 2) % 11;

CREATE FUNCTION idwide_any(raw text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE t text := upper(translate(raw, E'０１２３４５６７８９Ｘｘ \t\u3000', '0123456789XX'));
BEGIN
    IF t ~ '^[0-9]{15}$' THEN
        t := substr(t, 1, 6) || '19' || substr(t, 7);
        RETURN t || substr('10X98765432', idsum(t) + 1, 1);
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION idwide(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN raw ~ '^[0-9]{17}[0-9X]$' THEN raw ELSE idwide_any(raw) END;

CREATE FUNCTION province_ok(p int) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN p BETWEEN 11 AND 15 OR p BETWEEN 21 AND 23 OR p BETWEEN 31 AND 37 OR p BETWEEN 41 AND 46
    OR p BETWEEN 50 AND 54 OR p BETWEEN 61 AND 65 OR p IN (71, 81, 82, 83, 91);

CREATE FUNCTION idcheck(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN t IS NULL OR t !~ '^[0-9]{17}[0-9X]$' THEN NULL
            WHEN substr(t, 7, 4)::int BETWEEN 1880 AND 2100
             AND ymd(substr(t, 7, 4)::int, substr(t, 11, 2)::int, substr(t, 13, 2)::int) IS NOT NULL
             AND province_ok(substr(t, 1, 2)::int)
             AND substr('10X98765432', idsum(t) + 1, 1) = substr(t, 18, 1) THEN t END;

-- idkey: idwide alone, for the facts of every other source.  Their records are tied to a
-- person by exact equality with a register ID that passed idcheck, so an ID failing a check
-- can only fail to join (canbao rejects it; the result is the same).  Plain 18-byte IDs
-- without spaces, nearly all of them, take the inlined fast path.
CREATE FUNCTION idkey(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN octet_length(raw) = 18 AND strpos(raw, ' ') = 0 AND right(raw, 1) <> 'x' THEN raw
            ELSE idwide_any(raw) END;

-- ---- dates: 20230105, 2023-01-05, 2023-1-5, 2023/1/5, 2023.1.5, 2023年1月5日, with or
-- without a time of day after them
CREATE FUNCTION pdate_any(raw text) RETURNS date LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE t text := regexp_replace(btrim(raw, E' \t\u3000'), '[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$', '');
BEGIN
    IF t ~ '^\d{8}$' THEN
        RETURN ymd(substr(t, 1, 4)::int, substr(t, 5, 2)::int, substr(t, 7, 2)::int);
    END IF;
    IF t ~ '^\d{4}([-/.])\d{1,2}\1\d{1,2}$' OR t ~ '^\d{4}年\d{1,2}月\d{1,2}日$' THEN
        t := translate(t, '-/.年月日', '     ');
        RETURN ymd(split_part(t, ' ', 1)::int, split_part(t, ' ', 2)::int, split_part(t, ' ', 3)::int);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION pdate(raw text) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN raw ~ '^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$'
            THEN ymd(substr(raw, 1, 4)::int, substr(raw, 6, 2)::int, substr(raw, 9, 2)::int)
            WHEN raw ~ '^\d{8}$'
            THEN ymd(substr(raw, 1, 4)::int, substr(raw, 5, 2)::int, substr(raw, 7, 2)::int)
            ELSE pdate_any(raw) END;

-- months as integers yyyymm: 202301, 2023-01, 2023/1, 2023年1月, or the month of a date
CREATE FUNCTION pmonth_any(raw text) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE t text := btrim(raw, E' \t\u3000'); y int; m int; d date;
BEGIN
    IF t ~ '^\d{6}$' THEN
        y := substr(t, 1, 4)::int; m := substr(t, 5, 2)::int;
    ELSIF t ~ '^\d{4}[-/.]\d{1,2}$' OR t ~ '^\d{4}年\d{1,2}月份?$' THEN
        t := translate(t, '-/.年月份', '    ');
        y := split_part(t, ' ', 1)::int; m := split_part(t, ' ', 2)::int;
    ELSE
        d := pdate_any(t);
        RETURN extract(year FROM d)::int * 100 + extract(month FROM d)::int;
    END IF;
    RETURN CASE WHEN m BETWEEN 1 AND 12 THEN y * 100 + m END;
END $$;

CREATE FUNCTION pmonth(raw text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN raw ~ '^\d{6}$' AND substr(raw, 5, 2) BETWEEN '01' AND '12' THEN raw::int
            ELSE pmonth_any(raw) END;

-- money in yuan, at most two decimals; whole numbers
CREATE FUNCTION pmoney(raw text) RETURNS numeric(14, 2) LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN btrim(raw) ~ '^[-+]?\d{1,12}(\.\d{1,2})?$' THEN btrim(raw)::numeric(14, 2) END;

CREATE FUNCTION pint(raw text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN btrim(raw) ~ '^[-+]?\d{1,9}$' THEN btrim(raw)::int END;

-- ---- calendar helpers of the rules (rules/README.md)
CREATE FUNCTION month_of(d date) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(year FROM d)::int * 100 + extract(month FROM d)::int;

CREATE FUNCTION month_add(m int, n int) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ((m / 100) * 12 + m % 100 - 1 + n) / 12 * 100 + ((m / 100) * 12 + m % 100 - 1 + n) % 12 + 1;

CREATE FUNCTION first_day(m int) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN make_date(m / 100, m % 100, 1);

-- completed years on d (a 29 February birthday counts on 1 March in common years)
CREATE FUNCTION age_on(birth date, d date) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(year FROM d)::int - extract(year FROM birth)::int
     - CASE WHEN extract(month FROM d)::int * 100 + extract(day FROM d)::int
               < extract(month FROM birth)::int * 100 + extract(day FROM birth)::int THEN 1 ELSE 0 END;

-- the day the person reaches n years
CREATE FUNCTION birthday(birth date, n int) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN extract(month FROM birth) = 2 AND extract(day FROM birth) = 29
             AND days_in_month(extract(year FROM birth)::int + n, 2) = 28
            THEN make_date(extract(year FROM birth)::int + n, 3, 1)
            ELSE make_date(extract(year FROM birth)::int + n, extract(month FROM birth)::int,
                           extract(day FROM birth)::int) END;
