import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { emitYaml } from './yaml-emit.ts';

describe('emitYaml', () => {
  it('reads back as the same value (property, with YAML look-alike strings)', () => {
    const tricky = fc.constantFrom(
      'yes',
      'No',
      'null',
      '~',
      'true',
      '1.5',
      '0x10',
      '1e3',
      '-',
      '- a',
      'a: b',
      '#x',
      ' x',
      'x ',
      '',
      '@a',
      '*a',
      '&a',
      '!t',
      '|',
      '>',
      '%',
      '`',
      "'",
      '"',
      '\t',
      'a\nb',
      '\u2028',
      '\u0085',
      'é',
      '名前',
      '..',
      '-1',
      '.5',
      '+1',
      'a #b',
      '[',
      '{',
      '?',
      ':',
    );
    const key = fc.oneof(fc.string(), tricky);
    const leaf = fc.oneof(
      fc.string(),
      tricky,
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(YAML.parse(emitYaml(v))).toEqual(v);
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('writes readable YAML for configs', () => {
    expect(emitYaml({ input: 'c_1', conditions: [{ column: 'amount', op: '>', value: 10 }], groupBy: [], x: {} })).toBe(
      'input: c_1\nconditions:\n  - column: amount\n    op: ">"\n    value: 10\ngroupBy: []\nx: {}\n',
    );
  });
});
