-- canbao 014: an item's change of state is written in place (issue 8).
--
-- list_items_open (003) indexed the open items by list, a partial index WHERE state IN ('new',
-- 'sent', 'acknowledged').  A column named in an index's predicate counts as indexed, so every
-- UPDATE that changed an item's state was a full new version: a new entry in each of the
-- table's four indexes, and no heap-only (HOT) update, whatever room fillfactor 70 (006) left on
-- the page.  A night changes the state of every item it lists for the first time twice (listed:
-- new, in lifecycle_apply; published: sent, in lifecycle_mark_sent).  On the first night at S
-- that is 143,000 items twice; the two UPDATEs took 3.3-5.6 s and 3.4-5.1 s with the index,
-- 2.4-4.5 s and 1.8-2.5 s without it (first nights on fresh databases, alternated, the same
-- hour).
--
-- Nothing read through the index.  The one query that selects open items by list, the items
-- a night no longer lists (lifecycle_apply), reads most of the table (the open items are most
-- of the items) and takes a sequential scan with or without it.  The unique index (list_name,
-- id_number, cause) still serves a look-up by list.

DROP INDEX canbao.list_items_open;
