import { describe, expect, it } from 'vitest';
import { defaultMeasureName, filterValue, parseScalar, removeAt, replaceAt, showValue } from './visual-config.ts';

describe('visual-step form values', () => {
  it('types what people type', () => {
    expect(parseScalar('42')).toBe(42);
    expect(parseScalar('-1.5e3')).toBe(-1500);
    expect(parseScalar('true')).toBe(true);
    expect(parseScalar('null')).toBe(null);
    expect(parseScalar("O'Brien")).toBe("O'Brien");
    expect(parseScalar('007a')).toBe('007a');
  });
  it('stores lists for in/not in, nothing for null checks', () => {
    expect(filterValue('in', 'FR, DE,, 3')).toEqual(['FR', 'DE', 3]);
    expect(filterValue('is_null', 'x')).toBeUndefined();
    expect(showValue(['FR', 3])).toBe('FR, 3');
    expect(showValue(null)).toBe('null');
  });
  it('replaces whole lists for last-writer-wins fields', () => {
    const list = [{ a: 1 }, { a: 2 }];
    expect(replaceAt(list, 1, { a: 3 })).toEqual([{ a: 1 }, { a: 3 }]);
    expect(removeAt(list, 0)).toEqual([{ a: 2 }]);
    expect(list).toEqual([{ a: 1 }, { a: 2 }]);
  });
  it('names measures', () => {
    expect(defaultMeasureName('sum', 'amount')).toBe('sum_amount');
    expect(defaultMeasureName('count', undefined)).toBe('row_count');
  });
});
