import { describe, expect, it } from 'vitest';
import { parseErrorPosition, parseLinkHeader, statementError } from './client.ts';
import { backoffDelay, parseRetryAfter, pollDelay } from './retry.ts';
import { columnsOf, converterFor, rowConverter, secondsToMillis, secondsToTimeOfDay } from './values.ts';

describe('Snowflake cell conversion', () => {
  it('converts each string-encoded type', () => {
    const rowType = [
      { name: 'I', type: 'fixed', precision: 38, scale: 0 },
      { name: 'BIG', type: 'fixed', precision: 38, scale: 0 },
      { name: 'D', type: 'fixed', precision: 12, scale: 3 },
      { name: 'F', type: 'real' },
      { name: 'B', type: 'boolean' },
      { name: 'DT', type: 'date' },
      { name: 'T', type: 'time' },
      { name: 'TS', type: 'timestamp_ntz' },
      { name: 'TZ', type: 'timestamp_tz' },
      { name: 'LTZ', type: 'timestamp_ltz' },
      { name: 'BIN', type: 'binary' },
      { name: 'V', type: 'variant' },
      { name: 'S', type: 'text' },
    ];
    const row = rowConverter(rowType)([
      '42',
      '12345678901234567890',
      '-0.500',
      '1.5e-3',
      'true',
      '19782',
      '49530.125000000',
      '1709214330.125000000',
      '1709214330.125000000 1500',
      '-14182940.000000000',
      'DEADBEEF',
      '{"a":[1,2]}',
      'x',
    ]);
    expect(row).toEqual([
      42,
      12345678901234567890n,
      -0.5,
      0.0015,
      true,
      new Date('2024-02-29T00:00:00Z'),
      '13:45:30.125',
      new Date('2024-02-29T13:45:30.125Z'),
      new Date('2024-02-29T13:45:30.125Z'),
      new Date('1969-07-20T20:17:40Z'),
      Uint8Array.from([0xde, 0xad, 0xbe, 0xef]),
      { a: [1, 2] },
      'x',
    ]);
    expect(rowConverter(rowType)(rowType.map(() => null))).toEqual(rowType.map(() => null));
  });

  it('keeps millisecond precision without float rounding, before and after the epoch', () => {
    expect(secondsToMillis('1700000000.999999999')).toBe(1_700_000_000_999);
    expect(secondsToMillis('-1.500000000')).toBe(-1500);
    expect(secondsToTimeOfDay('0.000000000')).toBe('00:00:00');
    expect(secondsToTimeOfDay('86399.000000001')).toBe('23:59:59.000000001');
    expect(converterFor({ name: 'f', type: 'real' })('inf')).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(converterFor({ name: 'f', type: 'real' })('NaN'))).toBe(true);
  });

  it('names types in Snowflake terms', () => {
    expect(
      columnsOf([
        { name: 'A', type: 'fixed', precision: 10, scale: 2 },
        { name: 'B', type: 'text', length: 20 },
        { name: 'C', type: 'timestamp_tz' },
        { name: 'D', type: 'real' },
      ]),
    ).toEqual([
      { name: 'A', type: 'NUMBER(10,2)' },
      { name: 'B', type: 'VARCHAR(20)' },
      { name: 'C', type: 'TIMESTAMP_TZ' },
      { name: 'D', type: 'FLOAT' },
    ]);
  });
});

describe('Snowflake protocol helpers', () => {
  it('parses Link headers into absolute URLs', () => {
    const links = parseLinkHeader(
      '</api/v2/statements/h?requestId=r&partition=0>; rel="first",</api/v2/statements/h?requestId=r&partition=2>; rel="next",</api/v2/statements/h?requestId=r&partition=5>; rel="last"',
      'https://acct.snowflakecomputing.com',
    );
    expect(links.next).toBe('https://acct.snowflakecomputing.com/api/v2/statements/h?requestId=r&partition=2');
    expect(links.last).toContain('partition=5');
  });

  it('maps 422 bodies to typed errors with 1-based positions', () => {
    const msg = "SQL compilation error: error line 3 at position 7\ninvalid identifier 'AFAF'";
    expect(parseErrorPosition(msg)).toEqual({ line: 3, column: 8 });
    const e = statementError(422, { code: '000904', sqlState: '42000', message: msg });
    expect(e).toMatchObject({ code: 'sql_error', line: 3, column: 8 });
    expect(e.message).toContain('000904');
    expect(statementError(422, { code: '000604', message: 'SQL execution canceled' }).code).toBe('cancelled');
    expect(statementError(408, { code: '000630', message: 'timeout' }).code).toBe('timeout');
  });

  it('backs off with jitter and grows poll intervals to a cap', () => {
    expect(backoffDelay(0, 200, 8000, () => 0)).toBe(100);
    expect(backoffDelay(3, 200, 8000, () => 1)).toBe(1600);
    expect(backoffDelay(10, 200, 8000, () => 1)).toBe(8000);
    expect([0, 1, 2, 20].map((n) => pollDelay(n, 20, 1000))).toEqual([20, 30, 45, 1000]);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
  });
});
