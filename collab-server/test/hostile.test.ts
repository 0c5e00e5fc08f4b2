// H1-H6: oversized frames, fuzzed and truncated frames, floods and oversized documents close only the offending
// socket; the process, other sockets and other rooms keep serving.
import net from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import * as encoding from 'lib0/encoding';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { contentOf, randomEdit } from './editing.ts';
import {
  type CollabProcess,
  createNotebook,
  newClient,
  startCollabProcess,
  type TestClient,
  waitFor,
} from './helpers.ts';
import { mulberry32, pick, randomInt } from './random.ts';

let fuzzServer: CollabProcess;
let strictServer: CollabProcess;

beforeAll(async () => {
  [fuzzServer, strictServer] = await Promise.all([
    startCollabProcess({ PIPEBOOK_COLLAB_MAX_MESSAGE_BYTES: '65536', PIPEBOOK_COLLAB_MESSAGES_PER_SECOND: '1000000' }),
    startCollabProcess({
      PIPEBOOK_COLLAB_MESSAGES_PER_SECOND: '50',
      PIPEBOOK_COLLAB_MAX_DOC_BYTES: '200000',
      PIPEBOOK_COLLAB_MAX_MESSAGE_BYTES: '1048576',
    }),
  ]);
});
afterAll(async () => {
  await fuzzServer?.cleanup();
  await strictServer?.cleanup();
});

function rawSocket(server: CollabProcess, id: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/collab/${id}`);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function message(...parts: Array<(e: encoding.Encoder) => void>): Uint8Array {
  const e = encoding.createEncoder();
  for (const p of parts) p(e);
  return encoding.toUint8Array(e);
}

/** An honest pair editing their own room, recording any disconnect. */
async function honestPair(server: CollabProcess) {
  const id = await createNotebook(server.url, { template: 'demo' });
  const a = newClient(server.url, id);
  const b = newClient(server.url, id);
  await Promise.all([a.synced(), b.synced()]);
  let disconnects = 0;
  for (const c of [a, b]) c.provider.on('connection-close', () => disconnects++);
  let n = 0;
  const check = async (label: string) => {
    randomEdit(a.doc, mulberry32(n), `(${label}${n++})`, false, false);
    await waitFor(() => contentOf(a.doc) === contentOf(b.doc), 5000, `honest room after ${label}`);
  };
  return {
    check,
    get disconnects() {
      return disconnects;
    },
    destroy() {
      a.destroy();
      b.destroy();
    },
  };
}

/** A frame generator: random bytes, truncated and bit-flipped real messages, lying lengths, bad JSON. */
function fuzzFrames(seed: number) {
  const rand = mulberry32(seed);
  const doc = new Y.Doc();
  const text = doc.getText('t');
  const samples: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => {
    samples.push(
      message(
        (e) => encoding.writeVarUint(e, 0),
        (e) => encoding.writeVarUint(e, 2),
        (e) => encoding.writeVarUint8Array(e, u),
      ),
    );
  });
  for (let i = 0; i < 40; i++) text.insert(randomInt(rand, text.length + 1), `s${i}`);
  doc.getMap('cells').set('x', new Y.Map());
  samples.push(
    message(
      (e) => encoding.writeVarUint(e, 0),
      (e) => encoding.writeVarUint(e, 0),
      (e) => encoding.writeVarUint8Array(e, Y.encodeStateVector(doc)),
    ),
  );
  samples.push(
    message(
      (e) => encoding.writeVarUint(e, 0),
      (e) => encoding.writeVarUint(e, 1),
      (e) => encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc)),
    ),
  );
  const awareness = (json: string) =>
    message(
      (e) => encoding.writeVarUint(e, 1),
      (e) =>
        encoding.writeVarUint8Array(
          e,
          message(
            (x) => encoding.writeVarUint(x, 1),
            (x) => encoding.writeVarUint(x, randomInt(rand, 2 ** 30)),
            (x) => encoding.writeVarUint(x, 1),
            (x) => encoding.writeVarString(x, json),
          ),
        ),
    );
  return (): Uint8Array => {
    const kind = randomInt(rand, 7);
    switch (kind) {
      case 0: {
        const b = new Uint8Array(randomInt(rand, 80));
        for (let i = 0; i < b.length; i++) b[i] = randomInt(rand, 256);
        return b;
      }
      case 1: {
        const s = pick(rand, samples);
        return s.slice(0, randomInt(rand, s.length));
      }
      case 2: {
        const s = pick(rand, samples).slice();
        for (let k = 0; k <= randomInt(rand, 3); k++) s[randomInt(rand, s.length)] = randomInt(rand, 256);
        return s;
      }
      case 3:
        return message(
          (e) => encoding.writeVarUint(e, 0),
          (e) => encoding.writeVarUint(e, randomInt(rand, 4)),
          (e) => encoding.writeVarUint(e, 2 ** 31 + randomInt(rand, 1000)),
        );
      case 4:
        return awareness(pick(rand, ['{"user":', '{}', 'null', '[1,2', '{"a":"\\u12"}', '"x"']));
      case 5:
        return message((e) => encoding.writeVarUint(e, randomInt(rand, 2 ** 20)));
      default:
        return new Uint8Array(0);
    }
  };
}

describe('hostile input', () => {
  it('[H1] an oversized frame closes only its socket with 1009, before the server reads it', async () => {
    const honest = await honestPair(fuzzServer);
    const id = await createNotebook(fuzzServer.url, {});
    const ws = await rawSocket(fuzzServer, id);
    const closed = closeOf(ws);
    ws.send(new Uint8Array(200_000));
    expect((await closed).code).toBe(1009);
    await honest.check('oversized');
    expect(honest.disconnects).toBe(0);
    honest.destroy();
  });

  it('[H2] 10,000 fuzzed and truncated frames crash nothing; other rooms keep working (seed 99)', async () => {
    const honest = await honestPair(fuzzServer);
    const victim = await createNotebook(fuzzServer.url, { template: 'demo' });
    const next = fuzzFrames(99);
    const queryAwareness = message((e) => encoding.writeVarUint(e, 3));
    let delivered = 0;
    let closedByServer = 0;
    const lane = async (count: number) => {
      let ws = await rawSocket(fuzzServer, victim);
      for (let i = 0; i < count; i++) {
        if (ws.readyState !== WebSocket.OPEN) ws = await rawSocket(fuzzServer, victim);
        // Each frame is followed by a query; an answer proves the frame was handled, a close that it was refused.
        const outcome = new Promise<'answered' | 'closed'>((resolve) => {
          const onMessage = (data: Buffer) => {
            if (data[0] === 1) done('answered');
          };
          const onClose = () => done('closed');
          const done = (r: 'answered' | 'closed') => {
            ws.off('message', onMessage);
            ws.off('close', onClose);
            resolve(r);
          };
          ws.on('message', onMessage);
          ws.on('close', onClose);
        });
        ws.send(next());
        ws.send(queryAwareness);
        delivered++;
        if ((await outcome) === 'closed') closedByServer++;
        if (i % 1000 === 999) await honest.check(`fuzz${delivered}`);
      }
      ws.close();
    };
    await Promise.all(Array.from({ length: 10 }, () => lane(1000)));
    expect(delivered).toBe(10_000);
    expect(closedByServer).toBeGreaterThan(100);
    expect(fuzzServer.child.exitCode).toBeNull();
    expect((await fetch(`${fuzzServer.url}/healthz`)).ok).toBe(true);
    await honest.check('after-fuzz');
    expect(honest.disconnects).toBe(0);
    // Refusals are typed closes, never an internal failure or a crash.
    expect(fuzzServer.output()).not.toMatch(/message on .* failed|Uncaught|FATAL/);
    // The fuzzed room itself still serves a well-behaved client.
    const fresh = newClient(fuzzServer.url, victim);
    await fresh.synced();
    fresh.destroy();
    honest.destroy();
  });

  it('[H3] a connection flooding messages is closed with 4429; a normal one is not', async () => {
    const honest = await honestPair(strictServer);
    const id = await createNotebook(strictServer.url, {});
    const ws = await rawSocket(strictServer, id);
    const closed = closeOf(ws);
    const query = message((e) => encoding.writeVarUint(e, 3));
    for (let i = 0; i < 500 && ws.readyState === WebSocket.OPEN; i++) ws.send(query);
    expect((await closed).code).toBe(4429);
    await honest.check('flood');
    expect(honest.disconnects).toBe(0);
    honest.destroy();
  });

  it('[H4] an update that would grow a document past its limit is refused with 1009 and not stored', async () => {
    const id = await createNotebook(strictServer.url, {});
    const big: TestClient = newClient(strictServer.url, id);
    await big.synced();
    const closed = new Promise<number>((resolve) =>
      big.provider.once('connection-close', (e: CloseEvent | null) => resolve(e?.code ?? -1)),
    );
    big.doc.getText('blob').insert(0, 'x'.repeat(300_000));
    expect(await closed).toBe(1009);
    big.destroy();
    const fresh = newClient(strictServer.url, id);
    await fresh.synced();
    expect(fresh.doc.getText('blob').length).toBe(0);
    fresh.destroy();
  });

  it('[H6] a socket on an unknown path or notebook is refused', async () => {
    const res = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${fuzzServer.wsUrl}/elsewhere`);
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(res).toBe(404);
    const ws = await rawSocket(fuzzServer, 'nb_does_not_exist');
    expect((await closeOf(ws)).code).toBe(4404);
  });
});

describe('handshakes', () => {
  it('[H5] unauthenticated handshakes are capped in number (503) and time (socket dropped)', async () => {
    // An identity provider that accepts connections and never answers keeps every handshake pending.
    const held: net.Socket[] = [];
    const idp = net.createServer((s) => {
      held.push(s);
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const server = await startCollabProcess({
      PIPEBOOK_JWKS_URL: `http://127.0.0.1:${(idp.address() as net.AddressInfo).port}/jwks`,
      PIPEBOOK_COLLAB_AUTH_TIMEOUT_MS: '400',
      PIPEBOOK_COLLAB_MAX_PENDING_HANDSHAKES: '2',
    });
    try {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k' })
        .setSubject('x')
        .sign(privateKey);
      const outcome = (ws: WebSocket) =>
        new Promise<string>((resolve) => {
          ws.on('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
          ws.on('open', () => resolve('open'));
          ws.on('error', () => resolve('dropped'));
          ws.on('close', () => resolve('dropped'));
        });
      const url = `${server.wsUrl}/collab/nb_any?token=${token}`;
      const t0 = Date.now();
      const first = outcome(new WebSocket(url));
      const second = outcome(new WebSocket(url));
      await waitFor(
        async () => /pipebook_collab_handshakes_pending 2/.test(await (await fetch(`${server.url}/metrics`)).text()),
        5000,
        'two pending handshakes',
      );
      const third = await outcome(new WebSocket(url));
      expect(third).toBe('http 503');
      expect(await first).toBe('dropped');
      expect(await second).toBe('dropped');
      expect(Date.now() - t0).toBeLessThan(3000);
      expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      idp.close();
      await server.cleanup();
    }
  });
});
