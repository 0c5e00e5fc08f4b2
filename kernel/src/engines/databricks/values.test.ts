import { describe, expect, it } from 'vitest';
import { failureError, isInlineLimitFailure, parseRequestError, parseSparkPosition } from './client.ts';
import { columnsOf, rowConverter } from './values.ts';

describe('Databricks value conversion', () => {
  it('converts JSON_ARRAY strings by type_name', () => {
    const cols = [
      { name: 'i', type_name: 'INT' },
      { name: 'l', type_name: 'LONG' },
      { name: 'd', type_name: 'DECIMAL', type_text: 'DECIMAL(12,3)', type_precision: 12, type_scale: 3 },
      { name: 'f', type_name: 'DOUBLE' },
      { name: 'b', type_name: 'BOOLEAN' },
      { name: 'dt', type_name: 'DATE' },
      { name: 'ts', type_name: 'TIMESTAMP' },
      { name: 'ntz', type_name: 'TIMESTAMP_NTZ' },
      { name: 'bin', type_name: 'BINARY' },
      { name: 'arr', type_name: 'ARRAY', type_text: 'ARRAY<INT>' },
      { name: 's', type_name: 'STRING' },
    ];
    expect(
      rowConverter(cols)([
        '7',
        '9007199254740993',
        '12345.678',
        'NaN',
        'false',
        '2024-02-29',
        '2024-02-29T13:45:30.125Z',
        '2024-02-29 13:45:30.125',
        '3q2+7w==',
        '[1,2]',
        'x',
      ]),
    ).toEqual([
      7,
      9007199254740993n,
      12345.678,
      Number.NaN,
      false,
      new Date('2024-02-29T00:00:00Z'),
      new Date('2024-02-29T13:45:30.125Z'),
      new Date('2024-02-29T13:45:30.125Z'),
      Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
      [1, 2],
      'x',
    ]);
    expect(columnsOf(cols.slice(0, 3)).map((c) => c.type)).toEqual(['INT', 'LONG', 'DECIMAL(12,3)']);
  });
});

describe('Databricks error parsing', () => {
  it('reads JSON, plain ERROR_CODE: message and HTML error bodies', () => {
    expect(parseRequestError(400, '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad wait"}')).toEqual({
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: 'bad wait',
    });
    expect(parseRequestError(503, 'TEMPORARILY_UNAVAILABLE: try later')).toEqual({
      errorCode: 'TEMPORARILY_UNAVAILABLE',
      message: 'try later',
    });
    expect(parseRequestError(502, '<html><head><title>Bad Gateway</title></head></html>')).toEqual({
      errorCode: '502',
      message: 'Bad Gateway',
    });
  });

  it('maps FAILED statements to typed errors with Spark positions (0-based pos)', () => {
    expect(
      parseSparkPosition("[PARSE_SYNTAX_ERROR] Syntax error at or near 'FORM'. SQLSTATE: 42601 (line 2, pos 7)"),
    ).toEqual({ line: 2, column: 8 });
    expect(parseSparkPosition('... SQLSTATE: 42703; line 1 pos 0')).toEqual({ line: 1, column: 1 });
    const failed = {
      statement_id: 's',
      status: {
        state: 'FAILED' as const,
        error: { error_code: 'BAD_REQUEST', message: '[X] boom; line 4 pos 2' },
        sql_state: '42703',
      },
    };
    expect(failureError(failed)).toMatchObject({ code: 'sql_error', line: 4, column: 3 });
    expect(failureError({ ...failed, status: { state: 'FAILED', error: { error_code: 'CANCELLED' } } }).code).toBe(
      'cancelled',
    );
    expect(isInlineLimitFailure(failed)).toBe(false);
    expect(
      isInlineLimitFailure({
        ...failed,
        status: {
          state: 'FAILED',
          error: {
            error_code: 'BAD_REQUEST',
            message: 'Inline byte limit exceeded. Please use disposition=EXTERNAL_LINKS',
          },
        },
      }),
    ).toBe(true);
  });
});
