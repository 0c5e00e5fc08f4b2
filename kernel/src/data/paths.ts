// File sources and targets live only under the data folder. A path is refused (path_outside_data) when it climbs
// out with `..`, is absolute elsewhere, or reaches outside through a symlink; the check uses real paths.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { PipebookError } from '@pipebook/shared';

function outside(p: string): PipebookError {
  return new PipebookError(
    'path_outside_data',
    `"${p}" is outside the data folder. Use a path relative to the data folder, without "..".`,
  );
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Real path of `p`, or of its nearest existing ancestor joined with the rest (for files a target will create). */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * Absolute, checked path of a file under `dataDir`. `mustExist` for sources (a missing file is `not_found`);
 * targets may name a file (and folders) that do not exist yet.
 */
export function resolveDataPath(dataDir: string, input: string, opts: { mustExist: boolean }): string {
  const p = input.trim();
  if (!p || p.includes('\0')) throw new PipebookError('bad_request', 'A file path is required.');
  if (p.split(/[\\/]+/).includes('..')) throw outside(input);
  // Glob patterns would be expanded by the engine after our check; keep a path one file.
  if (/[*?[\]{}]/.test(p)) {
    throw new PipebookError('bad_request', `"${input}" contains wildcard characters; name a single file.`);
  }
  const root = realish(path.resolve(dataDir));
  const abs = path.isAbsolute(p) ? path.normalize(p) : path.resolve(root, p);
  if (!within(root, abs) && !within(path.resolve(dataDir), abs)) throw outside(input);
  let real: string;
  if (opts.mustExist) {
    try {
      real = realpathSync(abs);
    } catch {
      throw new PipebookError('not_found', `File "${input}" does not exist in the data folder.`);
    }
  } else {
    real = realish(abs);
  }
  if (!within(root, real)) throw outside(input);
  if (real === root) throw new PipebookError('bad_request', `"${input}" is the data folder itself; name a file.`);
  return real;
}
