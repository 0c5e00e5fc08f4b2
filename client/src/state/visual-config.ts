// Small, pure helpers behind the visual-step forms: each form edit becomes one whole-field patch for setConfig
// (fields are last-writer-wins, so a list is replaced as a whole and never half-merged).
import type { FilterOp, ScalarValue } from '@pipebook/shared';

export const FILTER_OPS: Array<{ op: FilterOp; label: string }> = [
  { op: '=', label: '=' },
  { op: '!=', label: '≠' },
  { op: '<', label: '<' },
  { op: '<=', label: '≤' },
  { op: '>', label: '>' },
  { op: '>=', label: '≥' },
  { op: 'contains', label: 'contains' },
  { op: 'starts_with', label: 'starts with' },
  { op: 'ends_with', label: 'ends with' },
  { op: 'in', label: 'in' },
  { op: 'not_in', label: 'not in' },
  { op: 'is_null', label: 'is null' },
  { op: 'is_not_null', label: 'is not null' },
];

export function opTakesValue(op: FilterOp): boolean {
  return op !== 'is_null' && op !== 'is_not_null';
}

/** A typed value from a text box: numbers, true/false and null as such; anything else stays text. */
export function parseScalar(text: string): ScalarValue {
  const t = text.trim();
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  return text;
}

/** The value a filter condition stores for `op`: a list for in/not_in (comma separated), none for null checks. */
export function filterValue(op: FilterOp, text: string): ScalarValue | ScalarValue[] | undefined {
  if (!opTakesValue(op)) return undefined;
  if (op === 'in' || op === 'not_in')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(parseScalar);
  return parseScalar(text);
}

export function showValue(v: ScalarValue | ScalarValue[] | undefined): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join(', ');
  return v === null ? 'null' : String(v);
}

export function replaceAt<T>(list: readonly T[], i: number, patch: Partial<T>): T[] {
  return list.map((x, j) => (j === i ? { ...x, ...patch } : x));
}

export function removeAt<T>(list: readonly T[], i: number): T[] {
  return list.filter((_, j) => j !== i);
}

/** A name for an aggregate measure, e.g. sum_amount or row_count. */
export function defaultMeasureName(fn: string, column: string | undefined): string {
  return column ? `${fn}_${column}`.replace(/[^A-Za-z0-9_]/g, '_') : 'row_count';
}
