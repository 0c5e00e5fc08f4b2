import net from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { reconnectDelayMs, redisClientOptions } from './redis-options.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Splits complete RESP commands (arrays of bulk strings, as clients send them) off the front of `buf`. */
function takeCommands(buf: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  const line = (from: number) => {
    const end = buf.indexOf('\r\n', from);
    return end < 0 ? null : { text: buf.toString('latin1', from + 1, end), next: end + 2 };
  };
  for (;;) {
    const head = line(at);
    if (!head) break;
    let pos = head.next;
    const args: string[] = [];
    for (let i = 0; i < Number(head.text); i++) {
      const len = line(pos);
      if (!len || buf.length < len.next + Number(len.text) + 2) return { commands, rest: buf.subarray(at) };
      args.push(buf.toString('utf8', len.next, len.next + Number(len.text)));
      pos = len.next + Number(len.text) + 2;
    }
    commands.push(args);
    at = pos;
  }
  return { commands, rest: buf.subarray(at) };
}

/**
 * Just enough of a Redis that is reloading its AOF: it accepts connections and answers the handshake, but its INFO
 * says `loading:1` with the ETA a real Redis gives until `finishLoading()`.
 */
async function loadingRedis(etaSeconds: number) {
  let loading = true;
  let infoAsked: () => void = () => {};
  const firstInfo = new Promise<void>((resolve) => {
    infoAsked = resolve;
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { commands, rest } = takeCommands(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const [name] of commands) {
        const cmd = name.toUpperCase();
        if (cmd === 'HELLO') socket.write("-ERR unknown command 'HELLO'\r\n");
        else if (cmd === 'INFO') {
          infoAsked();
          const info = loading ? `loading:1\r\nloading_eta_seconds:${etaSeconds}\r\n` : 'loading:0\r\n';
          socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    firstInfo,
    finishLoading() {
      loading = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('scale-out Redis connections', () => {
  it('[C4][K4] an outage of any length never makes the next reconnect attempt wait more than 250 ms', () => {
    expect(reconnectDelayMs(1)).toBe(50);
    const delays = Array.from({ length: 100_000 }, (_, i) => reconnectDelayMs(i + 1));
    // A non-number would make ioredis give up reconnecting for good.
    expect(delays.filter((d) => typeof d !== 'number' || !(d > 0))).toEqual([]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(250);
    expect(redisClientOptions('x').retryStrategy).toBe(reconnectDelayMs);
  });

  it('[C4][K4] a connection made while Redis still loads its AOF is ready soon after the load ends, not after the ETA', async () => {
    // A real Redis reports an ETA of at least 1 s (up to the whole remaining load) early in a reload.
    const redis = await loadingRedis(30);
    cleanups.push(() => redis.close());
    const client = new Redis(redis.url, redisClientOptions('pipebook-test'));
    cleanups.push(() => client.disconnect());
    client.on('error', () => {});
    const ready = new Promise<number>((resolve) => client.once('ready', () => resolve(Date.now())));

    await redis.firstInfo;
    expect(client.status).not.toBe('ready');
    redis.finishLoading();
    const loadedAt = Date.now();
    const readyAt = await ready;
    // Rechecked every 100 ms: ready well within the 2 s C4 allows for the whole recovery, even on a busy machine.
    expect(readyAt - loadedAt).toBeLessThan(1000);
  }, 5000);
});
