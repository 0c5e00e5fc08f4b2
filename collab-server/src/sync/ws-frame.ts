// A binary WebSocket message as a server sends it (RFC 6455 section 5.2: FIN, opcode 2, unmasked), framed once so a
// broadcast to 100 peers costs 100 socket writes and no per-peer framing. ws would frame, allocate and cork again for
// every receiver.

/** Payloads up to this size are copied behind their header and written in one piece (one write, no writev). */
export const MERGE_MAX_BYTES = 16 * 1024;

/** The frame header for an unmasked, final, binary frame carrying `length` bytes. */
export function binaryFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, length]);
  if (length < 65536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x82;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.allocUnsafe(10);
  header[0] = 0x82;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/**
 * The whole frame: one buffer for a small payload; header and payload for a large one, which is not copied (the
 * caller must not change it afterwards).
 */
export function binaryFrame(payload: Uint8Array): Buffer | [Buffer, Buffer] {
  const header = binaryFrameHeader(payload.length);
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  if (payload.length > MERGE_MAX_BYTES) return [header, body];
  return Buffer.concat([header, body], header.length + payload.length);
}
