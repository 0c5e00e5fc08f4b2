// The model call against the OpenAI-compatible test server: both wire modes of the server, and every failure mapped to
// an error a user can act on.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { callModel } from '../../src/copilot/model.ts';
import { testConfig, withModelServer } from './fixtures.ts';

const server = withModelServer({ apiKey: 'test-key' });

const ask = (over: Parameters<typeof testConfig>[1] = {}, jsonSchema = true) =>
  callModel(testConfig(server, over), {
    messages: [{ role: 'user', content: 'hi' }],
    signal: new AbortController().signal,
    ...(jsonSchema ? { jsonSchema: { name: 'x', schema: { type: 'object' }, strict: true } } : {}),
  });

describe('the test server', () => {
  it('answers structured output without streaming, as the SDK expects', async () => {
    server.script({ type: 'content', content: { cells: [], note: 'plain' } });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test-key' });
    const r = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
    });
    expect(JSON.parse(r.choices[0].message.content!)).toEqual({ cells: [], note: 'plain' });
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams with a usage tail chunk when asked', async () => {
    server.script({ type: 'content', content: 'streamed text' });
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'test-key' });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage += chunk.usage?.total_tokens ?? 0;
    }
    expect(text).toBe('streamed text');
    expect(usage).toBeGreaterThan(0);
  });
});

describe('callModel', () => {
  it('streams the answer', async () => {
    server.script({ type: 'content', content: 'hello there' });
    expect(await ask()).toBe('hello there');
    expect(server.requests.at(-1)?.body).toMatchObject({
      stream: true,
      temperature: 0,
      response_format: { type: 'json_schema' },
    });
  });

  it('falls back to JSON mode when the endpoint rejects json_schema', async () => {
    server.script(
      { type: 'error', status: 400, message: "response_format 'json_schema' is not supported" },
      { type: 'content', content: '{"ok":true}' },
    );
    expect(await ask()).toBe('{"ok":true}');
    expect(server.requests.at(-1)?.body.response_format).toEqual({ type: 'json_object' });
  });

  it('names refusals, cut-off answers and mid-stream failures', async () => {
    server.script({ type: 'refusal', refusal: 'I cannot help with that.' });
    await expect(ask()).rejects.toMatchObject({
      code: 'bad_request',
      message: 'The model refused: I cannot help with that.',
    });
    server.script({ type: 'content', content: '{"cells": [', finishReason: 'length' });
    await expect(ask()).rejects.toMatchObject({ code: 'too_large' });
    server.script({ type: 'content', content: 'a long answer that breaks', chunkSize: 4, errorAfterChunks: 2 });
    await expect(ask()).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/failed mid-stream/),
    });
  });

  it('says to check the key, the URL or the endpoint, without showing the key', async () => {
    const wrong = ask({ apiKey: 'sk-wrong-secret' });
    await expect(wrong).rejects.toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/OPENAI_API_KEY/),
    });
    await expect(wrong).rejects.not.toMatchObject({ message: expect.stringContaining('sk-wrong-secret') });
    await expect(ask({ baseURL: `${server.baseURL}/nope` }, false)).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(ask({ baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 })).rejects.toMatchObject({
      code: 'engine_unavailable',
      message: 'Cannot reach the model endpoint http://127.0.0.1:9.',
    });
  });

  it('speaks Azure OpenAI: deployment path, api-version and api-key header', async () => {
    server.script({ type: 'content', content: 'from azure' });
    const endpoint = new URL(server.baseURL).origin;
    expect(await ask({ baseURL: endpoint, azureApiVersion: '2024-10-21', model: 'my-deployment' })).toBe('from azure');
    expect(server.requests.at(-1)).toMatchObject({
      path: '/openai/deployments/my-deployment/chat/completions',
      query: 'api-version=2024-10-21',
      apiKeyHeader: 'test-key',
    });
  });

  it('retries 5xx by itself', async () => {
    server.script(
      { type: 'error', status: 503, headers: { 'retry-after-ms': '20' } },
      { type: 'content', content: 'back' },
    );
    const before = server.requests.length;
    expect(await ask()).toBe('back');
    expect(server.requests.slice(before).map((r) => r.retryCount)).toEqual([0, 1]);
  });
});
