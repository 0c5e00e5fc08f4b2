// A client process for the collab benchmarks: holds many stock y-websocket clients (disableBc) and reports timings
// to the parent over IPC, so the client side of a measurement is spread over several processes.

import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { contentUpdate } from './content.ts';
import type { ToWorker } from './ipc.ts';

const now = () => performance.timeOrigin + performance.now();

interface Client {
  doc: Y.Doc;
  provider: WebsocketProvider;
}

const clients: Client[] = [];
const latencies: Array<[number, number]> = [];
let writer: Client | null = null;

function send(msg: unknown) {
  process.send?.(msg);
}

function connect(base: string, room: string, observe: boolean): Promise<number> {
  const doc = new Y.Doc();
  const started = now();
  const provider = new WebsocketProvider(base, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    resyncInterval: -1,
  });
  if (process.env.PIPEBOOK_BENCH_NO_PRESENCE === '1') provider.awareness.setLocalState(null);
  clients.push({ doc, provider });
  if (observe) {
    // Every marker the writer sets carries its send time; the arrival time minus that is the propagation latency.
    doc.getMap<number>('bench').observe((event) => {
      const at = now();
      for (const key of event.keysChanged) {
        const sent = doc.getMap<number>('bench').get(key);
        if (typeof sent === 'number') latencies.push([Number(key), at - sent]);
      }
    });
  }
  return new Promise((resolve) => {
    const on = (synced: boolean) => {
      if (!synced) return;
      provider.off('sync', on);
      resolve(now() - started);
    };
    provider.on('sync', on);
  });
}

process.on('message', async (msg: ToWorker) => {
  switch (msg.type) {
    case 'join': {
      const times = await Promise.all(msg.rooms.map((room) => connect(msg.base, room, msg.observe)));
      send({ type: 'joined', times });
      return;
    }
    case 'seed': {
      // One client per room pushes the content and stays (the plain server forgets a room when its last client
      // leaves); a probe client then confirms the server holds the content, and leaves.
      const update = contentUpdate(msg.content);
      await Promise.all(
        msg.rooms.map(async (room) => {
          const doc = new Y.Doc();
          Y.applyUpdate(doc, update);
          const provider = new WebsocketProvider(msg.base, room, doc, {
            WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
            disableBc: true,
            resyncInterval: -1,
          });
          clients.push({ doc, provider });
          for (;;) {
            const probe = new Y.Doc();
            const p = new WebsocketProvider(msg.base, room, probe, {
              WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
              disableBc: true,
              resyncInterval: -1,
            });
            await new Promise<void>((resolve) => p.once('sync', () => resolve()));
            const has = probe.getMap('cells').size > 0;
            p.destroy();
            probe.destroy();
            if (has) break;
            await new Promise((r) => setTimeout(r, 20));
          }
        }),
      );
      send({ type: 'seeded' });
      return;
    }
    case 'writer': {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(msg.base, msg.room, doc, {
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
        resyncInterval: -1,
      });
      writer = { doc, provider };
      clients.push(writer);
      await new Promise<void>((resolve) => provider.once('sync', () => resolve()));
      send({ type: 'writer-ready' });
      return;
    }
    case 'write': {
      const w = writer;
      if (!w) throw new Error('no writer');
      const map = w.doc.getMap<number>('bench');
      const text = w.doc.getText('body');
      let seq = msg.from;
      const end = msg.from + msg.count;
      const timer = setInterval(() => {
        // A keystroke plus its marker in one transaction, like an edit carrying its timestamp.
        w.doc.transact(() => {
          text.insert(text.length, 'x');
          map.set(String(seq), now());
        });
        seq++;
        if (seq >= end) {
          clearInterval(timer);
          send({ type: 'written', at: now() });
        }
      }, msg.intervalMs);
      return;
    }
    case 'report':
      send({ type: 'latencies', samples: latencies.splice(0) });
      return;
    case 'close':
      for (const c of clients) c.provider.destroy();
      setTimeout(() => process.exit(0), 50);
      return;
  }
});
/**
 * Runs the Yjs paths a client takes for the benchmark's edits (encode, apply, observe) a few thousand times before
 * any measurement. Without it the first second after the joins measures V8 warming up the client processes' code
 * (each apply cost about 3.5x its steady cost there, with 100 clients on 2 cores), which is the same for both servers
 * and says nothing about either. PIPEBOOK_BENCH_COLD_CLIENTS=1 skips it.
 */
function warmUp(rounds: number): void {
  const source = new Y.Doc();
  const targets = Array.from({ length: 4 }, () => new Y.Doc());
  for (const t of targets) {
    t.getMap<number>('bench').observe((event) => {
      for (const key of event.keysChanged) t.getMap<number>('bench').get(key);
    });
    t.on('update', () => {});
  }
  source.on('update', (update: Uint8Array) => {
    for (const t of targets) Y.applyUpdate(t, update, 'warm-up');
  });
  for (let i = 0; i < rounds; i++) {
    source.transact(() => {
      source.getText('body').insert(source.getText('body').length, 'x');
      source.getMap<number>('bench').set(String(i), now());
    });
  }
  for (const t of [source, ...targets]) t.destroy();
}

if (process.env.PIPEBOOK_BENCH_COLD_CLIENTS !== '1') warmUp(3000);
send({ type: 'ready' });
