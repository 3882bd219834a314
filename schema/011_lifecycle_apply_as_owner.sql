-- canbao 011: lifecycle_apply runs as the schema's owner again.
--
-- 005 made lifecycle_apply SECURITY DEFINER with a fixed search_path: it ANALYZEs the tables the
-- run has just filled, which only their owner may do, and the nightly login is not the owner.
-- 006 and 007 replaced the function with CREATE OR REPLACE FUNCTION, which gives a function the
-- properties its new text names and no others: both were lost.  Run as the nightly login, the
-- ANALYZEs were skipped with a warning, and the night's joins were planned on the statistics of
-- the night before.  The grants (EXECUTE for the engine only) are kept by a replacement.

ALTER FUNCTION canbao.lifecycle_apply(bigint, text[])
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
