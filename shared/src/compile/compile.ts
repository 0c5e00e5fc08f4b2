// The compiler: a cell plus everything it reads becomes one statement for one dialect, a chain of CTEs in graph
// order named after the cells, so the user's `FROM orders` reads the CTE "orders". Layout and rules: docs/compiler.md.
import { PipebookError } from '../errors.ts';
import { buildGraph, type GraphError, type NotebookGraph } from '../graph/dag.ts';
import { analyzeSql } from '../graph/references.ts';
import { lineColumnAt } from '../graph/tokenize.ts';
import type { CellId } from '../ids.ts';
import type { CellSnapshot } from '../notebook/schema.ts';
import type { Dialect } from './dialect.ts';
import { quoteIdent } from './quote.ts';
import type { SourceMap, SourceMapSegment } from './source-map.ts';
import { type CompiledTarget, compileGenerated, type FileResolver, isGeneratedKind, readTarget } from './visual.ts';

export interface CompileOptions {
  /** Absolute, checked path (or a relation) for a file source; required to compile file sources. */
  resolveFile?: FileResolver;
  /**
   * A relation to read instead of compiling an upstream cell, e.g. `read_parquet('/abs/x.parquet')` for a result
   * the kernel already holds; undefined = compile the cell. Never asked for the cell being compiled.
   */
  relationFor?: (cellId: CellId) => string | undefined;
  /** A graph already built from the same cells (saves rebuilding it). */
  graph?: NotebookGraph;
}

export interface CompiledCell {
  cellId: CellId;
  /** One statement, no trailing semicolon. For a target cell: the SELECT of its input. */
  sql: string;
  sourceMap: SourceMap;
  /** Cells compiled into the statement, inputs first, ending with the cell itself. */
  chain: CellId[];
  /** Upstream cells read through `relationFor` instead of being compiled. */
  substituted: CellId[];
  /** For target cells: where the result goes (see compileTargetStatement). */
  target?: CompiledTarget;
}

/** The SQL a single cell stands for, before it is placed in a chain. */
export interface CellBody {
  text: string;
  /** Number of lines of `text`. */
  lines: number;
  /** 1 for SQL the user wrote (its lines are the cell's lines); undefined for generated SQL. */
  cellLine?: number;
  /** Can stand as the statement's final query after the WITH list (starts with SELECT, or FROM where allowed). */
  direct: boolean;
  /** Only valid as a subquery, not as a CTE body (DuckDB `SUMMARIZE t`, `DESCRIBE t`). */
  wrap?: boolean;
}

function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function relationBody(relation: string): CellBody {
  const text = `SELECT * FROM ${relation}`;
  return { text, lines: lineCount(text), direct: true };
}

const QUERY_STARTS = new Set([
  'SELECT',
  'WITH',
  'FROM',
  'VALUES',
  'TABLE',
  'PIVOT',
  'UNPIVOT',
  'SUMMARIZE',
  'DESCRIBE',
]);

function graphError(cellId: CellId, e: GraphError, cell: CellSnapshot): PipebookError {
  return new PipebookError(e.code, `${cell.name}: ${e.message}`, { cellId, line: e.line, column: e.column });
}

/**
 * Compiles many cells of one notebook against one graph, memoising each cell's own SQL, so compiling every cell of
 * a notebook costs about one pass over its text plus the size of the statements produced.
 */
export class NotebookCompiler {
  readonly graph: NotebookGraph;
  private readonly bodies = new Map<CellId, CellBody | PipebookError>();
  private readonly names = new Map<CellId, string>();
  private readonly blocks = new Map<CellId, string>();
  private readonly ownName = new Map<CellId, boolean>();

  constructor(
    cells: readonly CellSnapshot[],
    readonly dialect: Dialect,
    private readonly options: CompileOptions = {},
  ) {
    this.graph = options.graph ?? buildGraph(cells, dialect);
  }

  /** The quoted CTE name a cell is read by. */
  cteName(id: CellId): string {
    let name = this.names.get(id);
    if (name === undefined) {
      const cell = this.graph.byId.get(id);
      if (!cell) throw new PipebookError('not_found', `Cell ${id} does not exist.`);
      name = quoteIdent(this.dialect, cell.name);
      this.names.set(id, name);
    }
    return name;
  }

  /** The table of a source cell that reads a table without schema or catalog. */
  private bareTable(id: CellId): string | undefined {
    const cell = this.graph.byId.get(id)!;
    if (cell.kind !== 'source') return undefined;
    const { type, table, schema, catalog } = cell.config;
    return type === 'table' && typeof table === 'string' && !schema && !catalog ? table : undefined;
  }

  /** Whether a SQL cell reads a table named like the cell itself. */
  private readsOwnName(id: CellId): boolean {
    let yes = this.ownName.get(id);
    if (yes === undefined) {
      const cell = this.graph.byId.get(id)!;
      const own = cell.name.toLowerCase();
      yes =
        cell.kind === 'sql' &&
        analyzeSql(cell.source, this.dialect).references.some((r) => r.name.toLowerCase() === own);
      this.ownName.set(id, yes);
    }
    return yes;
  }

  /** A cell's own SQL; throws the cell's compile error. */
  body(id: CellId): CellBody {
    let b = this.bodies.get(id);
    if (b === undefined) {
      try {
        b = this.compileBody(id);
      } catch (e) {
        if (!(e instanceof PipebookError)) throw e;
        b = e;
      }
      this.bodies.set(id, b);
    }
    if (b instanceof PipebookError) throw b;
    return b;
  }

  private compileBody(id: CellId): CellBody {
    const cell = this.requireCell(id);
    if (cell.kind === 'sql') return this.userSql(cell);
    if (isGeneratedKind(cell.kind)) {
      const text = compileGenerated(cell, {
        dialect: this.dialect,
        inputName: (input) => this.cteName(input),
        resolveFile: this.options.resolveFile,
      });
      return { text, lines: lineCount(text), direct: true };
    }
    throw this.notRunnable(cell);
  }

  private notRunnable(cell: CellSnapshot): PipebookError {
    if (cell.kind === 'markdown')
      return new PipebookError('bad_request', `${cell.name} is a Markdown cell: there is nothing to run.`, {
        cellId: cell.id,
      });
    if (cell.kind === 'pyspark')
      return new PipebookError(
        'bad_request',
        `${cell.name} is a PySpark cell: it runs as Python on a Spark session, not as SQL.`,
        { cellId: cell.id },
      );
    return new PipebookError('bad_request', `${cell.name} is a ${cell.kind} cell and has no SQL of its own.`, {
      cellId: cell.id,
    });
  }

  private requireCell(id: CellId): CellSnapshot {
    const cell = this.graph.byId.get(id);
    if (!cell) throw new PipebookError('not_found', `Cell ${id} does not exist (it may have been deleted).`);
    return cell;
  }

  private userSql(cell: CellSnapshot): CellBody {
    const src = cell.source;
    const a = analyzeSql(src, this.dialect);
    if (a.statements.length === 0)
      throw new PipebookError('sql_error', `${cell.name} is empty: write a query such as SELECT * FROM ...`, {
        cellId: cell.id,
      });
    if (a.statements.length > 1) {
      const pos = lineColumnAt(src, a.tokens[a.statements[1].from].start);
      throw new PipebookError(
        'sql_error',
        `${cell.name} holds more than one statement: a SQL cell is one query (put the second one in its own cell).`,
        { cellId: cell.id, ...pos },
      );
    }
    const stmt = a.statements[0];
    const first = a.tokens[stmt.from];
    const kw = first.kind === 'word' ? first.value.toUpperCase() : first.value;
    if (kw !== '(' && !QUERY_STARTS.has(kw)) {
      throw new PipebookError(
        'sql_error',
        `${cell.name} starts with ${first.text}: a SQL cell is one query (SELECT, WITH, FROM ...); use a target cell to write results.`,
        { cellId: cell.id, ...lineColumnAt(src, first.start) },
      );
    }
    // Edits that keep every line and column where it was: semicolons become spaces, and (Snowflake) quoted
    // references are upper-cased to match the CTE names, which is the same length.
    const edits: Array<{ start: number; end: number; text: string }> = [];
    for (let k = 0; k < a.tokens.length; k++) {
      if ((k < stmt.from || k >= stmt.to) && a.tokens[k].kind === 'op' && a.tokens[k].value === ';')
        edits.push({ start: a.tokens[k].start, end: a.tokens[k].end, text: ' ' });
    }
    if (this.dialect === 'snowflake') {
      for (const r of a.references) {
        if (r.quote !== '"') continue;
        const ids = this.graph.byName.get(r.name.toLowerCase());
        if (ids?.length !== 1 || ids[0] === cell.id) continue;
        const quoted = this.cteName(ids[0]);
        if (quoted.length === r.end - r.start) edits.push({ start: r.start, end: r.end, text: quoted });
      }
    }
    let text = src;
    for (const e of edits.sort((x, y) => y.start - x.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
    text = text.trimEnd();
    return {
      text,
      lines: lineCount(text),
      cellLine: 1,
      direct: kw === 'SELECT' || (kw === 'FROM' && this.dialect !== 'snowflake'),
      ...(kw === 'SUMMARIZE' || kw === 'DESCRIBE' ? { wrap: true } : {}),
    };
  }

  /** The statement for a cell: a relation for producing cells; the input's SELECT plus `target` for target cells. */
  compile(id: CellId): CompiledCell {
    const cell = this.requireCell(id);
    if (cell.kind === 'target') {
      for (const e of this.graph.errors.get(id) ?? []) throw graphError(id, e, cell);
      const target = readTarget(cell);
      const substitute = this.options.relationFor?.(target.input);
      if (substitute !== undefined) {
        const body = relationBody(substitute);
        return {
          cellId: id,
          sql: body.text,
          sourceMap: { lineCount: body.lines, segments: [{ cellId: target.input, startLine: 1, endLine: body.lines }] },
          chain: [id],
          substituted: [target.input],
          target,
        };
      }
      const inner = this.compileRelation(target.input);
      return { ...inner, cellId: id, chain: [...inner.chain, id], target };
    }
    if (cell.kind === 'markdown' || cell.kind === 'pyspark') throw this.notRunnable(cell);
    return this.compileRelation(id);
  }

  private compileRelation(root: CellId): CompiledCell {
    const g = this.graph;
    const rootCell = this.requireCell(root);
    if (!isGeneratedKind(rootCell.kind) && rootCell.kind !== 'sql') throw this.notRunnable(rootCell);
    // Walk upstream, stopping at cells the kernel already holds; any graph error on the way blocks the statement.
    const included = new Set<CellId>([root]);
    const substituted = new Map<CellId, string>();
    const stack: CellId[] = [root];
    while (stack.length) {
      const v = stack.pop()!;
      const cell = g.byId.get(v)!;
      const errs = g.errors.get(v);
      if (errs?.length) throw graphError(v, errs[0], cell);
      for (const u of g.upstream.get(v) ?? []) {
        if (included.has(u) || substituted.has(u)) continue;
        const rel = this.options.relationFor?.(u);
        if (rel !== undefined) {
          substituted.set(u, rel);
          continue;
        }
        const up = g.byId.get(u)!;
        if (up.kind === 'pyspark') {
          throw new PipebookError(
            'blocked',
            `${rootCell.name} reads the PySpark cell ${up.name}, whose result is not available yet: run ${up.name} first.`,
            { cellId: u },
          );
        }
        included.add(u);
        stack.push(u);
      }
    }
    // Graph order by sorting ranks as numbers (a comparator over ids costs more than the rest of compiling).
    const inGraphOrder = (ids: Iterable<CellId>) => {
      const ranks: number[] = [];
      for (const id of ids) ranks.push(g.rank.get(id)!);
      return Float64Array.from(ranks)
        .sort()
        .reduce<CellId[]>((out, r) => {
          out.push(g.order[r]);
          return out;
        }, []);
    };
    const chain = inGraphOrder(included);
    const subs = inGraphOrder(substituted.keys());
    // Bodies first, so a broken upstream is reported before any text is assembled.
    let rootBody = this.body(root);
    const bodies = new Map<CellId, CellBody>();
    for (const c of chain) if (c !== root) bodies.set(c, this.body(c));

    // A source reading a bare table named like a CTE of this statement (the demo's source `orders` reads the table
    // `orders`) would read the CTE instead in Snowflake, where a CTE is in scope in its own body. Such tables are read
    // first, under internal names no CTE has, and the source's CTE reads that.
    const isCte = (id: CellId) => (included.has(id) && (id !== root || !rootBody.direct)) || substituted.has(id);
    const early: Array<{ id: CellId; name: string; body: CellBody }> = [];
    for (const c of chain) {
      const table = this.bareTable(c);
      if (table === undefined || !(g.byName.get(table.toLowerCase()) ?? []).some(isCte)) continue;
      const name = quoteIdent(this.dialect, `__pipebook_table_${g.byId.get(c)!.name}`);
      early.push({ id: c, name, body: relationBody(quoteIdent(this.dialect, table)) });
      const replaced = relationBody(name);
      if (c === root) rootBody = replaced;
      else bodies.set(c, replaced);
    }

    // Assembled from whole CTE blocks (memoised per cell with their line counts), never split per line, and one
    // source-map segment per cell: compiling every cell of a notebook costs about the size of the SQL produced.
    const segments: SourceMapSegment[] = [];
    const seg = (cellId: CellId, startLine: number, lines: number, cellLine?: number) =>
      segments.push(
        cellLine === undefined
          ? { cellId, startLine, endLine: startLine + lines - 1 }
          : { cellId, startLine, endLine: startLine + lines - 1, cellLine },
      );
    let sql: string;
    let line: number;
    if (chain.length === 1 && subs.length === 0 && early.length === 0) {
      sql = rootBody.text;
      line = rootBody.lines;
      seg(root, 1, rootBody.lines, rootBody.cellLine);
    } else {
      const blocks: string[] = [];
      line = 1; // WITH
      const addCte = (id: CellId, name: string, body: CellBody, memo: boolean) => {
        seg(id, line + 2, body.lines, body.cellLine);
        line += body.lines + 2;
        let text = memo ? this.blocks.get(id) : undefined;
        if (text === undefined) {
          text = body.wrap ? `${name} AS (SELECT * FROM (\n${body.text}\n))` : `${name} AS (\n${body.text}\n)`;
          if (memo) this.blocks.set(id, text);
        }
        blocks.push(text);
      };
      for (const e of early) addCte(e.id, e.name, e.body, false);
      for (const id of subs) addCte(id, this.cteName(id), relationBody(substituted.get(id)!), false);
      // A SQL cell that reads a warehouse table named like itself (rule R5) would read its own CTE instead: its SQL
      // goes in a CTE with an internal name, and the cell's CTE reads that.
      const cellCte = (id: CellId, body: CellBody) => {
        if (!this.readsOwnName(id)) return addCte(id, this.cteName(id), body, body === this.body(id));
        const inner = quoteIdent(this.dialect, `__pipebook_cell_${g.byId.get(id)!.name}`);
        addCte(id, inner, body, false);
        addCte(id, this.cteName(id), relationBody(inner), false);
      };
      for (const id of chain) if (id !== root) cellCte(id, bodies.get(id)!);
      if (!rootBody.direct) cellCte(root, rootBody);
      const final = rootBody.direct ? rootBody : relationBody(this.cteName(root));
      seg(root, line + 1, final.lines, rootBody.direct ? rootBody.cellLine : undefined);
      line += final.lines;
      sql = `WITH\n${blocks.join(',\n')}\n${final.text}`;
    }
    return {
      cellId: root,
      sql,
      sourceMap: { lineCount: line, segments },
      chain,
      substituted: subs,
    };
  }
}

export function createCompiler(
  cells: readonly CellSnapshot[],
  dialect: Dialect,
  options: CompileOptions = {},
): NotebookCompiler {
  return new NotebookCompiler(cells, dialect, options);
}

/** Compiles one cell and its upstream into one statement for `dialect`. Throws PipebookError naming the cell. */
export function compileCell(
  cells: readonly CellSnapshot[],
  cellId: CellId,
  dialect: Dialect,
  options: CompileOptions = {},
): CompiledCell {
  return new NotebookCompiler(cells, dialect, options).compile(cellId);
}
