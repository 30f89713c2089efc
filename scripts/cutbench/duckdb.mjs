// The cut of cutbench in DuckDB: the same filter and columns, the whole
// result written as CSV (to /dev/null), on the given number of threads.
// Prints the rows kept. cutbench runs it with DUCKDB_NODE, the folder where
// `npm install @duckdb/node-api` was run:
//
//	node scripts/cutbench/duckdb.mjs FILE THREADS
import { createRequire } from 'node:module';
import path from 'node:path';

const [file, threads = '2'] = process.argv.slice(2);
const require = createRequire(path.join(process.env.DUCKDB_NODE || process.cwd(), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const db = await DuckDBInstance.create(':memory:', { threads });
const conn = await db.connect();
const quoted = "'" + path.resolve(file).replaceAll("'", "''") + "'";
const sql = `COPY (SELECT id, name, city, score, joined FROM read_csv(${quoted}, header = true)
  WHERE age >= 30 AND city IN ('NYC', 'LA', 'SF') AND score < 500) TO '/dev/null' (FORMAT csv, HEADER)`;
const result = await conn.runAndReadAll(sql);
console.log(String(result.getRows()[0][0]));
