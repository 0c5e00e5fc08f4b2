// The Spark stand-in shared by the Livy and Databricks Command Execution test servers: one DuckDB connection per
// Spark session (so temp views live and die with the session, as in Spark), Spark SQL translated to DuckDB by
// turning backtick identifiers into double-quoted ones, and a Python REPL (pyspark_standin.py) for PySpark code.
// It is a stand-in, not Spark: docs/spark.md lists what it supports.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

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

/** Spark SQL quotes identifiers with backticks, DuckDB with double quotes; strings and comments pass through. */
export function translateSparkSql(sql: string): string {
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

/** Values as Livy's json4s writes them: numbers for numeric types (longs and decimals included), strings otherwise. */
function jsonValue(v: unknown, sparkType: string): unknown {
  if (v === null || v === undefined) return null;
  if (
    (sparkType === 'long' || sparkType.startsWith('decimal')) &&
    typeof v === 'string' &&
    v !== '' &&
    !Number.isNaN(Number(v))
  ) {
    return Number(v);
  }
  return v;
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
    const reader = await this.con.runAndReadAll(translateSparkSql(sparkSql));
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => sparkTypeOf(t.toString()));
    let rows = reader.getRowsJson() as unknown[][];
    if (limit !== undefined && limit !== null) rows = rows.slice(0, limit);
    return {
      columns: names.map((name, i) => ({ name, type: types[i] })),
      rows: rows.map((r) => r.map((v, i) => jsonValue(v, types[i]))),
    };
  }

  /** Runs PySpark-like code in this session's Python REPL (started on first use, kept for the session's life). */
  async runPython(code: string): Promise<PythonResult> {
    const py = this.startPython();
    py.proc.stdin.write(JSON.stringify({ type: 'execute', code }) + '\n');
    for (;;) {
      const next = await py.iterator.next();
      if (next.done) return { status: 'error', ename: 'EOFError', evalue: 'Python REPL exited', traceback: [] };
      const msg = JSON.parse(next.value) as
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
      py.proc.stdin.write(JSON.stringify(answer) + '\n');
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
