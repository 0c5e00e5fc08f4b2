// Export a notebook as a runnable project: a dbt-style project (dbt_project.yml, models/<cell>.sql with ref() and
// source(), models/sources.yml, models/schema.yml with column types from the last runs), a plain pipeline.sql that
// builds everything on DuckDB in dependency order, a README, and pipebook.yml (the notebook's own cell list, so an
// import gives back the same notebook). SQL is DuckDB's dialect; visual steps are compiled by the shared compiler.
import {
  assertNever,
  type CellId,
  type CellSnapshot,
  type NotebookState,
  PipebookError,
  type RunSummary,
} from '@pipebook/shared';
import { quoteIdent, quoteQualified } from '@pipebook/shared/compile/quote';
import { compileTargetStatement } from '@pipebook/shared/compile/target';
import { compileGenerated, readTarget } from '@pipebook/shared/compile/visual';
import { buildGraph } from '@pipebook/shared/graph/dag';
import { applyEdits, findReferences } from '@pipebook/shared/graph/references';
import { sortKeys } from './layout.ts';
import { assignStems, snakeName } from './names.ts';
import { emitYaml } from './yaml-emit.ts';

export const DBT_MANIFEST = 'pipebook.yml';
export const DBT_FORMAT = 'pipebook-dbt';
export const PIPELINE_SCHEMA = 'pipebook';

/** Project files keep the key order they are built with (readable: `version` first), and never fold lines. */
function projectYaml(value: unknown): string {
  return emitYaml(value);
}

export interface ExportOptions {
  /** Schema pipeline.sql creates its views in (default `pipebook`). */
  schema?: string;
}

/** How each cell appears in the project. */
export interface CellPlacement {
  cell: CellSnapshot;
  stem: string;
  /** `model`: models/<stem>.sql; `source`: an entry in sources.yml; `note`/`python`: docs only. */
  role: 'model' | 'source' | 'note' | 'python';
  file?: string;
  /** For table sources: the dbt source group it belongs to. */
  sourceGroup?: string;
}

function sourceGroupOf(cell: CellSnapshot): string {
  const schema = typeof cell.config.schema === 'string' && cell.config.schema ? cell.config.schema : 'main';
  const catalog = typeof cell.config.catalog === 'string' && cell.config.catalog ? cell.config.catalog : '';
  return snakeName(catalog ? `${catalog}_${schema}` : schema, 'main');
}

export function placeCells(state: NotebookState): CellPlacement[] {
  const stems = assignStems(state.cells.map((c) => c.name));
  return state.cells.map((cell, i) => {
    const stem = stems[i];
    switch (cell.kind) {
      case 'source':
        if (cell.config.type === 'table') return { cell, stem, role: 'source', sourceGroup: sourceGroupOf(cell) };
        return { cell, stem, role: 'model', file: `models/${stem}.sql` };
      case 'markdown':
        return { cell, stem, role: 'note', file: `notes/${stem}.md` };
      case 'pyspark':
        return { cell, stem, role: 'python', file: `python/${stem}.py` };
      case 'sql':
      case 'filter':
      case 'select':
      case 'join':
      case 'aggregate':
      case 'sort':
      case 'limit':
      case 'union':
      case 'target':
        return { cell, stem, role: 'model', file: `models/${stem}.sql` };
      default:
        return assertNever(cell.kind, 'cell kind');
    }
  });
}

/** How a reference to a cell is written in one output flavour. */
type RelationFor = (p: CellPlacement) => string;

function sqlWithRelations(p: CellPlacement, byName: Map<string, CellPlacement>, relationFor: RelationFor): string {
  const sql = p.cell.source;
  const refs = findReferences(sql, 'duckdb', byName.keys());
  const edits = refs.flatMap((r) => {
    const target = byName.get(r.name.toLowerCase());
    if (!target || target.cell.id === p.cell.id) return [];
    // A source read without an alias keeps its cell name as the correlation name, so `orders.amount` still works.
    const alias =
      target.role === 'source' && r.alias === undefined ? ` AS ${quoteIdent('duckdb', target.cell.name)}` : '';
    return [{ start: r.start, end: r.end, text: relationFor(target) + alias }];
  });
  return applyEdits(sql, edits).replace(/;\s*$/, '');
}

function selectFor(
  p: CellPlacement,
  byId: Map<string, CellPlacement>,
  byName: Map<string, CellPlacement>,
  relationFor: RelationFor,
): string {
  const cell = p.cell;
  const inputName = (id: CellId) => {
    const input = byId.get(id);
    if (!input) throw new Error(`unknown input ${id}`);
    return relationFor(input);
  };
  switch (cell.kind) {
    case 'sql':
      return sqlWithRelations(p, byName, relationFor);
    case 'target': {
      const t = readTarget(cell);
      return `SELECT * FROM ${inputName(t.input)}`;
    }
    default:
      // File paths stay as written in the notebook: relative to where the project runs.
      return compileGenerated(cell, { dialect: 'duckdb', inputName, resolveFile: (path) => path });
  }
}

function jinjaString(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function modelConfig(cell: CellSnapshot): string {
  if (cell.kind !== 'target') return '';
  const t = readTarget(cell);
  if (t.type === 'table') {
    const parts = [
      t.mode === 'append' ? "materialized='incremental'" : "materialized='table'",
      `alias=${jinjaString(t.table)}`,
      ...(t.schema ? [`schema=${jinjaString(t.schema)}`] : []),
    ];
    return `{{ config(${parts.join(', ')}) }}\n`;
  }
  // dbt-duckdb writes files with the `external` materialization.
  return `{{ config(materialized='external', location=${jinjaString(t.path)}, format=${jinjaString(t.format)}) }}\n`;
}

export function exportDbtProject(
  state: NotebookState,
  runs: Record<string, RunSummary> = {},
  opts: ExportOptions = {},
): Map<string, string> {
  const schema = opts.schema ?? PIPELINE_SCHEMA;
  const project = snakeName(state.title);
  const placements = placeCells(state);
  const byId = new Map(placements.map((p) => [p.cell.id as string, p]));
  const byName = new Map(
    placements.filter((p) => p.role === 'model' || p.role === 'source').map((p) => [p.cell.name.toLowerCase(), p]),
  );
  const graph = buildGraph(state.cells, 'duckdb');
  const ordered = graph.order.map((id) => byId.get(id)!).filter(Boolean);
  const files = new Map<string, string>();

  const dbtRelation: RelationFor = (p) =>
    p.role === 'source'
      ? `{{ source(${jinjaString(p.sourceGroup!)}, ${jinjaString(p.cell.name)}) }}`
      : `{{ ref(${jinjaString(p.stem)}) }}`;
  const duckRelation: RelationFor = (p) => `${quoteIdent('duckdb', schema)}.${quoteIdent('duckdb', p.stem)}`;

  // dbt project
  files.set(
    'dbt_project.yml',
    projectYaml({
      name: project,
      version: '1.0.0',
      'config-version': 2,
      profile: project,
      'model-paths': ['models'],
      models: { [project]: { '+materialized': 'view' } },
    }),
  );

  const modelsMeta: unknown[] = [];
  const pipeline: string[] = [
    `-- ${state.title}: generated by Pipebook. Builds every model as a view in schema ${schema}, in dependency order.`,
    '-- Run with the DuckDB CLI: duckdb warehouse.duckdb < pipeline.sql',
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent('duckdb', schema)};`,
  ];
  const skipped: Array<{ name: string; reason: string }> = [];
  const sourceGroups = new Map<string, { name: string; schema: string; database?: string; tables: unknown[] }>();

  for (const p of ordered) {
    const cell = p.cell;
    if (p.role === 'note' || p.role === 'python') continue;
    if (p.role === 'source') {
      const cfg = cell.config as { table: string; schema?: string; catalog?: string };
      const group = sourceGroups.get(p.sourceGroup!) ?? {
        name: p.sourceGroup!,
        schema: cfg.schema || 'main',
        ...(cfg.catalog ? { database: cfg.catalog } : {}),
        tables: [],
      };
      group.tables.push({ name: cell.name, identifier: cfg.table, meta: { pipebook_id: cell.id } });
      sourceGroups.set(p.sourceGroup!, group);
      // Unqualified tables are read from DuckDB's default schema (a view named like its table would read itself).
      const table = quoteQualified('duckdb', [
        cfg.catalog,
        cfg.schema || (cfg.catalog ? undefined : 'main'),
        cfg.table,
      ]);
      pipeline.push(`\n-- source ${cell.name}\nCREATE OR REPLACE VIEW ${duckRelation(p)} AS\nSELECT * FROM ${table};`);
      continue;
    }
    let model: { dbtSql: string; config: string; duckSql: string; write?: string };
    try {
      model = {
        dbtSql: selectFor(p, byId, byName, dbtRelation),
        config: modelConfig(cell),
        duckSql: selectFor(p, byId, byName, duckRelation),
        ...(cell.kind === 'target'
          ? { write: compileTargetStatement('duckdb', readTarget(cell), `SELECT * FROM ${duckRelation(p)}`) }
          : {}),
      };
    } catch (e) {
      // A cell that does not compile (e.g. a visual step with no input yet) is left out, and said so, rather than
      // failing the whole export.
      const reason = e instanceof PipebookError ? e.message : 'it could not be compiled';
      skipped.push({ name: cell.name, reason });
      pipeline.push(`\n-- ${cell.kind} ${cell.name}: not exported (${reason.replace(/\s+/g, ' ')})`);
      continue;
    }
    files.set(p.file!, `${model.config}${model.dbtSql}\n`);
    pipeline.push(`\n-- ${cell.kind} ${cell.name}\nCREATE OR REPLACE VIEW ${duckRelation(p)} AS\n${model.duckSql};`);
    if (model.write) pipeline.push(`${model.write};`);
    const run = runs[cell.id];
    const columns = run?.status === 'done' && run.columns ? run.columns : [];
    modelsMeta.push({
      name: p.stem,
      description: `${cell.kind} cell ${cell.name}`,
      meta: { pipebook_id: cell.id, pipebook_kind: cell.kind },
      ...(columns.length ? { columns: columns.map((c) => ({ name: c.name, data_type: c.type })) } : {}),
    });
  }

  files.set(
    'models/sources.yml',
    projectYaml({
      version: 2,
      sources: [...sourceGroups.values()].sort((a, b) => a.name.localeCompare(b.name)),
    }),
  );
  files.set('models/schema.yml', projectYaml({ version: 2, models: modelsMeta }));
  files.set('pipeline.sql', `${pipeline.join('\n')}\n`);

  for (const p of placements) {
    if (p.role === 'note') files.set(p.file!, `${p.cell.source}\n`);
    if (p.role === 'python') files.set(p.file!, `${p.cell.source}\n`);
  }

  files.set(
    DBT_MANIFEST,
    projectYaml({
      format: DBT_FORMAT,
      version: 1,
      title: state.title,
      defaultEngine: state.defaultEngine,
      cells: placements.map((p) => ({
        id: p.cell.id,
        name: p.cell.name,
        kind: p.cell.kind,
        ...(p.file ? { file: p.file } : {}),
        ...(p.role === 'source' ? { source: `${p.sourceGroup}.${p.cell.name}` } : {}),
        ...(p.cell.engine ? { engine: p.cell.engine } : {}),
        ...(Object.keys(p.cell.config).length ? { config: sortKeys(p.cell.config) } : {}),
      })),
    }),
  );
  files.set('README.md', readme(state, project, schema, placements, skipped));
  return files;
}

function readme(
  state: NotebookState,
  project: string,
  schema: string,
  placements: CellPlacement[],
  skipped: Array<{ name: string; reason: string }>,
): string {
  const notes = placements.filter((p) => p.role === 'note').map((p) => p.cell.source.trim());
  const python = placements.filter((p) => p.role === 'python');
  return `${[
    `# ${state.title}`,
    '',
    'Exported from a Pipebook notebook.',
    '',
    '## Run it',
    '',
    `- **DuckDB, no tools needed:** \`duckdb warehouse.duckdb < pipeline.sql\` creates every model as a view in schema \`${schema}\` (in dependency order) and writes the targets.`,
    `- **dbt** (with the dbt-duckdb adapter): add a profile named \`${project}\` and run \`dbt run\`. Models use \`ref()\` and \`source()\`; sources are declared in \`models/sources.yml\` and column types from the notebook's last run are in \`models/schema.yml\`.`,
    '',
    "Source tables without a schema are read from DuckDB's default schema `main`.",
    ...(placements.some((p) => p.cell.kind === 'source' && p.cell.config.type === 'file')
      ? ["File sources keep the paths written in the notebook (relative to Pipebook's data directory): run from there."]
      : []),
    ...(python.length
      ? [
          '',
          `PySpark cells (${python.map((p) => p.cell.name).join(', ')}) are kept under \`python/\` and are not part of the SQL pipeline.`,
        ]
      : []),
    '',
    `\`${DBT_MANIFEST}\` lists the notebook's cells (ids, kinds, configs) so the project can be imported back into Pipebook.`,
    ...(skipped.length
      ? [
          '',
          '## Cells not exported',
          '',
          ...skipped.map((x) => `- \`${x.name}\`: ${x.reason.replace(/\s+/g, ' ')}`),
          '',
        ]
      : []),
    ...(notes.length ? ['', '## Notes from the notebook', '', ...notes.flatMap((n) => [n, ''])] : []),
  ].join('\n')}\n`;
}
