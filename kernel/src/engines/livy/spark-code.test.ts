import { describe, expect, it } from 'vitest';
import {
  createViewSql,
  dropWrapperFrames,
  parseStructSchema,
  pysparkCellCode,
  quoteSparkIdent,
  sparkTypeName,
  stripHtml,
  tracebackLine,
} from './spark-code.ts';

describe('Spark schemas', () => {
  it('names Spark JSON types the way Spark SQL writes them', () => {
    expect(sparkTypeName('long')).toBe('BIGINT');
    expect(sparkTypeName('integer')).toBe('INT');
    expect(sparkTypeName('string')).toBe('STRING');
    expect(sparkTypeName('decimal(10, 2)')).toBe('DECIMAL(10,2)');
    expect(sparkTypeName({ type: 'array', elementType: 'long', containsNull: true })).toBe('ARRAY<BIGINT>');
    expect(sparkTypeName({ type: 'map', keyType: 'string', valueType: 'double' })).toBe('MAP<STRING,DOUBLE>');
    expect(sparkTypeName({ type: 'struct', fields: [{ name: 'a', type: 'date', nullable: true, metadata: {} }] })).toBe(
      'STRUCT<a:DATE>',
    );
  });

  it('reads a StructType schema and refuses anything else', () => {
    expect(
      parseStructSchema({
        type: 'struct',
        fields: [
          { name: 'id', type: 'long', nullable: false, metadata: {} },
          { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
        ],
      }),
    ).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'ts', type: 'TIMESTAMP' },
    ]);
    expect(() => parseStructSchema({ fields: [] })).toThrow(/struct schema/);
  });
});

describe('code sent to Spark', () => {
  it('wraps a cell SELECT in a temp view named after the cell, trailing semicolons dropped', () => {
    expect(createViewSql('my`cell', 'SELECT 1 ;\n')).toBe('CREATE OR REPLACE TEMP VIEW `my``cell` AS\nSELECT 1');
    expect(quoteSparkIdent('a')).toBe('`a`');
  });

  it('compiles PySpark code under the cell name so tracebacks point into the cell', () => {
    const code = pysparkCellCode('sales', 'x = """tri"ple"""\nx', ['orders']);
    expect(code).toContain('filename="<cell sales>"');
    expect(code).toContain('for n in ["orders"]:');
    expect(code).toContain('df.createOrReplaceTempView("sales")');
    expect(code).toContain(JSON.stringify('x = """tri"ple"""\nx'));
  });

  it('finds the innermost line of the cell in a traceback and drops the wrapper frames', () => {
    const tb = [
      'Traceback (most recent call last):\n',
      '  File "<stdin>", line 15, in <module>\n',
      '  File "<cell sales>", line 2, in <module>\n',
      '  File "<cell sales>", line 7, in helper\n',
      '  File "/opt/spark/python/pyspark/sql/dataframe.py", line 3, in filter\n',
      'AnalysisException: nope\n',
    ];
    expect(tracebackLine(tb, 'sales')).toBe(7);
    expect(tracebackLine(tb, 'other')).toBeUndefined();
    expect(dropWrapperFrames(tb)).toHaveLength(5);
    expect(dropWrapperFrames(tb).join('')).not.toContain('<stdin>');
  });

  it('turns a Databricks HTML error summary into text', () => {
    expect(stripHtml('<span class="ansi-red-fg">KeyError</span>: &#39;a&#39; &lt;b&gt;')).toBe("KeyError: 'a' <b>");
  });
});

describe('Spark SQL error positions', () => {
  it('maps "line N, pos M" back to the cell, past the CREATE VIEW line Pipebook adds', async () => {
    const { sqlWhere } = await import('./spark-code.ts');
    const msg = '[UNRESOLVED_COLUMN] A column `x` cannot be resolved.; line 3 pos 7'.replace(
      'line 3 pos',
      'line 3, pos',
    );
    expect(sqlWhere(msg, 1)).toEqual({ line: 2, column: 8 });
    expect(sqlWhere(msg, 0)).toEqual({ line: 3, column: 8 });
    expect(sqlWhere('line 1, pos 0', 1)).toEqual({});
    expect(sqlWhere('no position', 0)).toEqual({});
    expect(sqlWhere("[PARSE_SYNTAX_ERROR] Syntax error at or near 'FROM'. (line 2, pos 0)", 0)).toEqual({
      line: 2,
      column: 1,
    });
  });
});

describe('Spark values', () => {
  it('keeps long numbers exact and gives BIGINT, DATE, TIMESTAMP and BINARY their JS types', async () => {
    const { parseJsonLossless, sparkRows } = await import('./spark-code.ts');
    const parsed = parseJsonLossless('{"data":[[9007199254740993,"x 12345678901234567",1.5,12345678901234567.25]]}');
    expect(parsed).toEqual({ data: [[`9007199254740993`, 'x 12345678901234567', 1.5, '12345678901234567.25']] });
    const rows = sparkRows(
      [[9007199254740993n.toString(), '2024-02-29T00:00:00.000Z', '2024-02-29', [222, 173], 'AQI=', 7, null]],
      ['BIGINT', 'TIMESTAMP', 'DATE', 'BINARY', 'BINARY', 'INT', 'BIGINT'].map((type, i) => ({ name: `c${i}`, type })),
    );
    expect(rows[0][0]).toBe(9007199254740993n);
    expect((rows[0][1] as Date).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect((rows[0][2] as Date).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(Buffer.from(rows[0][3] as Uint8Array).toString('hex')).toBe('dead');
    expect(Array.from(rows[0][4] as Uint8Array)).toEqual([1, 2]);
    expect(rows[0].slice(5)).toEqual([7, null]);
  });
});
