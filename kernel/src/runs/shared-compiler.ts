// Binds the run logic to the notebook compiler in shared/: graph from shared/graph/dag, positions from
// shared/compile/source-map. INTERIM: until shared/ exports compileCell and inputHashes, cells are compiled here for
// the kinds a first kernel needs (sql, source, target); visual steps are refused with a clear message.
import { createHash } from 'node:crypto';
import { type CellId, type CellSnapshot, PipebookError, type SourceConfig } from '@pipebook/shared';
import { quoteIdent, quoteQualified, stringLiteral } from '@pipebook/shared/compile/quote';
import { mapPosition, type SourceMap } from '@pipebook/shared/compile/source-map';
import { buildGraph, type NotebookGraph } from '@pipebook/shared/graph/dag';
import type { CompileOptions, GraphInfo, NotebookCompiler } from './compiler.ts';

function graphInfo(g: NotebookGraph): GraphInfo {
  const errors: GraphInfo['errors'] = new Map();
  for (const [id, errs] of g.errors) {
    const e = errs[0];
    if (e)
      errors.set(id, {
        code: e.code === 'invalid_config' ? 'invalid_config' : e.code,
        message: e.message,
        line: e.line,
        column: e.column,
      });
  }
  return { order: g.order, parents: g.upstream, errors };
}

function cellBody(g: NotebookGraph, c: CellSnapshot, options: CompileOptions): { sql: string; user: boolean } {
  switch (c.kind) {
    case 'sql':
      return { sql: c.source.replace(/[\s;]+$/, ''), user: true };
    case 'source': {
      const s = c.config as unknown as SourceConfig;
      if (s.type === 'table')
        return { sql: `SELECT * FROM ${quoteQualified('duckdb', [s.catalog, s.schema, s.table])}`, user: false };
      const p = stringLiteral('duckdb', options.resolveFile(s.path, s.format));
      const reader = s.format === 'csv' ? 'read_csv' : s.format === 'json' ? 'read_json' : 'read_parquet';
      return { sql: `SELECT * FROM ${reader}(${p})`, user: false };
    }
    case 'target': {
      const input = g.byId.get((c.config as { input: CellId }).input);
      if (!input)
        throw new PipebookError('unknown_reference', `${c.name}: choose the cell to write.`, { cellId: c.id });
      return { sql: `SELECT * FROM ${quoteIdent('duckdb', input.name)}`, user: false };
    }
    default:
      throw new PipebookError(
        'bad_request',
        `${c.name}: ${c.kind} cells need the notebook compiler, which is not available yet.`,
        { cellId: c.id },
      );
  }
}

export const sharedCompiler: NotebookCompiler = {
  graph: (cells) => graphInfo(buildGraph(cells)),
  compile(cells, cellId, _dialect, options) {
    const g = buildGraph(cells);
    const chain: CellId[] = [];
    const visit = (id: CellId) => {
      if (chain.includes(id)) return;
      if (id !== cellId && options.relationFor(id)) {
        chain.push(id);
        return;
      }
      for (const p of g.upstream.get(id) ?? []) visit(p);
      chain.push(id);
    };
    visit(cellId);
    const lines: string[] = [];
    const segments: SourceMap['segments'] = [];
    const ctes = chain.filter((id) => id !== cellId).map((id) => g.byId.get(id)!);
    if (ctes.length) lines.push('WITH');
    ctes.forEach((c, i) => {
      const rel = options.relationFor(c.id);
      const body = rel ? { sql: `SELECT * FROM ${rel}`, user: false } : cellBody(g, c, options);
      lines.push(`${quoteIdent('duckdb', c.name)} AS (`);
      const start = lines.length + 1;
      const b = body.sql.split('\n');
      lines.push(...b);
      segments.push({
        cellId: c.id,
        startLine: start,
        endLine: start + b.length - 1,
        ...(body.user ? { cellLine: 1 } : {}),
      });
      lines.push(i === ctes.length - 1 ? ')' : '),');
    });
    const me = cellBody(g, g.byId.get(cellId)!, options);
    const start = lines.length + 1;
    const b = me.sql.split('\n');
    lines.push(...b);
    segments.push({ cellId, startLine: start, endLine: start + b.length - 1, ...(me.user ? { cellLine: 1 } : {}) });
    return { sql: lines.join('\n'), sourceMap: { lineCount: lines.length, segments }, chain };
  },
  mapPosition: (map, line, column) => mapPosition(map as SourceMap, line, column),
  inputHashes(cells) {
    const g = buildGraph(cells);
    const out = new Map<CellId, string>();
    for (const id of g.order) {
      const c = g.byId.get(id)!;
      const ups = (g.upstream.get(id) ?? []).map((p) => out.get(p) ?? '');
      out.set(
        id,
        createHash('sha256')
          .update(JSON.stringify([c.kind, c.name, c.source, c.config, ups]))
          .digest('hex')
          .slice(0, 24),
      );
    }
    return out;
  },
};
