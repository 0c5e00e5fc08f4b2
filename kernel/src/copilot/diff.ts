// A line diff for "fix" proposals, in unified format (what the panel renders and what a reviewer reads).
// Cells are small, so the plain O(n·m) longest-common-subsequence table is fine.

export type DiffLine = { op: ' ' | '-' | '+'; text: string };

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: '-', text: a[i++] });
    else out.push({ op: '+', text: b[j++] });
  }
  while (i < n) out.push({ op: '-', text: a[i++] });
  while (j < m) out.push({ op: '+', text: b[j++] });
  return out;
}

/** Unified diff with `context` lines around each change; empty string when nothing changed. */
export function unifiedDiff(before: string, after: string, label = 'cell', context = 3): string {
  const lines = diffLines(before, after);
  if (lines.every((l) => l.op === ' ')) return '';
  const out = [`--- ${label}`, `+++ ${label} (proposed)`];
  // Positions in the old (a) and new (b) text of each diff line, 1-based.
  const pos: Array<{ a: number; b: number }> = [];
  let a = 1;
  let b = 1;
  for (const l of lines) {
    pos.push({ a, b });
    if (l.op !== '+') a++;
    if (l.op !== '-') b++;
  }
  let k = 0;
  while (k < lines.length) {
    if (lines[k].op === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while the next change is within 2·context unchanged lines.
    for (let q = k; q < lines.length; q++) {
      if (lines[q].op !== ' ') end = q;
      else if (q - end > 2 * context) break;
    }
    const stop = Math.min(lines.length, end + context + 1);
    const hunk = lines.slice(start, stop);
    const aLen = hunk.filter((l) => l.op !== '+').length;
    const bLen = hunk.filter((l) => l.op !== '-').length;
    out.push(`@@ -${pos[start].a},${aLen} +${pos[start].b},${bLen} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    k = stop;
  }
  return out.join('\n');
}
