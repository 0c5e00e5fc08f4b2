// Line-based three-way merge of one text (a cell's source), in the manner of diff3: changes from both sides are
// combined when they touch different lines; changes to the same or adjacent lines are a conflict (then the caller
// reports the cell). Pure, so it can run anywhere and be property-tested.
import { diffLines, splitLines } from './line-diff.ts';

interface Hunk {
  /** Replaced range of base lines [start, end). */
  start: number;
  end: number;
  lines: string[];
}

function hunks(base: string[], side: string[]): Hunk[] {
  const out: Hunk[] = [];
  let at = 0;
  let current: Hunk | undefined;
  for (const op of diffLines(base, side)) {
    if (op.op === 'equal') {
      if (current) out.push(current);
      current = undefined;
      at++;
      continue;
    }
    current ??= { start: at, end: at, lines: [] };
    if (op.op === 'delete') {
      current.end++;
      at++;
    } else current.lines.push(op.line);
  }
  if (current) out.push(current);
  return out;
}

/** One side's text for base lines [start, end), with that side's hunks inside the range applied. */
function sideRegion(base: string[], hs: Hunk[], start: number, end: number): string[] {
  const out: string[] = [];
  let at = start;
  for (const h of hs) {
    out.push(...base.slice(at, h.start), ...h.lines);
    at = h.end;
  }
  out.push(...base.slice(at, end));
  return out;
}

export interface TextMergeResult {
  /** The merged text when there is no conflict. */
  text?: string;
  conflict: boolean;
}

export function mergeText(base: string, ours: string, theirs: string): TextMergeResult {
  if (ours === theirs || theirs === base) return { text: ours, conflict: false };
  if (ours === base) return { text: theirs, conflict: false };
  const b = splitLines(base);
  // Texts that differ only in the final newline are compared on lines; keep the newline state of the changed side.
  const trailing = (s: string) => s.endsWith('\n');
  const newlineOurs = trailing(ours) !== trailing(base);
  const newlineTheirs = trailing(theirs) !== trailing(base);
  if (newlineOurs && newlineTheirs && trailing(ours) !== trailing(theirs)) return { conflict: true };
  const endsWithNewline = newlineOurs ? trailing(ours) : newlineTheirs ? trailing(theirs) : trailing(base);

  const tagged = [
    ...hunks(b, splitLines(ours)).map((h) => ({ ...h, side: 0 as const })),
    ...hunks(b, splitLines(theirs)).map((h) => ({ ...h, side: 1 as const })),
  ].sort((x, y) => x.start - y.start || x.end - y.end || x.side - y.side);

  const out: string[] = [];
  let at = 0;
  let i = 0;
  while (i < tagged.length) {
    // A region: hunks that overlap or touch, from either side.
    const region = [tagged[i]];
    let end = tagged[i].end;
    let j = i + 1;
    while (j < tagged.length && tagged[j].start <= end) {
      region.push(tagged[j]);
      end = Math.max(end, tagged[j].end);
      j++;
    }
    const start = region[0].start;
    out.push(...b.slice(at, start));
    const mine = region.filter((h) => h.side === 0);
    const yours = region.filter((h) => h.side === 1);
    if (mine.length && yours.length) {
      const a = sideRegion(b, mine, start, end);
      const c = sideRegion(b, yours, start, end);
      if (a.join('\n') !== c.join('\n')) return { conflict: true };
      out.push(...a);
    } else {
      out.push(...sideRegion(b, mine.length ? mine : yours, start, end));
    }
    at = end;
    i = j;
  }
  out.push(...b.slice(at));
  const text = out.join('\n') + (out.length && endsWithNewline ? '\n' : '');
  return { text, conflict: false };
}
