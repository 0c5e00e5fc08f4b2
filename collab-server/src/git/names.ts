// Everything that turns notebook text (cell names, ids, branch names, revisions, user names) into something git or
// the file system sees goes through here, so hostile input can neither escape the repository nor reach git as an
// option.
import { createHash } from 'node:crypto';
import { CELL_NAME_PATTERN, PipebookError } from '@pipebook/shared';

/** Cell ids and notebook ids share this alphabet (see shared file-format.ts). */
export const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A file stem we write: ASCII letters, digits and `_` only, so no separators, dots or leading dashes. */
export const SAFE_STEM = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * The file stem for a cell name: a valid cell name is used as is (it is already a safe identifier); anything else
 * (`../../x`, `--upload-pack=x`, very long, unicode) is mapped to a safe ASCII stem plus a hash of the original, so
 * two different hostile names never share a file.
 */
export function cellFileStem(name: string): string {
  if (CELL_NAME_PATTERN.test(name)) return name;
  let stem = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  if (!/^[A-Za-z_]/.test(stem)) stem = `cell_${stem}`;
  return `${stem}_${shortHash(name)}`.replace(/_+/g, '_');
}

/**
 * Stems for a list of cell names, unique case-insensitively (case-insensitive file systems would merge `A.sql` and
 * `a.sql`). Names are unique in a valid notebook, so suffixes only appear for documents already in a bad state.
 */
export function assignStems(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = cellFileStem(name);
    let stem = base;
    for (let i = 2; taken.has(stem.toLowerCase()); i++) stem = `${base}_${i}`;
    taken.add(stem.toLowerCase());
    return stem;
  });
}

/** A relative path read from a repository or project file must stay inside `dir/` with a safe stem. */
export function checkRelativeFile(path: unknown, dir: string, extensions: readonly string[]): string {
  if (typeof path !== 'string') throw new PipebookError('invalid_file', `Expected a file name under ${dir}/.`);
  const m = /^([a-z]+)\/([A-Za-z0-9_]{1,80})\.([a-z]{1,5})$/.exec(path);
  if (!m || m[1] !== dir || !extensions.includes(m[3]) || !SAFE_STEM.test(m[2])) {
    throw new PipebookError(
      'invalid_file',
      `Refused file name ${JSON.stringify(path.slice(0, 120))}: not a ${dir}/ file.`,
    );
  }
  return path;
}

const BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

/** Branch names: a conservative subset of git's rules, and never something git could read as an option. */
export function validateBranchName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    !BRANCH.test(name) ||
    name.includes('..') ||
    name.includes('//') ||
    name.includes('/.') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.endsWith('.lock') ||
    name.includes('/-') ||
    name === 'HEAD'
  ) {
    throw new PipebookError(
      'invalid_name',
      `Invalid branch name ${JSON.stringify(String(name).slice(0, 120))}: use letters, digits, ., _, - and /, starting with a letter or digit.`,
    );
  }
  return name;
}

/** A revision given by a caller: a commit hash (abbreviated or full) or a branch name. */
export function validateRevision(rev: unknown): string {
  if (typeof rev === 'string' && /^[0-9a-f]{4,64}$/.test(rev)) return rev;
  try {
    return validateBranchName(rev);
  } catch {
    throw new PipebookError('invalid_name', `Invalid revision ${JSON.stringify(String(rev).slice(0, 120))}.`);
  }
}

/** Commit messages are required, bounded, and never carry NUL bytes. */
export function validateMessage(message: unknown): string {
  if (typeof message !== 'string' || message.trim() === '') {
    throw new PipebookError('bad_request', 'A snapshot needs a message saying what changed.');
  }
  if (message.length > 10_000)
    throw new PipebookError('too_large', 'The message is too long (at most 10000 characters).');
  return message.replace(/\0/g, '').replace(/\r\n?/g, '\n').trim();
}

/** Git identities cannot hold `<`, `>` or line breaks; the email is derived from the user id. */
export function gitIdentity(user: { id: string; name: string }): { name: string; email: string } {
  const clean = (s: string) =>
    s
      .replace(/[<>\0]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 200);
  const name = clean(user.name) || clean(user.id) || 'Pipebook user';
  const local =
    user.id
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'user';
  return { name, email: `${local}@users.pipebook.invalid` };
}

/** A project or model name for exported files: a lower-case identifier. */
export function snakeName(text: string, fallback = 'pipebook_project'): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  if (!s) return fallback;
  return /^[a-z_]/.test(s) ? s : `p_${s}`;
}

/** A cell name from a file stem or dbt name, unique case-insensitively within `taken` (which it updates). */
export function uniqueName(base: string, taken: Set<string>): string {
  let name = CELL_NAME_PATTERN.test(base) ? base : cellFileStem(base).slice(0, 63);
  if (taken.has(name.toLowerCase())) {
    const root = name.slice(0, 56);
    let n = 2;
    while (taken.has(`${root}_${n}`.toLowerCase())) n++;
    name = `${root}_${n}`;
  }
  taken.add(name.toLowerCase());
  return name;
}
