// Git snapshot of a 300-cell notebook where one cell changed (target < 200 ms), and export of the same notebook,
// each compared with the plain git CLI committing the same one-file change in the same run.
// Run: npx tsx bench/git-snapshot.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellId, CellSnapshot, NotebookState } from '@pipebook/shared';
import { exportDbtProject } from '../collab-server/src/git/dbt-export.ts';
import { stateToFiles } from '../collab-server/src/git/layout.ts';
import { gitIdentity } from '../collab-server/src/git/names.ts';
import { NotebookRepo } from '../collab-server/src/git/repo.ts';
import { zipFiles } from '../collab-server/src/git/zip.ts';

const CELLS = 300;
const ROUNDS = 40;
const TARGET_MS = 200;

function notebook(): NotebookState {
  const cells: CellSnapshot[] = [
    { id: 'c_src' as CellId, name: 'orders', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
  ];
  for (let i = 1; i < CELLS; i++) {
    const prev = cells[i - 1];
    if (i % 3 === 0) {
      cells.push({
        id: `c_${i}` as CellId,
        name: `step_${i}`,
        kind: 'filter',
        source: '',
        config: { input: prev.id, combinator: 'and', conditions: [{ column: 'amount', op: '>', value: i }] },
      });
    } else {
      const lines = Array.from({ length: 12 }, (_, k) => `  , amount * ${k + 1} AS amount_${k}`);
      cells.push({
        id: `c_${i}` as CellId,
        name: `step_${i}`,
        kind: 'sql',
        source: `SELECT order_id\n  , customer_id\n  , amount\n${lines.join('\n')}\nFROM ${prev.name}\nWHERE amount > ${i}`,
        config: {},
      });
    }
  }
  return { title: 'Benchmark notebook', defaultEngine: 'duckdb', cells };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1] };
}

const round = (x: number) => Math.round(x * 10) / 10;

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'pipebook-bench-git-'));
  try {
    const state = notebook();
    const repo = new NotebookRepo(home, 'nb_bench');
    const who = gitIdentity({ id: 'bench', name: 'Bench' });
    await repo.snapshot(state, who, 'Initial');

    // The CLI baseline: the same layout in a plain repo, one file changed, `git add -A` + `git commit`.
    const cliDir = join(home, 'cli');
    mkdirSync(cliDir);
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'B',
      GIT_AUTHOR_EMAIL: 'b@x',
      GIT_COMMITTER_NAME: 'B',
      GIT_COMMITTER_EMAIL: 'b@x',
    };
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: cliDir, env });
    for (const [path, content] of stateToFiles(state)) {
      mkdirSync(dirname(join(cliDir, path)), { recursive: true });
      writeFileSync(join(cliDir, path), content);
    }
    execFileSync('git', ['add', '-A'], { cwd: cliDir, env });
    execFileSync('git', ['commit', '-q', '-m', 'Initial'], { cwd: cliDir, env });

    const snapshotMs: number[] = [];
    const cliMs: number[] = [];
    const exportMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const i = 1 + ((r * 7) % (CELLS - 1));
      const edited: NotebookState = {
        ...state,
        cells: state.cells.map((c) => {
          if (c.id !== `c_${i}`) return c;
          // A SQL edit changes the cell's .sql file; a visual-step edit changes its .yaml config file.
          if (c.kind === 'sql') return { ...c, source: `${c.source}\n-- edit ${r}` };
          return { ...c, config: { ...c.config, conditions: [{ column: 'amount', op: '>', value: 1000 + r }] } };
        }),
      };
      state.cells = edited.cells;

      let t = performance.now();
      const res = await repo.snapshot(edited, who, `Edit ${r}`);
      snapshotMs.push(performance.now() - t);
      if (!res.created) throw new Error('snapshot made no commit');

      const cell = edited.cells.find((c) => c.id === `c_${i}`)!;
      const file = [...stateToFiles({ ...edited, cells: [cell] })].find(([p]) => p.startsWith('cells/'))!;
      t = performance.now();
      writeFileSync(join(cliDir, file[0]), file[1]);
      execFileSync('git', ['add', '-A'], { cwd: cliDir, env });
      execFileSync('git', ['commit', '-q', '-m', `Edit ${r}`], { cwd: cliDir, env });
      cliMs.push(performance.now() - t);

      t = performance.now();
      zipFiles(exportDbtProject(edited), 'benchmark_notebook');
      exportMs.push(performance.now() - t);
    }

    const snap = stats(snapshotMs);
    const cli = stats(cliMs);
    const exp = stats(exportMs);
    const rows = [
      ['Pipebook snapshot (300 cells, 1 changed)', snap],
      ['git CLI add -A + commit (same change)', cli],
      ['Export dbt project + zip (300 cells)', exp],
    ] as const;
    console.log(
      `\n${'figure'.padEnd(44)}${'median ms'.padStart(11)}${'p90 ms'.padStart(9)}${'min'.padStart(8)}${'max'.padStart(8)}`,
    );
    for (const [name, s] of rows) {
      console.log(
        `${name.padEnd(44)}${String(round(s.median)).padStart(11)}${String(round(s.p90)).padStart(9)}${String(round(s.min)).padStart(8)}${String(round(s.max)).padStart(8)}`,
      );
    }
    const ratio = snap.median / cli.median;
    console.log(
      `\nsnapshot / git CLI (median): ${ratio.toFixed(2)}x; export / git CLI: ${(exp.median / cli.median).toFixed(2)}x`,
    );
    console.log(`target: snapshot median < ${TARGET_MS} ms -> ${snap.median < TARGET_MS ? 'met' : 'NOT met'}`);
    console.log(`machine: ${cpus().length} cores, 1-minute load average ${loadavg()[0].toFixed(1)}`);

    const out = {
      bench: 'git-snapshot',
      date: new Date().toISOString(),
      machine: {
        cpus: (await import('node:os')).cpus().length,
        node: process.version,
        git: execFileSync('git', ['--version']).toString().trim(),
      },
      cells: CELLS,
      rounds: ROUNDS,
      snapshotMs: { median: round(snap.median), p90: round(snap.p90), min: round(snap.min), max: round(snap.max) },
      gitCliMs: { median: round(cli.median), p90: round(cli.p90), min: round(cli.min), max: round(cli.max) },
      exportMs: { median: round(exp.median), p90: round(exp.p90), min: round(exp.min), max: round(exp.max) },
      ratioSnapshotToCli: Math.round(ratio * 100) / 100,
      targetMs: TARGET_MS,
      targetMet: snap.median < TARGET_MS,
    };
    const root = join(dirname(fileURLToPath(import.meta.url)));
    mkdirSync(join(root, 'results'), { recursive: true });
    writeFileSync(join(root, 'results', 'git-snapshot.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
