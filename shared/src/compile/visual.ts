// SQL for cells configured with forms: sources, the visual steps and target configs. Config is untrusted JSON (any
// collaborator can write any value), so every field is checked for shape first, and an error names the field; then
// every name goes through quoteIdent and every value through a literal function.
import { PipebookError } from '../errors.ts';
import type { CellId } from '../ids.ts';
import {
  type AggregateFn,
  type CastType,
  type CellSnapshot,
  type FileFormat,
  type FilterOp,
  type JoinType,
  type ScalarValue,
  VISUAL_KINDS,
} from '../notebook/schema.ts';
import type { Dialect } from './dialect.ts';
import { CAST_TYPE_NAMES, castTypeSql, numberLiteral, quoteIdent, quoteQualified, stringLiteral } from './quote.ts';

/**
 * The kernel's answer for a file source: an absolute path it has checked (read with the dialect's file reader), or
 * a whole relation to read from (for engines that cannot read local paths, e.g. a Snowflake stage).
 */
export type FileResolver = (path: string, format: FileFormat, dialect: Dialect) => string | { relation: string };

export interface GeneratedContext {
  dialect: Dialect;
  /** The quoted CTE name an input cell is read by. */
  inputName: (id: CellId) => string;
  resolveFile?: FileResolver;
}

export type CompiledTarget =
  | { cellId: CellId; input: CellId; type: 'table'; table: string; schema?: string; mode: 'replace' | 'append' }
  | { cellId: CellId; input: CellId; type: 'file'; path: string; format: FileFormat };

const FILTER_OPS: readonly FilterOp[] = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'starts_with',
  'ends_with',
  'in',
  'not_in',
  'is_null',
  'is_not_null',
];
const JOIN_TYPES: readonly JoinType[] = ['inner', 'left', 'right', 'full'];
const AGGREGATE_FNS: readonly AggregateFn[] = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max'];
const FILE_FORMATS: readonly FileFormat[] = ['csv', 'parquet', 'json'];

/** Field checks that throw invalid_config naming the field, for one cell. */
class ConfigReader {
  constructor(
    private readonly cell: CellSnapshot,
    private readonly config: Record<string, unknown>,
  ) {}
  fail(field: string, message: string): never {
    throw new PipebookError('invalid_config', `${this.cell.name}: ${field} ${message}`, { cellId: this.cell.id });
  }
  get(path: string): unknown {
    return this.config[path];
  }
  name(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'must be a non-empty name.');
    if (value.length > 255) this.fail(field, 'is longer than 255 characters.');
    if (value.includes('\u0000')) this.fail(field, 'contains a NUL character.');
    return value;
  }
  optionalName(value: unknown, field: string): string | undefined {
    return value === undefined || value === null || value === '' ? undefined : this.name(value, field);
  }
  array(value: unknown, field: string, { nonEmpty = true } = {}): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'must be a list.');
    if (nonEmpty && value.length === 0) this.fail(field, 'must not be empty.');
    return value;
  }
  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be an object.');
    return value as Record<string, unknown>;
  }
  oneOf<T extends string>(value: unknown, options: readonly T[], field: string): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value))
      this.fail(field, `must be one of ${options.join(', ')}.`);
    return value as T;
  }
  integer(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      this.fail(field, 'must be a whole number, 0 or more.');
    return value;
  }
  /** Output column names must differ (engines compare them without regard to case). */
  outputs(): (name: string, field: string) => void {
    const seen = new Set<string>();
    return (name, field) => {
      const key = name.toLowerCase();
      if (seen.has(key)) this.fail(field, `repeats the output column name "${name}"; give it another name.`);
      seen.add(key);
    };
  }
  id(value: unknown, field: string): CellId {
    if (typeof value !== 'string' || value === '') this.fail(field, 'must name an input cell.');
    return value as CellId;
  }
}

function literal(r: ConfigReader, dialect: Dialect, v: unknown, field: string): string {
  if (typeof v === 'string') {
    if (v.includes('\u0000')) r.fail(field, 'contains a NUL character.');
    return stringLiteral(dialect, v);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) r.fail(field, 'must be a finite number.');
    return numberLiteral(v);
  }
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v === null) return 'NULL';
  return r.fail(field, 'must be text, a number, true/false or null.');
}

const TEXT_FUNCTIONS: Record<Dialect, Record<'contains' | 'starts_with' | 'ends_with', string>> = {
  duckdb: { contains: 'contains', starts_with: 'starts_with', ends_with: 'ends_with' },
  snowflake: { contains: 'CONTAINS', starts_with: 'STARTSWITH', ends_with: 'ENDSWITH' },
  databricks: { contains: 'contains', starts_with: 'startswith', ends_with: 'endswith' },
};

function filterCondition(r: ConfigReader, ctx: GeneratedContext, raw: unknown, i: number): string {
  const field = `conditions[${i}]`;
  const c = r.object(raw, field);
  const col = quoteIdent(ctx.dialect, r.name(c.column, `${field}.column`));
  const op = r.oneOf(c.op, FILTER_OPS, `${field}.op`);
  const value = c.value;
  const vField = `${field}.value`;
  switch (op) {
    case 'is_null':
      return `${col} IS NULL`;
    case 'is_not_null':
      return `${col} IS NOT NULL`;
    case '=':
    case '!=':
      if (value === null || value === undefined) return `${col} IS ${op === '=' ? '' : 'NOT '}NULL`;
      return `${col} ${op === '=' ? '=' : '<>'} ${literal(r, ctx.dialect, value, vField)}`;
    case '<':
    case '<=':
    case '>':
    case '>=':
      if (value === null || value === undefined) r.fail(vField, `is needed for ${op}.`);
      return `${col} ${op} ${literal(r, ctx.dialect, value, vField)}`;
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      if (typeof value !== 'string' && typeof value !== 'number') r.fail(vField, `must be text for ${op}.`);
      const text = stringLiteral(ctx.dialect, String(value));
      return `${TEXT_FUNCTIONS[ctx.dialect][op]}(${col}, ${text})`;
    }
    case 'in':
    case 'not_in': {
      const values = r.array(value, vField);
      const list = values.map((v, j) => {
        if (Array.isArray(v) || (typeof v === 'object' && v !== null)) r.fail(`${vField}[${j}]`, 'must be a scalar.');
        return literal(r, ctx.dialect, v as ScalarValue, `${vField}[${j}]`);
      });
      return `${col} ${op === 'in' ? 'IN' : 'NOT IN'} (${list.join(', ')})`;
    }
  }
}

function compileSource(cell: CellSnapshot, r: ConfigReader, ctx: GeneratedContext): string {
  const d = ctx.dialect;
  const type = r.oneOf(r.get('type'), ['table', 'file'] as const, 'type');
  if (type === 'table') {
    const table = r.name(r.get('table'), 'table');
    const schema = r.optionalName(r.get('schema'), 'schema');
    const catalog = r.optionalName(r.get('catalog'), 'catalog');
    if (catalog !== undefined && schema === undefined) r.fail('schema', 'is needed when a catalog is given.');
    return `SELECT * FROM ${quoteQualified(d, [catalog, schema, table])}`;
  }
  const path = r.name(r.get('path'), 'path');
  const format = r.oneOf(r.get('format'), FILE_FORMATS, 'format');
  if (!ctx.resolveFile) {
    throw new PipebookError(
      'bad_request',
      `${cell.name}: file sources need the kernel to resolve the file; compile with a resolveFile option.`,
      { cellId: cell.id },
    );
  }
  const resolved = ctx.resolveFile(path, format, d);
  if (typeof resolved === 'object') return `SELECT * FROM ${resolved.relation}`;
  if (d !== 'duckdb') {
    // The kernel resolves file sources inside its own data folder: a warehouse cannot read that path.
    const where = d === 'snowflake' ? 'Snowflake' : 'Databricks';
    throw new PipebookError(
      'bad_request',
      `${cell.name}: ${where} cannot read the local file "${path}". Load it into a table and use a table source, or run this cell on DuckDB.`,
      { cellId: cell.id },
    );
  }
  const reader = format === 'csv' ? 'read_csv_auto' : format === 'parquet' ? 'read_parquet' : 'read_json_auto';
  return `SELECT * FROM ${reader}(${stringLiteral(d, resolved)})`;
}

function compileSelect(r: ConfigReader, ctx: GeneratedContext): string {
  const d = ctx.dialect;
  const input = ctx.inputName(r.id(r.get('input'), 'input'));
  const output = r.outputs();
  const cols = r.array(r.get('columns'), 'columns').map((raw, i) => {
    const field = `columns[${i}]`;
    const c = r.object(raw, field);
    const name = r.name(c.column, `${field}.column`);
    const as = r.optionalName(c.as, `${field}.as`);
    output(as ?? name, as === undefined ? `${field}.column` : `${field}.as`);
    const cast =
      c.cast === undefined || c.cast === null || c.cast === ''
        ? undefined
        : r.oneOf(c.cast, CAST_TYPE_NAMES as readonly CastType[], `${field}.cast`);
    const expr = cast ? `CAST(${quoteIdent(d, name)} AS ${castTypeSql(d, cast)})` : quoteIdent(d, name);
    return as !== undefined || cast ? `${expr} AS ${quoteIdent(d, as ?? name)}` : expr;
  });
  return `SELECT ${cols.join(', ')} FROM ${input}`;
}

function compileJoin(r: ConfigReader, ctx: GeneratedContext): string {
  const d = ctx.dialect;
  const left = ctx.inputName(r.id(r.get('left'), 'left'));
  const right = ctx.inputName(r.id(r.get('right'), 'right'));
  const type = r.oneOf(r.get('type'), JOIN_TYPES, 'type');
  const l = quoteIdent(d, 'l');
  const rr = quoteIdent(d, 'r');
  const on = r.array(r.get('on'), 'on').map((raw, i) => {
    const c = r.object(raw, `on[${i}]`);
    return {
      left: r.name(c.left, `on[${i}].left`),
      right: r.name(c.right, `on[${i}].right`),
    };
  });
  const condition = on.map((k) => `${l}.${quoteIdent(d, k.left)} = ${rr}.${quoteIdent(d, k.right)}`).join(' AND ');
  const rawColumns = r.get('columns');
  let select: string;
  if (rawColumns === undefined || rawColumns === null || (Array.isArray(rawColumns) && rawColumns.length === 0)) {
    const rightKeys = [...new Set(on.map((k) => k.right))].map((k) => quoteIdent(d, k)).join(', ');
    const except = d === 'databricks' ? 'EXCEPT' : 'EXCLUDE';
    select = `${l}.*, ${rr}.* ${except} (${rightKeys})`;
  } else {
    const output = r.outputs();
    select = r
      .array(rawColumns, 'columns')
      .map((raw, i) => {
        const field = `columns[${i}]`;
        const c = r.object(raw, field);
        const side = r.oneOf(c.side, ['left', 'right'] as const, `${field}.side`);
        const name = r.name(c.column, `${field}.column`);
        const as = r.optionalName(c.as, `${field}.as`);
        output(as ?? name, as === undefined ? `${field}.column` : `${field}.as`);
        return `${side === 'left' ? l : rr}.${quoteIdent(d, name)} AS ${quoteIdent(d, as ?? name)}`;
      })
      .join(', ');
  }
  const kw = { inner: 'INNER JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL OUTER JOIN' }[type];
  return `SELECT ${select} FROM ${left} AS ${l} ${kw} ${right} AS ${rr} ON ${condition}`;
}

function compileAggregate(r: ConfigReader, ctx: GeneratedContext): string {
  const d = ctx.dialect;
  const input = ctx.inputName(r.id(r.get('input'), 'input'));
  const rawGroup = r.get('groupBy') ?? [];
  const output = r.outputs();
  const groupBy = r.array(rawGroup, 'groupBy', { nonEmpty: false }).map((g, i) => {
    const name = r.name(g, `groupBy[${i}]`);
    output(name, `groupBy[${i}]`);
    return quoteIdent(d, name);
  });
  const measures = r.array(r.get('measures') ?? [], 'measures', { nonEmpty: false }).map((raw, i) => {
    const field = `measures[${i}]`;
    const m = r.object(raw, field);
    const fn = r.oneOf(m.fn, AGGREGATE_FNS, `${field}.fn`);
    const asName = r.name(m.as, `${field}.as`);
    output(asName, `${field}.as`);
    const as = quoteIdent(d, asName);
    if (fn === 'count' && (m.column === undefined || m.column === null || m.column === '')) return `count(*) AS ${as}`;
    const col = quoteIdent(d, r.name(m.column, `${field}.column`));
    switch (fn) {
      case 'count':
        return `count(${col}) AS ${as}`;
      case 'count_distinct':
        return `count(DISTINCT ${col}) AS ${as}`;
      default:
        return `${fn}(${col}) AS ${as}`;
    }
  });
  if (groupBy.length === 0 && measures.length === 0) r.fail('measures', 'must not be empty when groupBy is empty.');
  const select = [...groupBy, ...measures].join(', ');
  return `SELECT ${select} FROM ${input}${groupBy.length ? ` GROUP BY ${groupBy.join(', ')}` : ''}`;
}

function compileFilter(r: ConfigReader, ctx: GeneratedContext): string {
  const input = ctx.inputName(r.id(r.get('input'), 'input'));
  const combinator = r.oneOf(r.get('combinator') ?? 'and', ['and', 'or'] as const, 'combinator');
  const conditions = r
    .array(r.get('conditions') ?? [], 'conditions', { nonEmpty: false })
    .map((c, i) => filterCondition(r, ctx, c, i));
  if (conditions.length === 0) return `SELECT * FROM ${input}`;
  const joined = conditions.map((c) => `(${c})`).join(combinator === 'and' ? ' AND ' : ' OR ');
  return `SELECT * FROM ${input} WHERE ${joined}`;
}

function compileSort(r: ConfigReader, ctx: GeneratedContext): string {
  const d = ctx.dialect;
  const input = ctx.inputName(r.id(r.get('input'), 'input'));
  const keys = r.array(r.get('keys'), 'keys').map((raw, i) => {
    const field = `keys[${i}]`;
    const k = r.object(raw, field);
    const col = quoteIdent(d, r.name(k.column, `${field}.column`));
    const dir = r.oneOf(k.direction ?? 'asc', ['asc', 'desc'] as const, `${field}.direction`);
    const nulls =
      k.nulls === undefined || k.nulls === null
        ? ''
        : ` NULLS ${r.oneOf(k.nulls, ['first', 'last'] as const, `${field}.nulls`).toUpperCase()}`;
    return `${col} ${dir.toUpperCase()}${nulls}`;
  });
  return `SELECT * FROM ${input} ORDER BY ${keys.join(', ')}`;
}

function compileLimit(r: ConfigReader, ctx: GeneratedContext): string {
  const input = ctx.inputName(r.id(r.get('input'), 'input'));
  const count = r.integer(r.get('count'), 'count');
  const rawOffset = r.get('offset');
  const offset = rawOffset === undefined || rawOffset === null ? 0 : r.integer(rawOffset, 'offset');
  return `SELECT * FROM ${input} LIMIT ${count}${offset ? ` OFFSET ${offset}` : ''}`;
}

function compileUnion(r: ConfigReader, ctx: GeneratedContext): string {
  const inputs = r.array(r.get('inputs'), 'inputs').map((id, i) => ctx.inputName(r.id(id, `inputs[${i}]`)));
  const distinct = r.get('distinct') ?? false;
  if (typeof distinct !== 'boolean') r.fail('distinct', 'must be true or false.');
  // Spark SQL has no BY NAME for set operators (only the DataFrame unionByName): there, columns match by position.
  const byName = ctx.dialect === 'databricks' ? '' : ' BY NAME';
  const op = `${distinct ? 'UNION' : 'UNION ALL'}${byName}`;
  return inputs.map((i) => `SELECT * FROM ${i}`).join(` ${op} `);
}

/** The SELECT a source or visual step cell stands for (one line). */
export function compileGenerated(cell: CellSnapshot, ctx: GeneratedContext): string {
  const r = new ConfigReader(cell, cell.config ?? {});
  switch (cell.kind) {
    case 'source':
      return compileSource(cell, r, ctx);
    case 'filter':
      return compileFilter(r, ctx);
    case 'select':
      return compileSelect(r, ctx);
    case 'join':
      return compileJoin(r, ctx);
    case 'aggregate':
      return compileAggregate(r, ctx);
    case 'sort':
      return compileSort(r, ctx);
    case 'limit':
      return compileLimit(r, ctx);
    case 'union':
      return compileUnion(r, ctx);
    case 'sql':
    case 'target':
    case 'markdown':
    case 'pyspark':
      throw new PipebookError('internal', `${cell.kind} cells are not compiled from config.`, { cellId: cell.id });
  }
}

export function isGeneratedKind(kind: CellSnapshot['kind']): boolean {
  return kind === 'source' || (VISUAL_KINDS as readonly string[]).includes(kind);
}

/** The validated target of a target cell. */
export function readTarget(cell: CellSnapshot): CompiledTarget {
  const r = new ConfigReader(cell, cell.config ?? {});
  const input = r.id(r.get('input'), 'input');
  const type = r.oneOf(r.get('type'), ['table', 'file'] as const, 'type');
  if (type === 'table') {
    const table = r.name(r.get('table'), 'table');
    const schema = r.optionalName(r.get('schema'), 'schema');
    const mode = r.oneOf(r.get('mode') ?? 'replace', ['replace', 'append'] as const, 'mode');
    return { cellId: cell.id, input, type, table, ...(schema !== undefined ? { schema } : {}), mode };
  }
  const path = r.name(r.get('path'), 'path');
  const format = r.oneOf(r.get('format'), FILE_FORMATS, 'format');
  return { cellId: cell.id, input, type, path, format };
}
