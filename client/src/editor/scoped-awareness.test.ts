import { describe, expect, it, vi } from 'vitest';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { createCursorIndex, scopedAwareness } from './scoped-awareness.ts';

describe('remote cursors scoped to their cell', () => {
  it('tells an editor only about cursors that are or were in its own text', () => {
    const remoteDoc = new Y.Doc();
    const cells = remoteDoc.getMap<Y.Text>('cells');
    cells.set('a', new Y.Text('alpha'));
    cells.set('b', new Y.Text('beta'));
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remoteDoc));
    const local = new Awareness(doc);
    const remote = new Awareness(remoteDoc);
    const send = () => applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'net');
    const moveTo = (key: string, index: number) => {
      const pos = Y.createRelativePositionFromTypeIndex(cells.get(key)!, index);
      remote.setLocalStateField('cursor', {
        anchor: Y.relativePositionToJSON(pos),
        head: Y.relativePositionToJSON(pos),
      });
      send();
    };

    const index = createCursorIndex(local, doc);
    const textA = doc.getMap<Y.Text>('cells').get('a')!;
    const textB = doc.getMap<Y.Text>('cells').get('b')!;
    const inA = vi.fn();
    const inB = vi.fn();
    scopedAwareness(local, index, textA).on('change', inA);
    const scopedB = scopedAwareness(local, index, textB);
    scopedB.on('change', inB);

    moveTo('a', 2);
    expect(inA).toHaveBeenCalledTimes(1);
    expect(inB).not.toHaveBeenCalled();
    moveTo('a', 3);
    expect(inA).toHaveBeenCalledTimes(2);
    moveTo('b', 1);
    // Leaving A is news for A (remove the caret), entering B for B.
    expect(inA).toHaveBeenCalledTimes(3);
    expect(inB).toHaveBeenCalledTimes(1);
    scopedB.off('change', inB);
    moveTo('b', 2);
    expect(inB).toHaveBeenCalledTimes(1);
    // Everything else goes to the real awareness.
    expect(scopedB.getStates()).toBe(local.getStates());
    expect(scopedB.doc).toBe(doc);
    index.destroy();
  });
});
