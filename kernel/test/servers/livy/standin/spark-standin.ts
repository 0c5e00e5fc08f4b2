// The Spark stand-in shared by the Livy and Databricks Command Execution test servers: one DuckDB connection per
// Spark session (so temp views live and die with the session, as in Spark), Spark SQL translated to DuckDB by
// turning backtick identifiers into double-quoted ones, and a Python REPL (pyspark_standin.py) for PySpark code.
// It is a stand-in, not Spark: docs/spark.md lists what it supports.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DuckDBBlobValue,
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
} from '@duckdb/node-api';
import { parseDuckDbError } from '../../../contract/warehouse.ts';

const STANDIN_PY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pyspark_standin.py');

export interface SparkColumn {
  name: string;
  /** Spark SQL JSON type name: long, integer, string, double, decimal(10,2), date, timestamp, ... */
  type: string;
}
export interface SparkTable {
  columns: SparkColumn[];
  rows: unknown[][];
}

export type PythonResult =
  | { status: 'ok'; text: string; table: SparkTable | null }
  | { status: 'error'; ename: string; evalue: string; traceback: string[] };

/**
 * Spark SQL that DuckDB spells differently: backtick identifiers become double-quoted ones (same length, so error
 * positions still match) and `* EXCEPT (...)` becomes `* EXCLUDE (...)`. Strings and comments pass through.
 */
export function translateSparkSql(sql: string): string {
  return backticksToDoubleQuotes(sql).replace(/\*\s+EXCEPT\s*\(/gi, (m) => m.replace(/EXCEPT/i, 'EXCLUDE'));
}

function backticksToDoubleQuotes(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'") {
      const end = findClose(sql, i, "'");
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '`') {
      const end = findClose(sql, i, '`');
      const inner = sql.slice(i + 1, end - 1).replaceAll('``', '`');
      out += '"' + inner.replaceAll('"', '""') + '"';
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl === -1 ? sql.length : nl;
      out += sql.slice(i, end);
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function findClose(s: string, start: number, q: string): number {
  let i = start + 1;
  while (i < s.length) {
    if (s[i] === q) {
      if (s[i + 1] === q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return s.length;
}

/** DuckDB type name -> the name Spark writes in a StructType JSON schema. */
export function sparkTypeOf(duckType: string): string {
  const t = duckType.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `decimal(${dec[1]},${dec[2]})`;
  if (t.endsWith('[]')) return `array<${sparkTypeOf(duckType.slice(0, -2))}>`;
  switch (t) {
    case 'BIGINT':
    case 'UBIGINT':
      return 'long';
    case 'INTEGER':
    case 'UINTEGER':
      return 'integer';
    case 'SMALLINT':
    case 'USMALLINT':
      return 'short';
    case 'TINYINT':
    case 'UTINYINT':
      return 'byte';
    case 'HUGEINT':
      return 'decimal(38,0)';
    case 'DOUBLE':
      return 'double';
    case 'FLOAT':
      return 'float';
    case 'BOOLEAN':
      return 'boolean';
    case 'DATE':
      return 'date';
    case 'TIMESTAMP':
    case 'TIMESTAMP WITH TIME ZONE':
      return 'timestamp';
    case 'BLOB':
      return 'binary';
    case 'NULL':
    case '"NULL"':
      return 'void';
    default:
      return 'string';
  }
}

/** A number whose exact text must reach the JSON body (a decimal or a long past 2^53). */
export class RawNumber {
  constructor(readonly text: string) {}
}

function isoFromMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  return new Date(ms).toISOString();
}

/**
 * Values as Livy's json4s writes Spark rows: numbers for every numeric type (exact), dates and timestamps in
 * json4s' default `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (UTC), binary as an array of bytes.
 */
function sparkJsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : new RawNumber(v.toString());
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof DuckDBDecimalValue) return new RawNumber(v.toString());
  if (v instanceof DuckDBDateValue) return `${v.toString()}T00:00:00.000Z`;
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return isoFromMicros(v.micros);
  if (v instanceof DuckDBTimeValue) return v.toString();
  if (v instanceof DuckDBBlobValue) return Array.from(v.bytes);
  if (v instanceof DuckDBListValue) return v.items.map(sparkJsonValue);
  if (v instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, sparkJsonValue(x)]));
  }
  return String(v);
}

/** JSON.stringify that writes RawNumber values as bare numbers. */
export function stringifySpark(value: unknown): string {
  const json = JSON.stringify(value, (_k, v) => (v instanceof RawNumber ? `\u0000RAW:${v.text}\u0000` : v));
  return json.replace(/"\\u0000RAW:([^"\\]+)\\u0000"/g, '$1');
}

/** JSON.parse that reads numbers with more than 15 digits as RawNumber (the Python REPL writes exact ints). */
function parseKeepingBigNumbers(text: string): unknown {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9eE+\-.]/.test(text[j])) j++;
      if (text.slice(i, j).replace(/[^0-9]/g, '').length > 15) {
        out += `${text.slice(last, i)}"\\u0000RAW:${text.slice(i, j)}"`;
        last = j;
      }
      i = j - 1;
    }
  }
  return JSON.parse(out + text.slice(last), (_k, v) =>
    typeof v === 'string' && v.startsWith('\u0000RAW:') ? new RawNumber(v.slice(5)) : v,
  );
}

/** DuckDB's error told the way Spark SQL tells it, with Spark's `line L pos P` (0-based pos) when DuckDB has one. */
export function sparkErrorMessage(duckMessage: string): string {
  const e = parseDuckDbError(duckMessage);
  const where = e.line !== undefined ? `; line ${e.line} pos ${e.position}` : '';
  switch (e.kind) {
    case 'parser':
      return `[PARSE_SYNTAX_ERROR] Syntax error at or near '${e.token ?? ''}'. SQLSTATE: 42601 (line ${e.line ?? 1}, pos ${e.position ?? 0})`;
    case 'binder':
      return `[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A column, variable, or function parameter with name \`${e.token ?? ''}\` cannot be resolved. SQLSTATE: 42703${where}`;
    case 'catalog':
      return `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${e.token ?? ''}\` cannot be found. SQLSTATE: 42P01${where}`;
    default:
      return `${e.text}${where}`;
  }
}

export class SparkStandin {
  private python?: { proc: ChildProcessWithoutNullStreams; lines: Interface; iterator: AsyncIterator<string> };
  private closed = false;

  private constructor(private readonly con: DuckDBConnection) {}

  /** One stand-in per Spark session; all share the instance's tables, temp views are per connection. */
  static async open(instance: DuckDBInstance): Promise<SparkStandin> {
    return new SparkStandin(await instance.connect());
  }

  static async createInstance(seedSql: string[] = []): Promise<DuckDBInstance> {
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const con = await instance.connect();
    for (const sql of seedSql) await con.run(sql);
    con.closeSync();
    return instance;
  }

  async sql(sparkSql: string, limit?: number | null): Promise<SparkTable> {
    // Spark's catalog commands, answered in Spark's shapes from DuckDB's information schema.
    if (/^\s*SHOW\s+TABLES\s*;?\s*$/i.test(sparkSql)) {
      return this.sql(
        `SELECT 'default' AS namespace, table_name AS tableName, false AS isTemporary FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`,
      );
    }
    const describe = /^\s*DESCRIBE\s+TABLE\s+(.+?)\s*;?\s*$/i.exec(sparkSql);
    if (describe) {
      const name = translateSparkSql(describe[1]).split('.').pop()!.replace(/^"|"$/g, '').replaceAll('""', '"');
      const t = await this.sql(
        `SELECT column_name AS col_name, data_type, NULL::VARCHAR AS comment FROM information_schema.columns WHERE table_schema = 'main' AND table_name = '${name.replaceAll("'", "''")}' ORDER BY ordinal_position`,
      );
      return { columns: t.columns, rows: t.rows.map(([c, type, comment]) => [c, sparkTypeOf(String(type)), comment]) };
    }
    let reader: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      reader = await this.con.runAndReadAll(translateSparkSql(sparkSql));
    } catch (e) {
      throw new Error(sparkErrorMessage((e as Error).message));
    }
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => sparkTypeOf(t.toString()));
    let rows = reader.getRows() as unknown[][];
    if (limit !== undefined && limit !== null) rows = rows.slice(0, limit);
    return {
      columns: names.map((name, i) => ({ name, type: types[i] })),
      rows: rows.map((r) => r.map(sparkJsonValue)),
    };
  }

  /** Runs PySpark-like code in this session's Python REPL (started on first use, kept for the session's life). */
  async runPython(code: string): Promise<PythonResult> {
    const py = this.startPython();
    py.proc.stdin.write(JSON.stringify({ type: 'execute', code }) + '\n');
    for (;;) {
      const next = await py.iterator.next();
      if (next.done) return { status: 'error', ename: 'EOFError', evalue: 'Python REPL exited', traceback: [] };
      const msg = parseKeepingBigNumbers(next.value) as
        | { type: 'sql'; sql: string; limit: number | null }
        | ({ type: 'result' } & PythonResult);
      if (msg.type === 'result') {
        const { type: _t, ...result } = msg;
        return result as PythonResult;
      }
      let answer: object;
      try {
        answer = { ok: true, ...(await this.sql(msg.sql, msg.limit)) };
      } catch (e) {
        answer = { ok: false, error: (e as Error).message };
      }
      py.proc.stdin.write(stringifySpark(answer) + '\n');
    }
  }

  private startPython() {
    if (this.closed) throw new Error('Spark stand-in closed');
    if (this.python) return this.python;
    const proc = spawn('python3', ['-u', STANDIN_PY], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stderr.resume();
    const lines = createInterface({ input: proc.stdout });
    this.python = { proc, lines, iterator: lines[Symbol.asyncIterator]() };
    return this.python;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.python) {
      this.python.lines.close();
      this.python.proc.stdin.end();
      this.python.proc.kill();
    }
    this.con.closeSync();
  }
}
