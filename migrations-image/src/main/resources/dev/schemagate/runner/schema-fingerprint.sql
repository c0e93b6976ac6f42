-- The schema fingerprint's catalog query (the Job contract: drift). The schemagate runner and the
-- Alembic kit (scripts/alembic-kit puts this file into schemagate_alembic as it is) both run it,
-- with search_path set to pg_catalog alone so that every name outside it comes out qualified,
-- whatever the tool's connection had; they hash the canonical texts it returns, in its order.
-- Parameters: the managed schema and the tool's own history table, which is left out.
-- One row per table (relkind r and p): its schema, its name and its canonical text.
WITH params AS (
  SELECT CAST(:schema AS text) AS schema_name, CAST(:history AS text) AS history
),
managed AS (
  SELECT c.oid, n.nspname, c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN params p
  WHERE n.nspname = p.schema_name AND c.relkind IN ('r', 'p') AND c.relname <> p.history
)
SELECT m.nspname, m.relname, concat_ws(E'\n',
  'table ' || m.nspname || '.' || m.relname,
  (SELECT string_agg('column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || CASE WHEN a.attnotnull THEN ' not null' ELSE ' null' END
                       || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'),
                     E'\n' ORDER BY CAST(a.attname AS text) COLLATE "C")
   FROM pg_attribute a
   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = m.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg('constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid),
                     E'\n' ORDER BY CAST(k.conname AS text) COLLATE "C")
   FROM pg_constraint k
   WHERE k.conrelid = m.oid),
  (SELECT string_agg('index ' || i.relname || ' ' || pg_get_indexdef(x.indexrelid),
                     E'\n' ORDER BY CAST(i.relname AS text) COLLATE "C")
   FROM pg_index x
   JOIN pg_class i ON i.oid = x.indexrelid
   WHERE x.indrelid = m.oid)
) AS canonical
FROM managed m
ORDER BY (m.nspname || '.' || m.relname) COLLATE "C"
