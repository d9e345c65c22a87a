// Writes tests/data/parquet/: Parquet files from independent writers
// (DuckDB, @duckdb/node-api; hyparquet-writer for the encodings DuckDB does
// not write: DELTA_BYTE_ARRAY, RLE booleans) and, for each, the rows DuckDB reads back from
// the same file, rendered the way ccguard's reader renders them (dates and
// timestamps as ISO 8601 strings, decimals as strings). The files are
// committed; rerun this only to regenerate them:
//   cd tests/e2e/js && npm ci && node make_parquet_testdata.mjs
import {DuckDBInstance} from '@duckdb/node-api';
import {parquetWriteFile} from 'hyparquet-writer';
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

// hyparquet-writer with an encoding chosen per column, small pages and row
// groups; DuckDB reads the expected rows back from the same file.
const hyp = path.join(out, 'hyparquet_encodings.parquet');
const n = 1500;
const words = ['guard', 'guardian', 'guarded', 'policy', 'policies', 'police', 'safe', 'safety'];
const col = (f) => Array.from({length: n}, (_, i) => f(i));
await parquetWriteFile({
  filename: hyp,
  columnData: [
    {name: 'id', data: col((i) => i), type: 'INT32', encoding: 'DELTA_BINARY_PACKED'},
    {name: 'prefixed', data: col((i) => (i % 17 === 0 ? null : words[i % 8] + '-' + (i * 7919 % 1000))),
     type: 'STRING', encoding: 'DELTA_BYTE_ARRAY'},
    {name: 'flag', data: col((i) => (i % 13 === 0 ? null : (i * 31) % 7 < 3)), type: 'BOOLEAN',
     encoding: 'RLE'},
    {name: 'lengths', data: col((i) => 'ü'.repeat(i % 5) + String(i)), type: 'STRING',
     encoding: 'DELTA_LENGTH_BYTE_ARRAY'},
    {name: 'ratio', data: col((i) => i / 8 - 40), type: 'DOUBLE', encoding: 'BYTE_STREAM_SPLIT'},
    {name: 'word', data: col((i) => words[(i * 5) % 8]), type: 'STRING', encoding: 'RLE_DICTIONARY'},
  ],
  pageSize: 2048,
  rowGroupSize: 700,
});
writeFileSync(hyp.replace(/\.parquet$/, '.expected.jsonl'),
  (await rows(`SELECT to_json(t)::VARCHAR FROM read_parquet('${hyp}') t`)).map((r) => r[0]).join('\n') + '\n');
const hypEnc = await rows(`SELECT DISTINCT path_in_schema, encodings FROM parquet_metadata('${hyp}') ORDER BY 1`);
const hypGroups = await rows(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${hyp}')`);
report.push(`hyparquet_encodings.parquet (hyparquet-writer): ${hypGroups[0][0]} row groups; ` +
  hypEnc.map((e) => `${e[0]}=${e[1]}`).join(' '));

writeFileSync(path.join(out, 'ENCODINGS.txt'),
  `What DuckDB ${(await rows('SELECT version()'))[0][0]} wrote (make_parquet_testdata.mjs):\n` +
  report.join('\n') + '\n');
console.log(report.join('\n'));
