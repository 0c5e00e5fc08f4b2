// Notebook contents the collab benchmarks load: the demo notebook, and a ~5 MB one.
import { demoNotebookFile, docFromFile, type PipebookFile } from '@pipebook/shared';
import * as Y from 'yjs';

export type ContentKind = 'demo' | 'big';

/** About 5 MB of SQL spread over 6 cells (each under the 1,000,000-character cell limit). */
export function bigNotebookFile(): PipebookFile {
  const line = 'SELECT order_id, customer_id, amount * 1.21 AS gross FROM orders WHERE amount > 10 -- ';
  const cells = Array.from({ length: 6 }, (_, i) => {
    let source = '';
    let n = 0;
    while (source.length < 850_000) source += `${line}${i}.${n++}\n`;
    return { id: `big_${i}`, name: `big_${i}`, kind: 'sql' as const, source, config: {} };
  });
  return { ...demoNotebookFile('Big'), cells };
}

export function contentUpdate(kind: ContentKind): Uint8Array {
  const doc = docFromFile(kind === 'big' ? bigNotebookFile() : demoNotebookFile());
  const update = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return update;
}
