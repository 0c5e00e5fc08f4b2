import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDataPath } from './paths.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-paths-'));
const data = path.join(root, 'data');
fs.mkdirSync(path.join(data, 'sub'), { recursive: true });
fs.writeFileSync(path.join(data, 'sub', 'a.csv'), 'x\n1\n');
fs.writeFileSync(path.join(root, 'secret.csv'), 'x\n');
fs.symlinkSync(path.join(root, 'secret.csv'), path.join(data, 'escape.csv'));
fs.symlinkSync(root, path.join(data, 'up'));
fs.symlinkSync(path.join(data, 'sub', 'a.csv'), path.join(data, 'inside.csv'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('resolveDataPath', () => {
  it('[R13] resolves paths inside the data folder to real absolute paths', () => {
    expect(resolveDataPath(data, 'sub/a.csv', { mustExist: true })).toBe(fs.realpathSync(path.join(data, 'sub/a.csv')));
    expect(resolveDataPath(data, path.join(data, 'sub/a.csv'), { mustExist: true })).toBe(
      fs.realpathSync(path.join(data, 'sub/a.csv')),
    );
    expect(resolveDataPath(data, 'inside.csv', { mustExist: true })).toBe(
      fs.realpathSync(path.join(data, 'sub/a.csv')),
    );
    expect(resolveDataPath(data, 'new/dir/out.parquet', { mustExist: false })).toBe(
      path.join(fs.realpathSync(data), 'new/dir/out.parquet'),
    );
  });

  it('[R13] refuses .., absolute paths elsewhere, escaping symlinks and wildcards', () => {
    expect(code(() => resolveDataPath(data, '../secret.csv', { mustExist: true }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'sub/../../secret.csv', { mustExist: true }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'sub\\..\\..\\secret.csv', { mustExist: false }))).toBe(
      'path_outside_data',
    );
    expect(code(() => resolveDataPath(data, path.join(root, 'secret.csv'), { mustExist: true }))).toBe(
      'path_outside_data',
    );
    expect(code(() => resolveDataPath(data, '/etc/passwd', { mustExist: true }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'escape.csv', { mustExist: true }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'up/secret.csv', { mustExist: true }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'up/new.csv', { mustExist: false }))).toBe('path_outside_data');
    expect(code(() => resolveDataPath(data, 'sub/*.csv', { mustExist: true }))).toBe('bad_request');
    expect(code(() => resolveDataPath(data, 'missing.csv', { mustExist: true }))).toBe('not_found');
    expect(code(() => resolveDataPath(data, '', { mustExist: true }))).toBe('bad_request');
  });
});
