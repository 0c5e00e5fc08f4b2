import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeText } from './text-merge.ts';

const lines = (...l: string[]) => l.join('\n');

describe('mergeText', () => {
  it('combines edits to different lines', () => {
    const base = lines('SELECT a', 'FROM t', 'WHERE x > 1', 'GROUP BY a', 'ORDER BY a');
    const ours = lines('SELECT a, b', 'FROM t', 'WHERE x > 1', 'GROUP BY a', 'ORDER BY a');
    const theirs = lines('SELECT a', 'FROM t', 'WHERE x > 1', 'GROUP BY a', 'ORDER BY a DESC');
    expect(mergeText(base, ours, theirs)).toEqual({
      text: lines('SELECT a, b', 'FROM t', 'WHERE x > 1', 'GROUP BY a', 'ORDER BY a DESC'),
      conflict: false,
    });
  });

  it('reports edits to the same or adjacent lines as a conflict', () => {
    const base = lines('SELECT a', 'FROM t', 'LIMIT 10');
    expect(
      mergeText(base, lines('SELECT a', 'FROM t', 'LIMIT 5'), lines('SELECT a', 'FROM t', 'LIMIT 3')).conflict,
    ).toBe(true);
    expect(
      mergeText(base, lines('SELECT b', 'FROM t', 'LIMIT 10'), lines('SELECT a', 'FROM u', 'LIMIT 10')).conflict,
    ).toBe(true);
  });

  it('takes identical edits once, and one-sided edits as they are', () => {
    const base = lines('a', 'b');
    expect(mergeText(base, lines('a', 'x'), lines('a', 'x'))).toEqual({ text: lines('a', 'x'), conflict: false });
    expect(mergeText(base, base, 'z\n')).toEqual({ text: 'z\n', conflict: false });
  });

  it('properties: one-sided changes win, merges are symmetric, and changes far apart both land', () => {
    const word = fc.constantFrom('a', 'b', 'c', 'd');
    const text = fc.array(word, { maxLength: 8 }).map((l) => l.join('\n'));
    fc.assert(
      fc.property(text, text, text, (base, ours, theirs) => {
        expect(mergeText(base, base, theirs)).toEqual({ text: theirs, conflict: false });
        expect(mergeText(base, ours, base)).toEqual({ text: ours, conflict: false });
        const ab = mergeText(base, ours, theirs);
        const ba = mergeText(base, theirs, ours);
        expect(ab.conflict).toBe(ba.conflict);
        if (!ab.conflict) expect(ab.text).toBe(ba.text);
      }),
      { seed: 11, numRuns: 1500 },
    );
    // Edit the head on one side and the tail on the other of a long text: both edits are kept.
    fc.assert(
      fc.property(fc.array(word, { minLength: 6, maxLength: 12 }), word, word, (l, x, y) => {
        const base = l.join('\n');
        const ours = [`${x}!`, ...l.slice(1)].join('\n');
        const theirs = [...l.slice(0, -1), `${y}?`].join('\n');
        expect(mergeText(base, ours, theirs)).toEqual({
          text: [`${x}!`, ...l.slice(1, -1), `${y}?`].join('\n'),
          conflict: false,
        });
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});
