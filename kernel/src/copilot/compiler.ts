// The compiler verification uses. INTERIM: until shared/src/compile lands, a minimal chain builder for source-table
// and SQL cells (references found as whole words naming another cell); replaced by buildGraph/compileCell.
import { type CellId, type CellSnapshot, PipebookError } from '@pipebook/shared';
import type { Dialect } from '@pipebook/shared/compile/dialect';
import type { CopilotCompiler } from './verify.ts';

function quote(name: string) {
  return `"${name.replace(/"/g, '""')}"`;
}

function upstreamNames(c: CellSnapshot, names: Set<string>): string[] {
  if (c.kind !== 'sql') return [];
  const words = new Set(
    (c.source.replace(/--[^\n]*/g, '').match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).map((w) => w.toLowerCase()),
  );
  return [...names].filter((n) => n !== c.name.toLowerCase() && words.has(n));
}

function bodyOf(c: CellSnapshot): string {
  if (c.kind === 'sql') return c.source;
  if (c.kind === 'source' && c.config.type === 'table') return `SELECT * FROM ${quote(String(c.config.table))}`;
  throw new PipebookError('bad_request', `Cells of kind ${c.kind} cannot be compiled yet.`, { cellId: c.id });
}

export const copilotCompiler: CopilotCompiler = {
  graphErrors(cells: CellSnapshot[], _dialect: Dialect) {
    const errors = new Map<string, { code: string; message: string }>();
    const byName = new Map<string, CellSnapshot[]>();
    for (const c of cells) byName.set(c.name.toLowerCase(), [...(byName.get(c.name.toLowerCase()) ?? []), c]);
    for (const [n, list] of byName)
      if (list.length > 1)
        for (const c of list) errors.set(c.id, { code: 'duplicate_name', message: `Two cells are named ${n}.` });
    const names = new Set(byName.keys());
    const state = new Map<string, 1 | 2>();
    const visit = (c: CellSnapshot, path: string[]): void => {
      if (state.get(c.id) === 2) return;
      if (state.get(c.id) === 1) {
        errors.set(c.id, { code: 'cycle', message: `Cycle: ${[...path, c.name].join(' -> ')}` });
        return;
      }
      state.set(c.id, 1);
      for (const n of upstreamNames(c, names)) {
        const up = byName.get(n)?.[0];
        if (up) visit(up, [...path, c.name]);
        if (up && errors.get(up.id)?.code === 'cycle') errors.set(c.id, errors.get(up.id)!);
      }
      state.set(c.id, 2);
    };
    for (const c of cells) visit(c, []);
    return errors;
  },
  compile(cells: CellSnapshot[], cellId: CellId, _dialect: Dialect) {
    const byName = new Map(cells.map((c) => [c.name.toLowerCase(), c]));
    const names = new Set(byName.keys());
    const target = cells.find((c) => c.id === cellId);
    if (!target) throw new PipebookError('not_found', 'No such cell.');
    const order: CellSnapshot[] = [];
    const seen = new Set<string>();
    const visit = (c: CellSnapshot) => {
      if (seen.has(c.id)) return;
      seen.add(c.id);
      for (const n of upstreamNames(c, names)) visit(byName.get(n)!);
      order.push(c);
    };
    visit(target);
    const ctes = order.slice(0, -1).map((c) => `${quote(c.name)} AS (\n${bodyOf(c)}\n)`);
    const sql = ctes.length ? `WITH ${ctes.join(',\n')}\n${bodyOf(target)}` : bodyOf(target);
    return { sql, chain: order.map((c) => c.id) };
  },
};
