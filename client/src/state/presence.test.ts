import { createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { createPresence, peersFromStates } from './presence.ts';

describe('presence', () => {
  it('lists yourself first, then others by name, skipping clients that have not said who they are', () => {
    const states = new Map<number, Record<string, unknown>>([
      [3, { user: { id: 'z', name: 'Zoe', color: '#111' }, cellId: 'c1' }],
      [1, { user: { id: 'me', name: 'Me', color: '#222' } }],
      [2, { user: { id: 'a', name: 'Ann', color: '#333' }, cellId: 'c2' }],
      [4, {}],
    ]);
    const peers = peersFromStates(states, 1);
    expect(peers.map((p) => p.name)).toEqual(['Me', 'Ann', 'Zoe']);
    expect(peers[0].self).toBe(true);
    expect(peers[2].cellId).toBe('c1');
  });

  it('publishes the name, colour and focused cell in the shape remote cursors read', () => {
    createRoot((dispose) => {
      const aw = new Awareness(new Y.Doc());
      const p = createPresence(aw, { id: 'ana', name: 'Ana' });
      p.setFocusedCell('c_1');
      const st = aw.getLocalState() as { user: { name: string; color: string; colorLight: string }; cellId: string };
      expect(st.user.name).toBe('Ana');
      expect(st.user.color).toMatch(/^#/);
      expect(st.user.colorLight).toMatch(/^#/);
      expect(st.cellId).toBe('c_1');
      expect(p.peers()[0]).toMatchObject({ name: 'Ana', self: true, cellId: 'c_1' });
      p.dispose();
      aw.destroy();
      dispose();
    });
  });
});
