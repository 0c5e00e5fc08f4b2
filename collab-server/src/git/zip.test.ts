import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { crc32, zipFiles } from './zip.ts';

it('computes the standard CRC-32', () => {
  expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
});

it('writes archives that python zipfile reads back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipebook-zip-'));
  try {
    const files = new Map([
      ['models/a.sql', 'SELECT 1\n'],
      ['README.md', '# Título ünïcødé\n'.repeat(50)],
    ]);
    const zip = zipFiles(files, 'project');
    expect(zipFiles(files, 'project').equals(zip)).toBe(true);
    writeFileSync(join(dir, 'p.zip'), zip);
    execFileSync('python3', [
      '-c',
      'import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
      join(dir, 'p.zip'),
      dir,
    ]);
    expect(readFileSync(join(dir, 'project/models/a.sql'), 'utf8')).toBe('SELECT 1\n');
    expect(readFileSync(join(dir, 'project/README.md'), 'utf8')).toBe(files.get('README.md'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
