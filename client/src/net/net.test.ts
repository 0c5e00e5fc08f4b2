import { describe, expect, it } from 'vitest';
import { colorFor, identityFromToken } from './auth.ts';
import { errorFromBody } from './http.ts';
import { parseSse } from './sse.ts';

function reader(chunks: string[]): ReadableStreamDefaultReader<string> {
  return new ReadableStream<string>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  }).getReader();
}

describe('SSE over fetch', () => {
  it('parses events split across chunks, with ids, names, comments and multi-line data', async () => {
    const out = [];
    for await (const m of parseSse(
      reader([': hi\n\nid: 1\nevent: run\nda', 'ta: {"a":1}\n\n', 'data: x\r\ndata: y\r\n\r\n']),
    ))
      out.push(m);
    expect(out).toEqual([
      { event: 'run', data: '{"a":1}', id: '1' },
      { event: 'message', data: 'x\ny', id: '1' },
    ]);
  });
});

describe('identity and errors', () => {
  it('reads the display name from a token without trusting anything else', () => {
    const utf8 = btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify({ sub: 'u1', name: 'Zoë' }))));
    const urlSafe = utf8.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(identityFromToken(`h.${urlSafe}.s`)).toEqual({ id: 'u1', name: 'Zoë' });
    expect(identityFromToken(undefined)).toEqual({ id: 'local', name: 'Local user' });
    expect(identityFromToken('garbage')).toEqual({ id: 'local', name: 'Local user' });
  });
  it('gives each person a stable colour', () => {
    expect(colorFor('alice')).toEqual(colorFor('alice'));
  });
  it('turns the servers’ error bodies into typed errors', () => {
    expect(errorFromBody(403, { error: { code: 'forbidden', message: 'Viewers cannot run cells' } })).toMatchObject({
      code: 'forbidden',
      message: 'Viewers cannot run cells',
      status: 403,
    });
    expect(errorFromBody(404, undefined)).toMatchObject({ code: 'not_found' });
  });
});
