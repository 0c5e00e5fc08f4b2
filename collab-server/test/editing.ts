// Edits a test client makes, through the shared notebook model, and the comparison of replicas.
import { addCell, type CellId, cellSourceText, exportNotebook, getCellMap, readOrder } from '@pipebook/shared';
import type * as Y from 'yjs';
import { pick, randomInt } from './random.ts';

/** Inserts `text` at a random position of a random cell's source (or appends a cell now and then). */
export function randomEdit(
  doc: Y.Doc,
  rand: () => number,
  tag: string,
  allowNewCells = false,
  allowDeletes = true,
): void {
  const order = readOrder(doc);
  if (order.length === 0 || (allowNewCells && rand() < 0.02)) {
    addCell(doc, { kind: 'sql', source: `-- ${tag}\n` });
    return;
  }
  const id = pick(rand, order) as CellId;
  const cell = getCellMap(doc, id);
  if (!cell) return;
  const text = cellSourceText(cell);
  // Insert only between tags (never inside one), so every tag stays whole and can be counted afterwards.
  const str = text.toString();
  const bounds = [0];
  for (let i = 1; i <= str.length; i++) if (' \n>}];'.includes(str[i - 1])) bounds.push(i);
  const at = bounds[randomInt(rand, bounds.length)];
  if (allowDeletes && rand() < 0.15 && text.length > 4) text.delete(randomInt(rand, text.length - 2), 1);
  else text.insert(at, tag);
}

/** The notebook as plain JSON (order, cells, sources): equal strings mean equal replicas. */
export function contentOf(doc: Y.Doc): string {
  return JSON.stringify(exportNotebook(doc));
}

export function allEqual(docs: Y.Doc[]): boolean {
  const first = contentOf(docs[0]);
  return docs.every((d) => contentOf(d) === first);
}

/** How often each tag occurs in the notebook's JSON. */
export function countTags(doc: Y.Doc, tags: Iterable<string>): Map<string, number> {
  const text = contentOf(doc);
  const counts = new Map<string, number>();
  for (const tag of tags) counts.set(tag, text.split(tag).length - 1);
  return counts;
}
