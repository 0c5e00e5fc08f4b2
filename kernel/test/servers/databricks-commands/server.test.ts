// The Command Execution test server speaks API 1.2 where clients can tell (plain fetch, no Pipebook client).
import { afterEach, describe, expect, it } from 'vitest';
import { type CommandTestServer, startCommandServer } from './server.ts';

let server: CommandTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const cluster = '0101-120000-pipebook';

function api(s: CommandTestServer, token = 'dapi-t') {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    post: async (path: string, body: object) => {
      const r = await fetch(`${s.url}/api/1.2/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    },
    get: async (path: string, q: Record<string, string>) => {
      const r = await fetch(`${s.url}/api/1.2/${path}?${new URLSearchParams(q)}`, { headers });
      return { status: r.status, body: await r.json() };
    },
  };
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Command Execution test server', () => {
  it('checks the token, the cluster and the context', async () => {
    server = await startCommandServer({ token: 'dapi-t' });
    expect((await api(server, 'wrong').post('contexts/create', { clusterId: cluster })).status).toBe(401);
    const badCluster = await api(server).post('contexts/create', { clusterId: 'nope', language: 'python' });
    expect(badCluster).toEqual({
      status: 400,
      body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Cluster nope does not exist' },
    });
    const noCtx = await api(server).get('contexts/status', { clusterId: cluster, contextId: '1' });
    expect(noCtx.status).toBe(404);
    expect(noCtx.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('boots a context, queues commands, and answers text, table and error results', async () => {
    // Long enough that the two requests below surely see the context still Pending, even on a loaded machine.
    server = await startCommandServer({ token: 'dapi-t', contextBootMs: 1000 });
    const a = api(server);
    const { body } = await a.post('contexts/create', { clusterId: cluster, language: 'python' });
    const contextId = body.id as string;
    expect((await a.get('contexts/status', { clusterId: cluster, contextId })).body).toEqual({
      id: contextId,
      status: 'Pending',
    });
    const early = await a.post('commands/execute', { clusterId: cluster, contextId, language: 'python', command: '1' });
    expect(early.status).toBe(400);
    await until(
      () => a.get('contexts/status', { clusterId: cluster, contextId }),
      (r) => r.body.status === 'Running',
    );
    const run = async (command: string) => {
      const { body: c } = await a.post('commands/execute', {
        clusterId: cluster,
        contextId,
        language: 'python',
        command,
      });
      return (
        await until(
          () => a.get('commands/status', { clusterId: cluster, contextId, commandId: c.id }),
          (r) => r.body.status === 'Finished',
        )
      ).body;
    };
    expect((await run('x = 40\nx + 2')).results).toEqual({ resultType: 'text', data: '42' });
    expect((await run('display(spark.range(2))')).results).toEqual({
      resultType: 'table',
      data: [[0], [1]],
      schema: [{ name: 'id', type: '"long"', metadata: '{}' }],
      truncated: false,
      isJsonSchema: true,
    });
    const err = (await run('undefined_name')).results;
    expect(err.resultType).toBe('error');
    expect(err.summary).toBe(`<span class="ansi-red-fg">NameError</span>: name 'undefined_name' is not defined`);
    expect(err.cause).toContain("NameError: name 'undefined_name' is not defined");
    expect((await a.post('contexts/destroy', { clusterId: cluster, contextId })).body).toEqual({ id: contextId });
    expect((await a.get('contexts/status', { clusterId: cluster, contextId })).status).toBe(404);
  });
});
