-- canbao 020: a night's items found by one join; only the new ones registered (issue 8).
--
-- lifecycle_prepare (016) joined the night's rows with list_items twice: once to find the rows
-- whose item does not exist yet (an anti-join, to register them), then again to return every
-- row's item; and PL/pgSQL's RETURN QUERY gathered the 1.4 million rows of M in a tuple store
-- before the first went out.  The township workbooks wait for it.  At M (a night after the
-- first, the same transaction rolled back each time) the function took 5.3-8.2 s, the one join
-- the engine now sends instead 2.5-2.6 s.
--
-- The engine sends the join itself (the same query a dry run has always used, with a left join:
-- a row whose item does not exist comes back without one, its state NULL, which is what a newly
-- registered item's would be) and then gives lifecycle_register the rows that came back without
-- an item, in pg_temp.lc_new: it registers them in the order of the night's rows (the numbers
-- given to new items do not change) and returns each row's item.  On a first night every row is
-- new and the work is what it was; on the nights after, a few.

CREATE FUNCTION canbao.lifecycle_register()
RETURNS TABLE (o_seq integer, o_item_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
    ANALYZE pg_temp.lc_new;
    INSERT INTO canbao.list_items (list_name, id_number, cause)
    SELECT n.list_name, n.id_number, n.cause
      FROM pg_temp.lc_new n
     ORDER BY n.seq
    ON CONFLICT DO NOTHING;

    RETURN QUERY
    SELECT n.seq, i.item_id
      FROM pg_temp.lc_new n
      JOIN canbao.list_items i
        ON i.list_name = n.list_name AND i.id_number = n.id_number AND i.cause = n.cause;
END
$$;

DROP FUNCTION canbao.lifecycle_prepare(date);
