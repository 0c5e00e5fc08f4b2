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
