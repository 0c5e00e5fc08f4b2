import { describe, expect, it } from 'vitest';
import { assignStems, cellFileStem, gitIdentity, SAFE_STEM, validateBranchName, validateRevision } from './names.ts';

describe('cell file stems', () => {
  it('keeps valid names and maps hostile ones to safe, distinct stems', () => {
    expect(cellFileStem('orders_clean')).toBe('orders_clean');
    const hostile = ['../../x', '--upload-pack=touch /tmp/pwned', 'x'.repeat(5000), 'données_é', '名前', '.git', ''];
    const stems = hostile.map(cellFileStem);
    for (const s of stems) expect(s).toMatch(SAFE_STEM);
    expect(new Set(stems).size).toBe(stems.length);
  });

  it('makes case-insensitive duplicates unique', () => {
    expect(assignStems(['a', 'A', 'a'])).toEqual(['a', 'A_2', 'a_3']);
  });
});

describe('branch names and revisions', () => {
  it('accepts ordinary names', () => {
    expect(validateBranchName('feature/new-model_2')).toBe('feature/new-model_2');
    expect(validateRevision('0a1b2c3d')).toBe('0a1b2c3d');
  });
  it.each([
    '--upload-pack=x',
    '-b',
    '../x',
    'a..b',
    'x.lock',
    'a//b',
    'a/',
    '',
    'HEAD',
    'a b',
    'é',
    'x'.repeat(200),
    'a/-x',
  ])('refuses %j', (name) => {
    expect(() => validateBranchName(name)).toThrow(/Invalid branch name/);
    expect(() => validateRevision(name)).toThrow(/Invalid revision/);
  });
});

describe('git identity', () => {
  it('strips characters git refuses and derives a safe email', () => {
    expect(gitIdentity({ id: 'u/../1', name: 'Eve <evil@x>\nInjected' })).toEqual({
      name: 'Eve evil@x Injected',
      email: 'u-1@users.pipebook.invalid',
    });
  });
});
