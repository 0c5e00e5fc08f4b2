// The exported project runs: its models, executed in dependency order on DuckDB, give the same rows as compiling and
// running the notebook itself; and export then import gives back an equivalent notebook.
import { DuckDBInstance } from '@duckdb/node-api';
import { type CellId, demoNotebookFile, fileToState, type NotebookState, type RunSummary } from '@pipebook/shared';
import { compileCell } from '@pipebook/shared/compile/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { exportDbtProject } from '../../src/git/dbt-export.ts';
import { importDbtProject } from '../../src/git/dbt-import.ts';

type Connection = Awaited<ReturnType<DuckDBInstance['connect']>>;
let instance: DuckDBInstance;

async function freshDb(): Promise<Connection> {
  const con = await instance.connect();
  return con;
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
});
afterAll(() => {
  instance.closeSync();
});

async function seed(con: Connection, schema: string): Promise<void> {
  await con.run(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET schema = '${schema}'`);
  await con.run(`CREATE OR REPLACE TABLE customers AS
    SELECT range AS customer_id, 'Customer ' || range AS name, ['FR', 'DE', 'US', 'JP'][1 + range % 4] AS country
    FROM range(40)`);
  await con.run(`CREATE OR REPLACE TABLE orders AS
    SELECT range AS order_id, range % 40 AS customer_id, DATE '2024-01-01' + (range % 90)::INT AS order_date,
           ((range * 37) % 500 - 20)::DECIMAL(10,2) AS amount,
           CASE WHEN range % 7 = 0 THEN 'cancelled' ELSE 'paid' END AS status
    FROM range(600)`);
}

/** The demo notebook plus visual steps of every shape the compiler makes. */
function richNotebook(): NotebookState {
  const state = fileToState(demoNotebookFile());
  const id = (s: string) => s as CellId;
  state.cells.push(
    {
      id: id('c_big'),
      name: 'big_countries',
      kind: 'filter',
      source: '',
      config: {
        input: 'demo_revenue_by_country',
        combinator: 'and',
        conditions: [{ column: 'order_count', op: '>', value: 10 }],
      },
    },
    {
      id: id('c_cols'),
      name: 'country_revenue',
      kind: 'select',
      source: '',
      config: { input: 'c_big', columns: [{ column: 'country' }, { column: 'revenue', as: 'total', cast: 'double' }] },
    },
    {
      id: id('c_sorted'),
      name: 'sorted_revenue',
      kind: 'sort',
      source: '',
      config: { input: 'c_cols', keys: [{ column: 'total', direction: 'desc' }] },
    },
    { id: id('c_top2'), name: 'top_two', kind: 'limit', source: '', config: { input: 'c_sorted', count: 2 } },
    {
      id: id('c_both'),
      name: 'both_ends',
      kind: 'union',
      source: '',
      config: { inputs: ['c_top2', 'c_top2'], distinct: true },
    },
    {
      id: id('c_sql2'),
      name: 'customer_orders',
      kind: 'sql',
      source:
        'SELECT customers.country, count(*) AS n\nFROM orders_clean JOIN customers USING (customer_id)\nGROUP BY customers.country',
      config: {},
    },
  );
  return state;
}

function sortRows(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

async function rows(con: Connection, sql: string): Promise<string[]> {
  return sortRows((await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
}

/** A tiny dbt: renders ref()/source() against sources.yml and runs models as views in ref-dependency order. */
async function runDbtModels(con: Connection, files: Map<string, string>, schema: string): Promise<string[]> {
  const sources = YAML.parse(files.get('models/sources.yml')!) as {
    sources: Array<{ name: string; schema: string; tables: Array<{ name: string; identifier?: string }> }>;
  };
  const sourceTable = (g: string, n: string) => {
    const group = sources.sources.find((s) => s.name === g)!;
    const t = group.tables.find((x) => x.name === n)!;
    return `"${group.schema}"."${t.identifier ?? t.name}"`;
  };
  const models = new Map<string, string>();
  for (const [path, text] of files) {
    const m = /^models\/(\w+)\.sql$/.exec(path);
    if (m) models.set(m[1], text);
  }
  const deps = (sql: string) => [...sql.matchAll(/\{\{\s*ref\('(\w+)'\)\s*\}\}/g)].map((m) => m[1]);
  const done: string[] = [];
  const visit = (name: string, stack: string[] = []) => {
    if (done.includes(name)) return;
    if (stack.includes(name)) throw new Error(`cycle at ${name}`);
    for (const d of deps(models.get(name)!)) visit(d, [...stack, name]);
    done.push(name);
  };
  for (const name of [...models.keys()].sort()) visit(name);
  await con.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  for (const name of done) {
    const sql = models
      .get(name)!
      .replace(/^\{\{\s*config\(.*\)\s*\}\}\n/, '')
      .replace(/\{\{\s*ref\('(\w+)'\)\s*\}\}/g, (_m, r: string) => `"${schema}"."${r}"`)
      .replace(/\{\{\s*source\('(\w+)', '(\w+)'\)\s*\}\}/g, (_m, g: string, n: string) => sourceTable(g, n));
    await con.run(`CREATE OR REPLACE VIEW "${schema}"."${name}" AS ${sql}`);
  }
  return done;
}

describe('export to a dbt-style project', () => {
  it('writes the project files with ref(), source(), sources and column types', () => {
    const state = richNotebook();
    const runs: Record<string, RunSummary> = {
      demo_orders_clean: {
        status: 'done',
        runId: 'r1',
        engine: 'duckdb',
        by: { id: 'u', name: 'U' },
        columns: [
          { name: 'order_id', type: 'BIGINT' },
          { name: 'amount', type: 'DECIMAL(10,2)' },
        ],
      },
    };
    const files = exportDbtProject(state, runs);
    expect(files.get('models/orders_clean.sql')).toContain(`FROM {{ source('main', 'orders') }} AS "orders"`);
    expect(files.get('models/top_countries.sql')).toContain(`FROM {{ ref('revenue_by_country') }}`);
    expect(files.get('models/orders_customers.sql')).toMatch(
      /\{\{ ref\('orders_clean'\) \}\}.*\{\{ source\('main', 'customers'\) \}\}/s,
    );
    expect(files.get('models/revenue_report.sql')).toMatch(
      /^\{\{ config\(materialized='table', alias='revenue_by_country_report'\) \}\}/,
    );
    const schema = YAML.parse(files.get('models/schema.yml')!);
    expect(schema.models.find((m: { name: string }) => m.name === 'orders_clean').columns).toEqual([
      { name: 'order_id', data_type: 'BIGINT' },
      { name: 'amount', data_type: 'DECIMAL(10,2)' },
    ]);
    expect(YAML.parse(files.get('models/sources.yml')!).sources[0].tables.map((t: { name: string }) => t.name)).toEqual(
      ['orders', 'customers'],
    );
    expect(files.get('dbt_project.yml')).toContain('name: demo_revenue_by_country');
    expect(files.get('README.md')).toContain('# Revenue by country');
    expect(files.has('notes/intro.md')).toBe(true);
  });

  it('runs on DuckDB (pipeline.sql and the dbt models) with the same rows as the notebook compiled directly', async () => {
    const state = richNotebook();
    const files = exportDbtProject(state);
    const con = await freshDb();
    await seed(con, 'main');

    // The notebook's own compilation, cell by cell.
    const relational = state.cells.filter((c) => !['markdown', 'target', 'pyspark'].includes(c.kind));
    const expected = new Map<string, string[]>();
    for (const c of relational) expected.set(c.name, await rows(con, compileCell(state.cells, c.id, 'duckdb').sql));
    expect(expected.get('both_ends')!.length).toBe(2);
    expect(expected.get('top_countries')!.length).toBe(4);

    // pipeline.sql as the DuckDB CLI would run it.
    await con.run(files.get('pipeline.sql')!);
    for (const c of relational) {
      expect(await rows(con, `SELECT * FROM pipebook."${c.name}"`), c.name).toEqual(expected.get(c.name));
    }
    // The target was written.
    expect(await rows(con, 'SELECT * FROM main.revenue_by_country_report')).toEqual(expected.get('revenue_by_country'));

    // The dbt models, rendered and run in ref() dependency order.
    const order = await runDbtModels(con, files, 'dbt');
    expect(order.indexOf('orders_clean')).toBeLessThan(order.indexOf('orders_customers'));
    for (const c of relational.filter((x) => x.kind !== 'source' || x.config.type !== 'table')) {
      expect(await rows(con, `SELECT * FROM dbt."${c.name}"`), c.name).toEqual(expected.get(c.name));
    }
    con.closeSync();
  });

  it('imports back into an equivalent notebook', () => {
    const state = richNotebook();
    const back = importDbtProject(exportDbtProject(state));
    expect(back).toEqual(state);
  });

  it('imports a plain dbt project (no manifest) as source and SQL cells in dependency order', () => {
    const files = new Map([
      [
        'models/sources.yml',
        'version: 2\nsources:\n  - name: raw\n    schema: shop\n    tables:\n      - name: orders\n',
      ],
      [
        'models/b_totals.sql',
        "{{ config(materialized='table') }}\nSELECT sum(amount) AS total FROM {{ ref('a_paid') }}\n",
      ],
      ['models/a_paid.sql', "SELECT * FROM {{ source('raw', 'orders') }} WHERE status = 'paid'\n"],
      ['../../etc/passwd.sql', 'SELECT 1'],
    ]);
    const state = importDbtProject(files, 'Shop');
    expect(state.cells.map((c) => [c.name, c.kind])).toEqual([
      ['orders', 'source'],
      ['a_paid', 'sql'],
      ['b_totals', 'sql'],
    ]);
    expect(state.cells[0].config).toEqual({ type: 'table', table: 'orders', schema: 'shop' });
    expect(state.cells[1].source).toBe("SELECT * FROM orders WHERE status = 'paid'");
    expect(state.cells[2].source).toBe('SELECT sum(amount) AS total FROM a_paid');
  });

  it('maps hostile cell names to safe model files and still runs', async () => {
    const id = (x: string) => x as CellId;
    const state: NotebookState = {
      title: '../../Évil -- title',
      defaultEngine: 'duckdb',
      cells: [
        {
          id: id('c_src'),
          name: '../../orders',
          kind: 'source',
          source: '',
          config: { type: 'table', table: 'orders' },
        },
        {
          id: id('c_f'),
          name: '--upload-pack=x',
          kind: 'filter',
          source: '',
          config: { input: 'c_src', combinator: 'and', conditions: [{ column: 'amount', op: '>', value: 100 }] },
        },
        {
          id: id('c_l'),
          name: 'ünïcødé 名前'.repeat(10),
          kind: 'limit',
          source: '',
          config: { input: 'c_f', count: 3 },
        },
      ],
    };
    const files = exportDbtProject(state);
    for (const path of files.keys())
      expect(path).toMatch(
        /^(?:[A-Za-z_]+\.(?:yml|sql|md)|(?:models|notes|python)\/[A-Za-z0-9_]+\.(?:sql|yml|md|py))$/,
      );
    expect(files.get('dbt_project.yml')).toContain('name: evil_title');
    const con = await freshDb();
    await seed(con, 'main');
    await con.run(files.get('pipeline.sql')!);
    const limitModel = [...files].find(([p, text]) => p.startsWith('models/') && text.includes('LIMIT 3'))![0];
    const stem = limitModel.slice(7, -4);
    expect((await con.runAndReadAll(`SELECT count(*) AS n FROM pipebook."${stem}"`)).getRowObjectsJson()).toEqual([
      { n: '3' },
    ]);
    expect(importDbtProject(files)).toEqual(state);
    con.closeSync();
  });

  it('leaves out a cell that does not compile, says so, and exports the rest', () => {
    const state = richNotebook();
    state.cells.push({
      id: 'c_broken' as CellId,
      name: 'half_done',
      kind: 'filter',
      source: '',
      config: { combinator: 'and', conditions: [] },
    });
    const files = exportDbtProject(state);
    expect(files.has('models/half_done.sql')).toBe(false);
    expect(files.get('README.md')).toMatch(/## Cells not exported\n\n- `half_done`: /);
    expect(files.get('pipeline.sql')).toContain('-- filter half_done: not exported');
    expect(files.has('models/top_countries.sql')).toBe(true);
    expect(importDbtProject(files)).toEqual(state);
  });

  it('refuses manifest entries pointing outside the project folders', () => {
    const files = exportDbtProject(richNotebook());
    const manifest = files.get('pipebook.yml')!.replace('file: models/orders_clean.sql', 'file: ../../../etc/passwd');
    expect(() => importDbtProject(new Map([...files, ['pipebook.yml', manifest]]))).toThrow(/Refused file name/);
  });
});
