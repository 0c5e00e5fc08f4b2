import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { binaryFrame, MERGE_MAX_BYTES } from './ws-frame.ts';

// ws's own frame writer and parser serve as the reference; @types/ws does not declare them.
const { Sender, Receiver } = createRequire(import.meta.url)('ws') as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
  Receiver: new (options: Record<string, unknown>) => Writable;
};

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70_000, MERGE_MAX_BYTES, MERGE_MAX_BYTES + 1];

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
const joined = (f: Buffer | Buffer[]) => (Array.isArray(f) ? Buffer.concat(f) : f);

describe('binaryFrame', () => {
  it.each(SIZES)('frames %i bytes exactly as ws frames an unmasked binary message', (n) => {
    const payload = bytes(n);
    const expected = Sender.frame(Buffer.from(payload), {
      fin: true,
      rsv1: false,
      opcode: 2,
      mask: false,
      readOnly: false,
    });
    expect(joined(binaryFrame(payload))).toEqual(joined(expected));
  });

  it('is read back by a WebSocket client parser as the same message, for every length encoding', async () => {
    const payloads = SIZES.map(bytes);
    const received: Buffer[] = [];
    // A client-side receiver: it refuses masked frames from a server, so the frames must be unmasked.
    const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' });
    receiver.on('message', (data: Buffer) => received.push(data));
    for (const p of payloads) receiver.write(joined(binaryFrame(p)));
    expect(received.map((b) => [...b])).toEqual(payloads.map((p) => [...p]));
  });

  it('does not copy a large payload, and frames a view without the rest of its buffer', () => {
    const big = bytes(MERGE_MAX_BYTES + 10);
    const frame = binaryFrame(big);
    expect(Array.isArray(frame)).toBe(true);
    expect((frame as Buffer[])[1].buffer).toBe(big.buffer);
    const backing = bytes(300);
    const view = backing.subarray(100, 200);
    expect([...joined(binaryFrame(view)).subarray(2)]).toEqual([...view]);
  });
});
