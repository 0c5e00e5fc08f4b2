// Branded ids: a cell id and a notebook id are both strings on the wire, but never interchangeable in code.
export type CellId = string & { readonly __brand: 'CellId' };
export type NotebookId = string & { readonly __brand: 'NotebookId' };
export type RunId = string & { readonly __brand: 'RunId' };

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Random id from the platform CSPRNG (works in Node 20 and browsers). */
export function randomId(length = 12): string {
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export const CellId = {
  create: (): CellId => `c_${randomId(12)}` as CellId,
  of: (s: string): CellId => s as CellId,
};
export const NotebookId = {
  create: (): NotebookId => `nb_${randomId(14)}` as NotebookId,
  of: (s: string): NotebookId => s as NotebookId,
  /** Notebook ids appear in URLs, file names and SQL store keys: keep them to a safe alphabet. */
  isValid: (s: string): s is NotebookId => /^[A-Za-z0-9_-]{1,64}$/.test(s),
};
export const RunId = {
  create: (): RunId => `run_${randomId(14)}` as RunId,
  of: (s: string): RunId => s as RunId,
};
