// Line diffs for per-cell changes: Myers' O(ND) algorithm and the unified format people know from `git diff`.

export type DiffOp = { op: 'equal' | 'delete' | 'insert'; line: string };

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Shortest edit script between two line lists (Myers 1986), as a sequence of equal/delete/insert lines. */
export function diffLines(a: string[], b: string[]): DiffOp[] {
  // Trim the common prefix and suffix first: most cell edits touch a few lines in the middle.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: DiffOp[] = a.slice(0, start).map((line) => ({ op: 'equal', line }));
  const tail: DiffOp[] = a.slice(endA).map((line) => ({ op: 'equal', line }));
  const mid = myers(a.slice(start, endA), b.slice(start, endB));
  return [...head, ...mid, ...tail];
}

function myers(a: string[], b: string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((line) => ({ op: 'insert', line }));
  if (m === 0) return a.map((line) => ({ op: 'delete', line }));
  const max = n + m;
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) x = v[offset + k + 1];
      else x = v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice());
        break outer;
      }
    }
    v = v.slice();
  }
  // Walk the trace backwards to recover the path.
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && vd[offset + k - 1] < vd[offset + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevX = vd[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ op: 'equal', line: a[x - 1] });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ op: 'insert', line: b[y - 1] });
    else ops.push({ op: 'delete', line: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ op: 'equal', line: a[x - 1] });
    x--;
    y--;
  }
  return ops.reverse();
}

/** Unified diff (`---`/`+++` header, `@@` hunks with `context` lines around changes); empty when equal. */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string, context = 3): string {
  if (oldText === newText) return '';
  const ops = diffLines(splitLines(oldText), splitLines(newText));
  const out: string[] = [`--- ${oldLabel}`, `+++ ${newLabel}`];
  // Positions (0-based) of changed ops, grouped into hunks when their context windows touch.
  const changed: number[] = [];
  ops.forEach((o, i) => {
    if (o.op !== 'equal') changed.push(i);
  });
  if (changed.length === 0) {
    // Only the trailing newline differs: show the last line on both sides.
    out.push('@@ -1 +1 @@', '-(no newline at end)', '+(newline at end)');
    return `${out.join('\n')}\n`;
  }
  let i = 0;
  while (i < changed.length) {
    let j = i;
    while (j + 1 < changed.length && changed[j + 1] - changed[j] <= 2 * context + 1) j++;
    const from = Math.max(0, changed[i] - context);
    const to = Math.min(ops.length - 1, changed[j] + context);
    // Line numbers at `from`.
    let oldLine = 1;
    let newLine = 1;
    for (let p = 0; p < from; p++) {
      if (ops[p].op !== 'insert') oldLine++;
      if (ops[p].op !== 'delete') newLine++;
    }
    let oldCount = 0;
    let newCount = 0;
    const body: string[] = [];
    for (let p = from; p <= to; p++) {
      const o = ops[p];
      if (o.op === 'equal') {
        body.push(` ${o.line}`);
        oldCount++;
        newCount++;
      } else if (o.op === 'delete') {
        body.push(`-${o.line}`);
        oldCount++;
      } else {
        body.push(`+${o.line}`);
        newCount++;
      }
    }
    const range = (start: number, count: number) =>
      count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`;
    out.push(`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@`, ...body);
    i = j + 1;
  }
  return `${out.join('\n')}\n`;
}
