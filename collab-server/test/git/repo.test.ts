// Snapshots, history, diffs, branches and merges against a real git repository in a temp PIPEBOOK_HOME.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CellId,
  type CellSnapshot,
  demoNotebookFile,
  docFromFile,
  exportNotebook,
  fileToState,
  type NotebookState,
  readCells,
  renameCell,
  setSource,
} from '@pipebook/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitIdentity } from '../../src/git/names.ts';
import { NotebookRepo } from '../../src/git/repo.ts';
import { restoreIntoDoc } from '../../src/git/restore.ts';

const ada = gitIdentity({ id: 'ada', name: 'Ada Lovelace' });
const bob = gitIdentity({ id: 'bob', name: 'Bob' });
let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'pipebook-git-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

const stateOf = (doc: ReturnType<typeof docFromFile>): NotebookState => fileToState(exportNotebook(doc));
const edit = (s: NotebookState, id: string, patch: Partial<CellSnapshot>): NotebookState => ({
  ...s,
  cells: s.cells.map((c) => (c.id === id ? { ...c, ...patch } : c)),
});

describe('snapshots and diffs', () => {
  it('snapshot, edit, snapshot: the diff shows exactly the changed cells', async () => {
    const repo = new NotebookRepo(home, 'nb_diff');
    const doc = docFromFile(demoNotebookFile());
    const first = await repo.snapshot(stateOf(doc), ada, 'Initial pipeline');
    expect(first.created).toBe(true);

    setSource(
      doc,
      'demo_orders_clean' as CellId,
      'SELECT order_id, customer_id, amount\nFROM orders\nWHERE amount > 0',
    );
    renameCell(doc, 'demo_top_countries' as CellId, 'best_countries');
    const second = await repo.snapshot(stateOf(doc), bob, 'Simplify cleaning');
    expect(second.created).toBe(true);

    // Git itself sees only the two cell files change (plus notebook.yaml for the rename).
    const changedFiles = execFileSync('git', ['diff', '--name-status', '-M', first.commit, second.commit], {
      cwd: repo.dir,
    })
      .toString()
      .trim()
      .split('\n')
      .sort();
    expect(changedFiles).toEqual([
      'M\tcells/orders_clean.sql',
      'M\tnotebook.yaml',
      'R100\tcells/top_countries.sql\tcells/best_countries.sql',
    ]);

    const diff = await repo.diff(first.commit, second.commit);
    expect(diff.cells.map((c) => [c.id, c.status]).sort()).toEqual([
      ['demo_orders_clean', 'changed'],
      ['demo_top_countries', 'renamed'],
    ]);
    const cellDiff = diff.cells.find((c) => c.id === 'demo_orders_clean')!.diff;
    expect(cellDiff).toContain("-WHERE status <> 'cancelled' AND amount > 0\n+WHERE amount > 0");
    expect(cellDiff).toContain(' FROM orders\n');

    const history = await repo.history();
    expect(history.map((h) => [h.message, h.author.name])).toEqual([
      ['Simplify cleaning', 'Bob'],
      ['Initial pipeline', 'Ada Lovelace'],
    ]);
    expect(history[0].parents).toEqual([first.commit]);

    // An unchanged notebook makes no new commit.
    const third = await repo.snapshot(stateOf(doc), ada, 'Nothing');
    expect(third).toMatchObject({ created: false, commit: second.commit });

    // Any snapshot reads back as the exact state it was taken from.
    expect(await repo.readState(first.commit)).toEqual(fileToState(demoNotebookFile()));
  });

  it('restores a snapshot into a document in one undoable transaction', async () => {
    const repo = new NotebookRepo(home, 'nb_restore');
    const doc = docFromFile(demoNotebookFile());
    const snap = await repo.snapshot(stateOf(doc), ada, 'v1');
    setSource(doc, 'demo_orders_clean' as CellId, 'SELECT 1');
    const edited = stateOf(doc);
    let transactions = 0;
    doc.on('afterTransaction', () => transactions++);
    const handle = restoreIntoDoc(doc, await repo.readState(snap.commit), 'ada');
    expect(transactions).toBe(1);
    expect(stateOf(doc)).toEqual(fileToState(demoNotebookFile()));
    expect(handle.undo()).toBe(true);
    expect(stateOf(doc)).toEqual(edited);
    expect(handle.redo()).toBe(true);
    expect(stateOf(doc)).toEqual(fileToState(demoNotebookFile()));
    handle.destroy();
  });
});

describe('branches and merge', () => {
  it('branch, edit both sides, merge: one conflicting cell reported, the rest merged', async () => {
    const repo = new NotebookRepo(home, 'nb_merge');
    const base = fileToState(demoNotebookFile());
    await repo.snapshot(base, ada, 'Base');
    await repo.createBranch('feature/tweaks');
    expect((await repo.branches()).map((b) => [b.name, b.current])).toEqual([
      ['feature/tweaks', false],
      ['main', true],
    ]);

    // main: edit intro and top_countries.
    await repo.snapshot(
      edit(edit(base, 'demo_intro', { source: '# Revenue (main)' }), 'demo_top_countries', {
        source: 'SELECT * FROM revenue_by_country LIMIT 5',
      }),
      ada,
      'Main edits',
    );

    // feature: edit top_countries differently, change the aggregate and add a cell.
    await repo.switchBranch('feature/tweaks');
    const featureState = edit(
      edit(base, 'demo_top_countries', { source: 'SELECT * FROM revenue_by_country LIMIT 3' }),
      'demo_revenue_by_country',
      {
        config: {
          ...base.cells.find((c) => c.id === 'demo_revenue_by_country')!.config,
          groupBy: ['country', 'segment'],
        },
      },
    );
    featureState.cells.push({ id: 'c_added' as CellId, name: 'added', kind: 'sql', source: 'SELECT 1', config: {} });
    await repo.snapshot(featureState, bob, 'Feature edits');

    await repo.switchBranch('main');
    const preview = await repo.mergeCommit('feature/tweaks', ada, { dryRun: true });
    expect(preview.commit).toBeUndefined();
    const result = await repo.mergeCommit('feature/tweaks', ada);
    expect(result.kind).toBe('merge');
    expect(result.conflicts.map((c) => [c.id, c.reason, c.fields])).toEqual([
      ['demo_top_countries', 'both_changed', ['source']],
    ]);
    const merged = await repo.readState('main');
    const byId = new Map(merged.cells.map((c) => [c.id as string, c]));
    expect(byId.get('demo_intro')!.source).toBe('# Revenue (main)');
    expect(byId.get('demo_revenue_by_country')!.config.groupBy).toEqual(['country', 'segment']);
    expect(byId.get('c_added')!.source).toBe('SELECT 1');
    expect(byId.get('demo_top_countries')!.source).toBe('SELECT * FROM revenue_by_country LIMIT 5');
    const [head] = await repo.history({ limit: 1 });
    expect(head.parents).toHaveLength(2);
    expect(head.message).toContain('demo_top_countries');

    // Merging again is a no-op.
    expect((await repo.mergeCommit('feature/tweaks', ada)).kind).toBe('up_to_date');
  });
});

describe('hostile names', () => {
  it('maps hostile cell names to safe files inside the repo and round-trips the names', async () => {
    const repo = new NotebookRepo(home, 'nb_hostile');
    const names = ['../../x', '--upload-pack=touch pwned', 'n'.repeat(150), 'ünïcødé_名前', '.git', 'a/b\\c', 'x\ny'];
    const state: NotebookState = {
      title: 'Hostile',
      defaultEngine: 'duckdb',
      cells: names.map((name, i) => ({
        id: `c_h${i}` as CellId,
        name,
        kind: 'sql',
        source: `SELECT ${i}`,
        config: {},
      })),
    };
    const snap = await repo.snapshot(state, ada, 'hostile');
    const cellsDir = readdirSync(join(repo.dir, 'cells'));
    expect(cellsDir).toHaveLength(names.length);
    for (const f of cellsDir) expect(f).toMatch(/^[A-Za-z_][A-Za-z0-9_]*\.sql$/);
    expect(existsSync(join(home, 'x.sql'))).toBe(false);
    expect(existsSync(join(home, 'git', 'x.sql'))).toBe(false);
    expect(readdirSync(repo.dir).sort()).toEqual(['.git', 'cells', 'notebook.yaml']);
    expect((await repo.readState(snap.commit)).cells.map((c) => c.name)).toEqual(names);

    // Very long names are refused outright, naming the cell.
    const long = { ...state, cells: [{ ...state.cells[0], name: 'n'.repeat(5000) }] };
    await expect(repo.snapshot(long, ada, 'long')).rejects.toMatchObject({ code: 'invalid_name', cellId: 'c_h0' });
  });

  it('refuses hostile branch names and revisions before git sees them', async () => {
    const repo = new NotebookRepo(home, 'nb_refs');
    await repo.snapshot(fileToState(demoNotebookFile()), ada, 'x');
    for (const bad of ['--upload-pack=x', '-D', '../../x', 'a..b']) {
      await expect(repo.createBranch(bad)).rejects.toMatchObject({ code: 'invalid_name' });
      await expect(repo.readState(bad)).rejects.toMatchObject({ code: 'invalid_name' });
    }
    await expect(repo.readState('deadbeef')).rejects.toMatchObject({ code: 'not_found' });
    expect(() => new NotebookRepo(home, '../escape')).toThrow(/Invalid notebook id/);
  });
});

it('keeps every cell of a demo doc readable after a restore', () => {
  const doc = docFromFile(demoNotebookFile());
  expect(readCells(doc)).toHaveLength(8);
});
