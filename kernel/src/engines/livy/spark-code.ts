// Code Pipebook sends to a Spark REPL, and the reading of what comes back: Spark SQL schemas, the PySpark cell
// wrapper, and the mapping of a Python traceback to a line in the cell. Plain functions, shared by Livy and Databricks.
import type { ColumnInfo } from '@pipebook/shared';

/** Spark SQL identifier quoting. */
export function quoteSparkIdent(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

/** Drops trailing semicolons and whitespace so a cell's SELECT can be embedded in a larger statement. */
export function trimStatement(sql: string): string {
  return sql.replace(/[\s;]+$/u, '');
}

export function createViewSql(name: string, selectSql: string): string {
  return `CREATE OR REPLACE TEMP VIEW ${quoteSparkIdent(name)} AS\n${trimStatement(selectSql)}`;
}

/** A Spark StructType field type (a JSON string such as `long`, or an object for nested types) as Spark SQL writes it. */
export function sparkTypeName(t: unknown): string {
  if (typeof t === 'string') {
    const dec = /^decimal\((\d+),\s*(\d+)\)$/i.exec(t);
    if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
    switch (t) {
      case 'long':
        return 'BIGINT';
      case 'integer':
        return 'INT';
      case 'short':
        return 'SMALLINT';
      case 'byte':
        return 'TINYINT';
      case 'void':
        return 'VOID';
      case 'timestamp_ntz':
        return 'TIMESTAMP_NTZ';
      default:
        return t.toUpperCase();
    }
  }
  if (t && typeof t === 'object') {
    const o = t as Record<string, unknown>;
    if (o.type === 'array') return `ARRAY<${sparkTypeName(o.elementType)}>`;
    if (o.type === 'map') return `MAP<${sparkTypeName(o.keyType)},${sparkTypeName(o.valueType)}>`;
    if (o.type === 'struct' && Array.isArray(o.fields)) {
      const fields = o.fields as Array<{ name: string; type: unknown }>;
      return `STRUCT<${fields.map((f) => `${f.name}:${sparkTypeName(f.type)}`).join(',')}>`;
    }
    if (o.type === 'udt' && o.sqlType !== undefined) return sparkTypeName(o.sqlType);
  }
  return 'STRING';
}

/** `{"type":"struct","fields":[{name,type,nullable,metadata}]}` -> columns. */
export function parseStructSchema(schema: unknown): ColumnInfo[] {
  const s = schema as { type?: string; fields?: Array<{ name: string; type: unknown }> } | null;
  if (s?.type !== 'struct' || !Array.isArray(s.fields)) {
    throw new Error('Spark answered without a struct schema');
  }
  return s.fields.map((f) => ({ name: String(f.name), type: sparkTypeName(f.type) }));
}

/** The file name a PySpark cell's code is compiled under, so its traceback names the cell. */
export function cellFileName(name: string): string {
  return `<cell ${name}>`;
}

/**
 * Wraps a PySpark cell: binds its inputs as DataFrames by name, runs the code in the session's namespace (so helper
 * functions defined in one cell stay available, as in a notebook), requires the last statement to be a DataFrame
 * expression, and registers it as a temp view named after the cell. The user's code is compiled under the file name
 * `<cell NAME>`, so a traceback points at lines of the cell, not of this wrapper.
 */
export function pysparkCellCode(name: string, code: string, inputs: string[]): string {
  const py = (s: unknown) => JSON.stringify(s);
  const file = cellFileName(name);
  return [
    'def __pipebook_cell():',
    '    import ast',
    '    g = globals()',
    `    for n in ${py(inputs)}:`,
    '        g[n] = spark.table(n)',
    `    tree = ast.parse(${py(code)}, filename=${py(file)}, mode="exec")`,
    '    if not tree.body or not isinstance(tree.body[-1], ast.Expr):',
    `        raise TypeError(${py(`The PySpark cell ${name} must end in a DataFrame expression`)})`,
    '    last = ast.Expression(tree.body.pop().value)',
    `    exec(compile(tree, ${py(file)}, "exec"), g)`,
    `    df = eval(compile(last, ${py(file)}, "eval"), g)`,
    '    if not hasattr(df, "createOrReplaceTempView"):',
    `        raise TypeError(${py(`The PySpark cell ${name} must end in a DataFrame expression, not `)} + type(df).__name__)`,
    `    df.createOrReplaceTempView(${py(name)})`,
    '__pipebook_cell()',
    '',
  ].join('\n');
}

/** The line in the cell that a Python traceback points at last (the innermost frame in the cell's own code). */
export function tracebackLine(traceback: string[] | string, name: string): number | undefined {
  const text = Array.isArray(traceback) ? traceback.join('') : traceback;
  const file = cellFileName(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`File "${file}", line (\\d+)`, 'g');
  let line: number | undefined;
  for (const m of text.matchAll(re)) line = Number(m[1]);
  return line;
}

/** Removes HTML tags and entities from a Databricks error summary. */
export function stripHtml(s: string): string {
  return s
    .replace(/<[^>]*>/g, '')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&')
    .trim();
}

/** Drops the frames of Pipebook's own wrapper (compiled as `<stdin>` by the REPL) so a traceback starts in the cell. */
export function dropWrapperFrames(traceback: string[]): string[] {
  return traceback.filter((entry) => !/^\s*File "<stdin>", line \d+/.test(entry));
}

/**
 * JSON.parse that keeps numbers with more than 15 significant digits as their exact text. Spark sends longs and
 * decimals as JSON numbers (json4s), and a JavaScript number would silently round 9007199254740993.
 */
export function parseJsonLossless(text: string): unknown {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9eE+\-.]/.test(text[j])) j++;
      const token = text.slice(i, j);
      const digits = token
        .replace(/[eE].*$/, '')
        .replace(/[^0-9]/g, '')
        .replace(/^0+/, '');
      if (digits.length > 15) {
        out += text.slice(last, i) + '"' + token + '"';
        last = j;
      }
      i = j - 1;
    }
  }
  return JSON.parse(last === 0 ? text : out + text.slice(last));
}

/**
 * One value as the kernel wants it, by the column's Spark SQL type: BIGINT as bigint, DATE/TIMESTAMP as Date,
 * BINARY as bytes; decimals keep their exact text when it was too long for a number.
 */
export function sparkValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null;
  const t = type.toUpperCase();
  if (t === 'BIGINT' && (typeof v === 'number' || typeof v === 'string') && /^-?\d+$/.test(String(v))) {
    return BigInt(String(v));
  }
  if ((t === 'DATE' || t.startsWith('TIMESTAMP')) && (typeof v === 'string' || typeof v === 'number')) {
    const s = String(v);
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
    return Number.isNaN(d.getTime()) ? v : d;
  }
  if (t === 'BINARY') {
    if (Array.isArray(v)) return Uint8Array.from(v as number[], (b) => b & 0xff);
    if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
  }
  return v;
}

export function sparkRows(rows: unknown[][], columns: ColumnInfo[]): unknown[][] {
  return rows.map((r) => r.map((v, i) => sparkValue(v, columns[i]?.type ?? 'STRING')));
}

/**
 * Spark's error position (`; line 3 pos 7` from an AnalysisException, `(line 3, pos 7)` from a ParseException, pos
 * 0-based) in a statement that wraps the user's SQL under `lineOffset` extra lines, as a 1-based line and column.
 */
export function sqlWhere(evalue: string, lineOffset: number): { line?: number; column?: number } {
  const m = /line (\d+),? pos (\d+)/.exec(evalue);
  if (!m) return {};
  const line = Number(m[1]) - lineOffset;
  return line >= 1 ? { line, column: Number(m[2]) + 1 } : {};
}
