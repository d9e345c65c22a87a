// Writes tests/data/parquet/: Parquet files from an independent writer
// (DuckDB, @duckdb/node-api) and, for each, the rows DuckDB reads back from
// the same file, rendered the way ccguard's reader renders them (dates and
// timestamps as ISO 8601 strings, decimals as strings). The files are
// committed; rerun this only to regenerate them:
//   cd tests/e2e/js && npm ci && node make_parquet_testdata.mjs
import {DuckDBInstance} from '@duckdb/node-api';
import {writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/parquet');
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const rows = async (sql) => (await c.runAndReadAll(sql)).getRows();

// 5000 rows: DuckDB cuts row groups at multiples of 2048 rows, so
// ROW_GROUP_SIZE 2048 gives three row groups.
await c.run(`CREATE TABLE t AS SELECT
  i::INTEGER AS id,
  'héllo ✓ ' || (i % 7) AS s,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 'row-' || i || repeat('x', i % 13) END AS ns,
  (i * 1000000007)::BIGINT - 2000000000000 AS big,
  (4000000000 - i)::UINTEGER AS u,
  (18446744073709551615 - i)::UBIGINT AS ub,
  (i % 100 - 50)::TINYINT AS tiny,
  (i * 1.5 - 7)::DOUBLE AS d,
  (i * 0.25)::REAL AS f,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
  DATE '1969-12-25' + i::INTEGER AS day,
  TIMESTAMP '1999-12-31 23:59:58' + to_microseconds(i * 1234567) AS ts,
  ((i - 2500) * 7 / 100)::DECIMAL(9,2) AS dec9,
  ((i - 2500) * 1234567 / 1000)::DECIMAL(18,3) AS dec18,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 7 = 0 THEN []::VARCHAR[]
       ELSE ['a' || i, NULL, 'ü' || (i % 4)] END AS l,
  CASE WHEN i % 9 = 0 THEN NULL ELSE [i, i + 1] END AS li
FROM range(5000) r(i)`);

const iso = (col) => `strftime(${col}, '%Y-%m-%dT%H:%M:%S') ||
  CASE WHEN microsecond(${col}) % 1000000 = 0 THEN ''
       ELSE '.' || lpad((microsecond(${col}) % 1000000)::VARCHAR, 6, '0') END`;
const expected = (file) => `SELECT to_json(struct_pack(
  id := id, s := s, ns := ns, big := big, u := u, ub := ub, tiny := tiny, d := d, f := f, b := b,
  day := strftime(day, '%Y-%m-%d'), ts := ${iso('ts')},
  dec9 := dec9::VARCHAR, dec18 := dec18::VARCHAR, l := l, li := li))::VARCHAR
  FROM read_parquet('${file}')`;

const report = [];
let reference = null;
for (const version of ['V1', 'V2']) {
  for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd']) {
    const name = `types_${version.toLowerCase()}_${codec}.parquet`;
    const file = path.join(out, name);
    await c.run(`COPY t TO '${file}' (FORMAT parquet, PARQUET_VERSION ${version},
                 COMPRESSION ${codec}, ROW_GROUP_SIZE 2048)`);
    const text = (await rows(expected(file))).map((r) => r[0]).join('\n') + '\n';
    // Every version and codec holds the same rows: one expected file for all.
    if (reference === null) {
      reference = text;
      writeFileSync(path.join(out, 'types.expected.jsonl'), text);
    } else if (text !== reference) {
      throw new Error(`${name} reads back differently from the first file`);
    }
    const enc = await rows(`SELECT DISTINCT path_in_schema, encodings FROM parquet_metadata('${file}') ORDER BY 1`);
    const groups = await rows(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${file}')`);
    report.push(`${name}: ${groups[0][0]} row groups; ` + enc.map((e) => `${e[0]}=${e[1]}`).join(' '));
  }
}

// Columns the reader refuses (a struct, a map, a list of lists) beside ones it reads.
const nested = path.join(out, 'nested.parquet');
await c.run(`COPY (SELECT i::INTEGER AS id, 'n' || i AS name,
  {'a': i, 'b': 'x'} AS st, MAP {'k': i} AS mp, [[i], [i, i]] AS ll, [{'q': i}] AS ls
  FROM range(10) r(i)) TO '${nested}' (FORMAT parquet)`);
writeFileSync(nested.replace(/\.parquet$/, '.expected.jsonl'),
  (await rows(`SELECT to_json(struct_pack(id := id, name := name))::VARCHAR FROM read_parquet('${nested}')`))
    .map((r) => r[0]).join('\n') + '\n');

// A file with no rows (one empty row group or none).
const empty = path.join(out, 'empty.parquet');
await c.run(`COPY (SELECT 'x' AS text, 1 AS n WHERE false) TO '${empty}' (FORMAT parquet)`);

writeFileSync(path.join(out, 'ENCODINGS.txt'),
  `What DuckDB ${(await rows('SELECT version()'))[0][0]} wrote (make_parquet_testdata.mjs):\n` +
  report.join('\n') + '\n');
console.log(report.join('\n'));
