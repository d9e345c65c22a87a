// DuckDB (@duckdb/node-api) as the independent Parquet reader and writer of
// the end-to-end tests:
//   node duckdb_parquet.mjs write IN.jsonl OUT.parquet [ROW_GROUP_SIZE]
//       writes the JSON Lines rows as Parquet (DuckDB's types and encodings)
//   node duckdb_parquet.mjs read IN.parquet
//       prints the file's rows as JSON Lines, then a last line
//       {"schema": [[name, type], ...]} with DuckDB's column types
import {DuckDBInstance} from '@duckdb/node-api';

const [mode, a, b, groupSize] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const q = (s) => s.replaceAll("'", "''");
if (mode === 'write') {
  await c.run(`COPY (SELECT * FROM read_json('${q(a)}', format = 'newline_delimited'))
               TO '${q(b)}' (FORMAT parquet, ROW_GROUP_SIZE ${Number(groupSize || 2048)})`);
} else if (mode === 'read') {
  const rows = (await c.runAndReadAll(
    `SELECT to_json(t)::VARCHAR FROM read_parquet('${q(a)}') t`)).getRows();
  for (const r of rows) process.stdout.write(r[0] + '\n');
  const schema = (await c.runAndReadAll(
    `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${q(a)}'))`)).getRows();
  process.stdout.write(JSON.stringify({schema}) + '\n');
} else {
  throw new Error(`unknown mode ${mode}`);
}
