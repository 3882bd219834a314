-- canbao 009: a list row's values are stored once (issue 8).
--
-- list_rows.columns held every column of the row as in its CSV, and so repeated three values
-- the row also keeps in columns of its own: the rule (about 45 bytes), the rule set's version
-- (64) and the person's ID number (18), with their keys about 170 of a row's 530 bytes, on
-- every row of every night.  The engine now leaves out of `columns` each of these whose value
-- is the row's own column's, and canbao.list_row_columns(row) puts them back: the row as
-- published.  Rows stored before this migration still hold them; the function gives the same
-- for both.  township_rows shows what it showed before (without the ID number).

COMMENT ON COLUMN canbao.list_rows.columns IS
    'the row''s columns as in its CSV, less those kept in the row''s own columns rule, rule_version '
    'and id_number (canbao.list_row_columns(row) gives them all)';

-- The row's columns as in its CSV (as JSON: the order of the keys is jsonb's).  A value the
-- engine kept in `columns` (it differed from the row's own column) is the one given.
CREATE FUNCTION canbao.list_row_columns(l canbao.list_rows)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('rule', l.rule, 'rule_version', l.rule_version)
           || CASE WHEN l.id_number IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('id_number', l.id_number::text) END
           || l.columns
$$;

CREATE OR REPLACE VIEW canbao.township_rows WITH (security_barrier) AS
SELECT l.list_name, l.township, l.village, l.household,
       left(l.id_number, 6) || '********' || right(l.id_number, 4) AS id_masked,
       l.columns->>'name' AS name,
       canbao.list_row_columns(l) - 'id_number' AS columns, i.item_id, i.state,
       (ri.status = 'new') AS new_since_last_night,
       i.first_asof, f.outcome, f.outcome_date, f.note, r.asof
  FROM canbao.runs r
  JOIN canbao.list_rows l ON l.run_id = r.run_id
  LEFT JOIN canbao.run_items ri ON ri.run_id = l.run_id AND ri.list_name = l.list_name AND ri.row_no = l.row_no
  LEFT JOIN canbao.list_items i ON i.item_id = ri.item_id
  LEFT JOIN canbao.latest_feedback f ON f.item_id = i.item_id
 WHERE r.run_id = (SELECT max(x.run_id) FROM canbao.runs x WHERE x.state = 'succeeded')
   AND canbao.may_see_township(l.township, current_user);
