import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.ts';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb', 'a\nb')).toBe('');
  });
  it('shows separate hunks for distant changes', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 1\n', 'line one\n').replace('line 18', 'line eighteen');
    expect(unifiedDiff(before, after, 'x', 1)).toBe(
      [
        '--- x',
        '+++ x (proposed)',
        '@@ -1,3 +1,3 @@',
        ' line 0',
        '-line 1',
        '+line one',
        ' line 2',
        '@@ -18,3 +18,3 @@',
        ' line 17',
        '-line 18',
        '+line eighteen',
        ' line 19',
      ].join('\n'),
    );
  });
});
