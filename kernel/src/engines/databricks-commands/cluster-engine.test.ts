import { describe, expect, it } from 'vitest';
import { parseErrorSummary, parseTableResult } from './cluster-engine.ts';

describe('Command Execution results', () => {
  it('reads the exception name and value from an HTML error summary', () => {
    expect(parseErrorSummary('<span class="ansi-red-fg">NameError</span>: name &#39;x&#39; is not defined')).toEqual({
      ename: 'NameError',
      evalue: "name 'x' is not defined",
    });
    expect(parseErrorSummary('org.apache.spark.sql.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] t')).toEqual({
      ename: 'org.apache.spark.sql.AnalysisException',
      evalue: '[TABLE_OR_VIEW_NOT_FOUND] t',
    });
    expect(parseErrorSummary('Cluster terminated')).toEqual({ ename: 'Error', evalue: 'Cluster terminated' });
  });

  it('reads a table result with a JSON schema', () => {
    expect(
      parseTableResult({
        resultType: 'table',
        isJsonSchema: true,
        schema: [
          { name: 'id', type: '"long"', metadata: '{}' },
          { name: 'tags', type: '{"type":"array","elementType":"string","containsNull":true}', metadata: '{}' },
        ],
        data: [[1, ['a']]],
      }),
    ).toEqual({
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'tags', type: 'ARRAY<STRING>' },
      ],
      rows: [[1n, ['a']]],
    });
  });
});
