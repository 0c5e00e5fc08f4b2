import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffLines, unifiedDiff } from './line-diff.ts';

function apply(ops: ReturnType<typeof diffLines>, side: 'old' | 'new'): string[] {
  return ops.filter((o) => o.op === 'equal' || o.op === (side === 'old' ? 'delete' : 'insert')).map((o) => o.line);
}

describe('diffLines', () => {
  it('reconstructs both sides and is minimal on small cases', () => {
    const ops = diffLines(['a', 'b', 'c'], ['a', 'x', 'c']);
    expect(ops).toEqual([
      { op: 'equal', line: 'a' },
      { op: 'delete', line: 'b' },
      { op: 'insert', line: 'x' },
      { op: 'equal', line: 'c' },
    ]);
  });

  it('always reconstructs both inputs (property)', () => {
    const line = fc.constantFrom('a', 'b', 'c', 'd', '');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.array(line, { maxLength: 30 }), (a, b) => {
        const ops = diffLines(a, b);
        expect(apply(ops, 'old')).toEqual(a);
        expect(apply(ops, 'new')).toEqual(b);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('unifiedDiff', () => {
  it('prints git-style hunks with context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n');
    const b = ['1', '2', '3', '4', 'five', '6', '7', '8', '9', '10'].join('\n');
    expect(unifiedDiff(a, b, 'a/x.sql', 'b/x.sql')).toBe(
      ['--- a/x.sql', '+++ b/x.sql', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join(
        '\n',
      ),
    );
  });

  it('is empty for equal texts and handles added files', () => {
    expect(unifiedDiff('x', 'x', 'a', 'b')).toBe('');
    expect(unifiedDiff('', 'SELECT 1\n', '/dev/null', 'b/x.sql')).toBe(
      '--- /dev/null\n+++ b/x.sql\n@@ -0,0 +1 @@\n+SELECT 1\n',
    );
  });
});
