// Compiler output for Snowflake and Databricks (text checked here; DuckDB statements are run for real in
// compile.duckdb.test.ts), quoting of hostile names and values, errors, and source maps.
import { describe, expect, it } from 'vitest';
import { PipebookError } from '../errors.ts';
import { tokenize } from '../graph/tokenize.ts';
import type { CellId } from '../ids.ts';
import { fileToState } from '../notebook/file-format.ts';
import type { CellKind, CellSnapshot } from '../notebook/schema.ts';
import { demoNotebookFile } from '../notebook/templates.ts';
import { compileCell } from './compile.ts';
import type { Dialect } from './dialect.ts';
import { quoteIdent, stringLiteral } from './quote.ts';
import { duckdbErrorPosition, mapPosition, shiftSourceMap } from './source-map.ts';
import { compileTargetStatement, TARGET_STATEMENT_LINE_OFFSET } from './target.ts';

const cell = (id: string, name: string, kind: CellKind, config: Record<string, unknown> = {}, source = '') =>
  ({ id: id as CellId, name, kind, source, config }) as CellSnapshot;
const HOSTILE = ["x'; DROP TABLE y; --", 'a"b', 'c`d', 'C:\\new\\', 'Zoë 😀', "it\\'s"];

function errorOf(fn: () => unknown): PipebookError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PipebookError) return e;
    throw e;
  }
  throw new Error('expected a PipebookError');
}

describe('quoting per dialect', () => {
  it('quotes identifiers so that the dialect reads back exactly one identifier with the same name', () => {
    for (const d of ['duckdb', 'databricks', 'snowflake'] as const) {
      for (const name of HOSTILE) {
        const toks = tokenize(quoteIdent(d, name), d);
        expect(toks).toHaveLength(1);
        expect(toks[0].kind).toBe('quoted');
        expect(toks[0].value).toBe(name);
      }
    }
    expect(quoteIdent('snowflake', 'amount')).toBe('"AMOUNT"');
    expect(quoteIdent('snowflake', 'order')).toBe('"ORDER"');
    expect(quoteIdent('snowflake', 'Mixed Case')).toBe('"Mixed Case"');
    expect(quoteIdent('databricks', 'a`b')).toBe('`a``b`');
  });

  it('writes string literals that each dialect reads back as the same text, as one token', () => {
    for (const d of ['duckdb', 'databricks', 'snowflake'] as const) {
      for (const value of [...HOSTILE, "'", '\\', "\\'", "''", '$$', '\n\t']) {
        const toks = tokenize(stringLiteral(d, value), d);
        expect(toks).toHaveLength(1);
        expect(toks[0]).toMatchObject({ kind: 'string', value });
      }
    }
    expect(stringLiteral('databricks', "it's")).toBe("'it\\'s'");
    expect(stringLiteral('snowflake', 'C:\\x')).toBe("'C:\\\\x'");
  });

  it('refuses NUL characters in names and values', () => {
    expect(errorOf(() => quoteIdent('duckdb', 'a\u0000b')).code).toBe('invalid_config');
    expect(errorOf(() => stringLiteral('duckdb', 'a\u0000b')).code).toBe('invalid_config');
  });
});

describe('compiling the demo notebook for Snowflake and Databricks', () => {
  const cells = fileToState(demoNotebookFile()).cells;

  it('[C5] emits Snowflake CTE names upper-cased in quotes, so unquoted references in user SQL resolve', () => {
    const { sql, chain } = compileCell(cells, 'demo_top_countries' as CellId, 'snowflake');
    expect(chain).toEqual([
      'demo_orders',
      'demo_customers',
      'demo_orders_clean',
      'demo_orders_customers',
      'demo_revenue_by_country',
      'demo_top_countries',
    ]);
    expect(sql).toContain('"ORDERS_CLEAN" AS (\nSELECT order_id, customer_id, order_date, amount\nFROM orders\n');
    expect(sql).toContain(
      'SELECT "L".*, "R".* EXCLUDE ("CUSTOMER_ID") FROM "ORDERS_CLEAN" AS "L" INNER JOIN "CUSTOMERS" AS "R" ON "L"."CUSTOMER_ID" = "R"."CUSTOMER_ID"',
    );
    // the source tables are read under internal names first: in Snowflake a CTE is in scope in its own body
    expect(sql.startsWith('WITH\n"__PIPEBOOK_TABLE_ORDERS" AS (\nSELECT * FROM "ORDERS"\n),')).toBe(true);
    expect(sql).toContain('"ORDERS" AS (\nSELECT * FROM "__PIPEBOOK_TABLE_ORDERS"\n)');
    expect(
      sql.endsWith('SELECT country, revenue, order_count\nFROM revenue_by_country\nORDER BY revenue DESC\nLIMIT 10'),
    ).toBe(true);
  });

  it('emits backtick-quoted Spark SQL with EXCEPT for the join columns', () => {
    const { sql } = compileCell(cells, 'demo_revenue_by_country' as CellId, 'databricks');
    expect(sql).toContain('`orders` AS (\nSELECT * FROM `__pipebook_table_orders`\n)');
    expect(sql).toContain('SELECT `l`.*, `r`.* EXCEPT (`customer_id`) FROM `orders_clean` AS `l`');
    expect(sql.split('\n').at(-1)).toBe(
      'SELECT `country`, sum(`amount`) AS `revenue`, count(*) AS `order_count` FROM `orders_customers` GROUP BY `country`',
    );
  });

  it('builds target statements for each dialect; files only on DuckDB', () => {
    const compiled = compileCell(cells, 'demo_report' as CellId, 'snowflake');
    const stmt = compileTargetStatement('snowflake', compiled.target!, compiled.sql);
    expect(stmt.split('\n')[0]).toBe('CREATE OR REPLACE TABLE "REVENUE_BY_COUNTRY_REPORT" AS');
    const append = compileTargetStatement(
      'databricks',
      { ...compiled.target!, type: 'table', table: 'a`b', schema: 'sales', mode: 'append' } as never,
      'SELECT 1',
    );
    expect(append).toBe('INSERT INTO `sales`.`a``b`\nSELECT 1');
    const file = {
      cellId: 't' as CellId,
      input: 'x' as CellId,
      type: 'file' as const,
      path: '/x',
      format: 'csv' as const,
    };
    expect(errorOf(() => compileTargetStatement('snowflake', file, 'SELECT 1')).code).toBe('bad_request');
    expect(TARGET_STATEMENT_LINE_OFFSET).toBe(1);
  });
});

describe('visual steps for Snowflake and Databricks', () => {
  const base = [cell('s', 'src', 'source', { type: 'table', catalog: 'main', schema: 'raw', table: 'ev"ents' })];
  const compile = (c: CellSnapshot, d: Dialect) =>
    compileCell([...base, c], c.id, d)
      .sql.split('\n')
      .at(-1);

  it('escapes hostile filter values per dialect', () => {
    const f = cell('f', 'f', 'filter', {
      input: 's',
      combinator: 'or',
      conditions: [
        { column: 'a"b', op: '=', value: "x'; DROP TABLE y; --" },
        { column: 'c`d', op: 'in', value: ['C:\\new\\', 1.5, true, null] },
        { column: 'name', op: 'starts_with', value: "it's" },
      ],
    });
    expect(compile(f, 'snowflake')).toBe(
      `SELECT * FROM "SRC" WHERE ("a""b" = 'x''; DROP TABLE y; --') OR ("c\`d" IN ('C:\\\\new\\\\', 1.5, TRUE, NULL)) OR (STARTSWITH("NAME", 'it''s'))`,
    );
    expect(compile(f, 'databricks')).toBe(
      "SELECT * FROM `src` WHERE (`a\"b` = 'x\\'; DROP TABLE y; --') OR (`c``d` IN ('C:\\\\new\\\\', 1.5, TRUE, NULL)) OR (startswith(`name`, 'it\\'s'))",
    );
    // every literal and name is one token of the right kind
    for (const d of ['snowflake', 'databricks'] as const) {
      const toks = tokenize(compile(f, d)!, d);
      expect(toks.filter((t) => t.kind === 'string').map((t) => t.value)).toEqual([
        "x'; DROP TABLE y; --",
        'C:\\new\\',
        "it's",
      ]);
      expect(toks.some((t) => t.kind === 'word' && t.value.toUpperCase() === 'DROP')).toBe(false);
    }
  });

  it('reads sources with catalog and schema', () => {
    expect(compileCell(base, 's' as CellId, 'snowflake').sql).toBe('SELECT * FROM "MAIN"."RAW"."ev""ents"');
    expect(compileCell(base, 's' as CellId, 'databricks').sql).toBe('SELECT * FROM `main`.`raw`.`ev"ents`');
  });

  it('casts with each dialect type names, sorts, limits and unions by name', () => {
    const sel = cell('x', 'x', 'select', {
      input: 's',
      columns: [
        { column: 'v', cast: 'varchar' },
        { column: 't', cast: 'timestamp', as: 'ts' },
      ],
    });
    expect(compile(sel, 'databricks')).toBe(
      'SELECT CAST(`v` AS STRING) AS `v`, CAST(`t` AS TIMESTAMP) AS `ts` FROM `src`',
    );
    expect(compile(sel, 'snowflake')).toBe(
      'SELECT CAST("V" AS VARCHAR) AS "V", CAST("T" AS TIMESTAMP_NTZ) AS "TS" FROM "SRC"',
    );
    const sort = cell('o', 'o', 'sort', { input: 's', keys: [{ column: 'v', direction: 'desc', nulls: 'last' }] });
    expect(compile(sort, 'snowflake')).toBe('SELECT * FROM "SRC" ORDER BY "V" DESC NULLS LAST');
    const lim = cell('l', 'l', 'limit', { input: 's', count: 5, offset: 10 });
    expect(compile(lim, 'databricks')).toBe('SELECT * FROM `src` LIMIT 5 OFFSET 10');
    const uni = cell('u', 'u', 'union', { inputs: ['s', 's'], distinct: true });
    expect(compile(uni, 'snowflake')).toBe('SELECT * FROM "SRC" UNION BY NAME SELECT * FROM "SRC"');
    // Spark SQL matches set operator columns by position only
    expect(compile({ ...uni, config: { inputs: ['s', 's'], distinct: false } }, 'databricks')).toBe(
      'SELECT * FROM `src` UNION ALL SELECT * FROM `src`',
    );
  });

  it('refuses local files on Snowflake and Databricks unless the resolver gives a relation', () => {
    const file = [cell('f', 'f', 'source', { type: 'file', path: 'x.csv', format: 'csv' })];
    const e = errorOf(() => compileCell(file, 'f' as CellId, 'snowflake', { resolveFile: () => '/data/x.csv' }));
    expect(e).toMatchObject({ code: 'bad_request', cellId: 'f' });
    const staged = compileCell(file, 'f' as CellId, 'snowflake', { resolveFile: () => ({ relation: '@stage/x.csv' }) });
    expect(staged.sql).toBe('SELECT * FROM @stage/x.csv');
    const dbx = errorOf(() => compileCell(file, 'f' as CellId, 'databricks', { resolveFile: () => '/data/x.csv' }));
    expect(dbx).toMatchObject({ code: 'bad_request', cellId: 'f' });
    expect(dbx.message).toContain('Databricks cannot read the local file "x.csv"');
    const volume = compileCell(file, 'f' as CellId, 'databricks', {
      resolveFile: (p, format) => ({ relation: `read_files('/Volumes/main/raw/${p}', format => '${format}')` }),
    });
    expect(volume.sql).toBe("SELECT * FROM read_files('/Volumes/main/raw/x.csv', format => 'csv')");
    expect(errorOf(() => compileCell(file, 'f' as CellId, 'duckdb')).code).toBe('bad_request');
  });

  it('upper-cases quoted Snowflake references to match the CTE names, keeping every column in place', () => {
    const cells = [...base, cell('q', 'q', 'sql', {}, 'SELECT src.id\nFROM "src" JOIN "SRC" s2 USING (id)')];
    const { sql } = compileCell(cells, 'q' as CellId, 'snowflake');
    expect(sql.split('\n').slice(-2)).toEqual(['SELECT src.id', 'FROM "SRC" JOIN "SRC" s2 USING (id)']);
  });
});

describe('config validation', () => {
  const base = [cell('s', 'src', 'source', { type: 'table', table: 't' })];
  const cases: Array<[string, CellKind, Record<string, unknown>, string]> = [
    ['filter op', 'filter', { input: 's', conditions: [{ column: 'a', op: 'drop' }] }, 'conditions[0].op'],
    ['filter column', 'filter', { input: 's', conditions: [{ column: '', op: '=' }] }, 'conditions[0].column'],
    [
      'filter value',
      'filter',
      { input: 's', conditions: [{ column: 'a', op: '<', value: { x: 1 } }] },
      'conditions[0].value',
    ],
    [
      'filter NaN',
      'filter',
      { input: 's', conditions: [{ column: 'a', op: '=', value: Number.NaN }] },
      'conditions[0].value',
    ],
    ['filter in', 'filter', { input: 's', conditions: [{ column: 'a', op: 'in', value: [] }] }, 'conditions[0].value'],
    ['select columns', 'select', { input: 's', columns: [] }, 'columns'],
    ['select cast', 'select', { input: 's', columns: [{ column: 'a', cast: 'text; DROP' }] }, 'columns[0].cast'],
    ['join type', 'join', { left: 's', right: 's', type: 'cross', on: [{ left: 'a', right: 'a' }] }, 'type'],
    ['join on', 'join', { left: 's', right: 's', type: 'inner', on: [] }, 'on'],
    [
      'aggregate fn',
      'aggregate',
      { input: 's', groupBy: [], measures: [{ fn: 'median', column: 'a', as: 'm' }] },
      'measures[0].fn',
    ],
    [
      'aggregate as',
      'aggregate',
      { input: 's', groupBy: ['a'], measures: [{ fn: 'sum', column: 'a' }] },
      'measures[0].as',
    ],
    ['aggregate empty', 'aggregate', { input: 's', groupBy: [], measures: [] }, 'measures'],
    [
      'select duplicate',
      'select',
      { input: 's', columns: [{ column: 'a' }, { column: 'b', as: 'A' }] },
      'columns[1].as',
    ],
    [
      'join duplicate',
      'join',
      {
        left: 's',
        right: 's',
        type: 'inner',
        on: [{ left: 'id', right: 'id' }],
        columns: [
          { side: 'left', column: 'id' },
          { side: 'right', column: 'id' },
        ],
      },
      'columns[1].column',
    ],
    [
      'aggregate duplicate',
      'aggregate',
      { input: 's', groupBy: ['n'], measures: [{ fn: 'count', as: 'N' }] },
      'measures[0].as',
    ],
    ['sort keys', 'sort', { input: 's', keys: [] }, 'keys'],
    ['sort direction', 'sort', { input: 's', keys: [{ column: 'a', direction: 'sideways' }] }, 'keys[0].direction'],
    ['limit count', 'limit', { input: 's', count: -1 }, 'count'],
    ['limit fraction', 'limit', { input: 's', count: 1.5 }, 'count'],
    ['limit text', 'limit', { input: 's', count: '10; DROP TABLE y' }, 'count'],
    ['union distinct', 'union', { inputs: ['s'], distinct: 'yes' }, 'distinct'],
  ];
  it.each(cases)('names the field: %s', (_label, kind, config, field) => {
    const e = errorOf(() => compileCell([...base, cell('v', 'v', kind, config)], 'v' as CellId, 'duckdb'));
    expect(e.code).toBe('invalid_config');
    expect(e.cellId).toBe('v');
    expect(e.message).toContain(field);
  });

  it('validates source and target configs', () => {
    const bad = [
      cell('s', 's', 'source', { type: 'table' }),
      cell('t', 't', 'target', { input: 's', type: 'file', path: 'x', format: 'xlsx' }),
    ];
    expect(errorOf(() => compileCell(bad, 's' as CellId, 'duckdb')).message).toContain('table');
    expect(errorOf(() => compileCell([...base, bad[1]], 't' as CellId, 'duckdb')).message).toContain('format');
  });
});

describe('errors that stop compilation', () => {
  it('[C4] refuses markdown and PySpark cells, and cells reading an unavailable PySpark result', () => {
    const cells = [
      cell('m', 'notes', 'markdown', {}, '# x'),
      cell('p', 'py', 'pyspark', {}, 'df = spark.range(3)'),
      cell('q', 'q', 'sql', {}, 'SELECT * FROM py'),
    ];
    expect(errorOf(() => compileCell(cells, 'm' as CellId, 'duckdb'))).toMatchObject({ code: 'bad_request' });
    expect(errorOf(() => compileCell(cells, 'p' as CellId, 'databricks'))).toMatchObject({ code: 'bad_request' });
    expect(errorOf(() => compileCell(cells, 'q' as CellId, 'databricks'))).toMatchObject({
      code: 'blocked',
      cellId: 'p',
    });
    const ok = compileCell(cells, 'q' as CellId, 'databricks', {
      relationFor: (id) => (id === 'p' ? 'global_temp.py_result' : undefined),
    });
    expect(ok.sql).toBe('WITH\n`py` AS (\nSELECT * FROM global_temp.py_result\n)\nSELECT * FROM py');
  });

  it('[C3] refuses statements that are not queries, and empty cells, with the position', () => {
    const e = errorOf(() => compileCell([cell('q', 'q', 'sql', {}, '\n  DELETE FROM t')], 'q' as CellId, 'duckdb'));
    expect(e).toMatchObject({ code: 'sql_error', line: 2, column: 3 });
    const empty = errorOf(() => compileCell([cell('q', 'q', 'sql', {}, ' -- nothing\n;')], 'q' as CellId, 'duckdb'));
    expect(empty.code).toBe('sql_error');
  });

  it('[C4] blocks on a cycle, naming it, and on a missing cell', () => {
    const cells = [cell('a', 'a', 'sql', {}, 'SELECT * FROM b'), cell('b', 'b', 'sql', {}, 'SELECT * FROM a')];
    const e = errorOf(() => compileCell(cells, 'a' as CellId, 'duckdb'));
    expect(e.code).toBe('cycle');
    expect(e.message).toContain('a -> b -> a');
    expect(errorOf(() => compileCell(cells, 'zz' as CellId, 'duckdb')).code).toBe('not_found');
  });
});

describe('source maps', () => {
  const cells = [
    cell('s', 'src', 'source', { type: 'table', schema: 'raw', table: 't' }),
    cell('a', 'a', 'sql', {}, '\nSELECT x,\n       y\nFROM src'),
    cell('b', 'b', 'filter', { input: 'a', conditions: [{ column: 'x', op: '>', value: 1 }] }),
    cell('c', 'c', 'sql', {}, 'SELECT *\nFROM b\nWHERE y > 2;'),
  ];

  it('maps every line of user SQL to its cell and own line, and generated lines to their cell', () => {
    const { sql, sourceMap } = compileCell(cells, 'c' as CellId, 'snowflake');
    const lines = sql.split('\n');
    expect(sourceMap.lineCount).toBe(lines.length);
    expect(mapPosition(sourceMap, 1, 1)).toBeUndefined(); // WITH
    // each user line maps back to the same text in the cell
    for (const [l, text] of lines.entries()) {
      const pos = mapPosition(sourceMap, l + 1, 1);
      if (!pos || pos.generated) continue;
      const own = cells.find((c) => c.id === pos.cellId)!.source.split('\n')[pos.line - 1];
      expect(text).toBe(own.replace(/;$/, ''));
    }
    const yLine = lines.indexOf('       y') + 1;
    expect(mapPosition(sourceMap, yLine, 8)).toEqual({ cellId: 'a', line: 3, column: 8, generated: false });
    const filterLine = lines.findIndex((l) => l.includes('WHERE ("X" > 1)')) + 1;
    expect(mapPosition(sourceMap, filterLine, 5)).toMatchObject({ cellId: 'b', generated: true });
    expect(mapPosition(sourceMap, lines.length, 3)).toEqual({ cellId: 'c', line: 3, column: 3, generated: false });
    expect(mapPosition(sourceMap, lines.length + 1, 1)).toBeUndefined();
  });

  it('shifts with a target statement', () => {
    const { sourceMap } = compileCell(cells, 'c' as CellId, 'snowflake');
    const shifted = shiftSourceMap(sourceMap, TARGET_STATEMENT_LINE_OFFSET);
    const last = sourceMap.lineCount;
    expect(mapPosition(shifted, last + 1, 1)).toEqual(mapPosition(sourceMap, last, 1));
  });

  it('reads the position out of a DuckDB error message', () => {
    const msg = 'Binder Error: Referenced column "nope" not found\n\nLINE 4:   nope\n          ^';
    expect(duckdbErrorPosition(msg)).toEqual({ line: 4, column: 3 });
    expect(duckdbErrorPosition('Catalog Error: no such table')).toBeUndefined();
  });
});
