// Every kernel answer the client validates must parse with the shared protocol schemas (the client rejects anything
// else), including the error shape.
import {
  cancelResponseSchema,
  catalogResponseSchema,
  enginesResponseSchema,
  errorResponseSchema,
  KERNEL_PROTOCOL_HEADER,
  KERNEL_PROTOCOL_VERSION,
  resultPageSchema,
  runCreatedSchema,
  runEventSchema,
  runInfoSchema,
} from '@pipebook/shared/protocol/kernel';
import { describe, expect, it } from 'vitest';
import { collectEvents, createNotebookFrom, kernelApi, notebookFile, startRun, withKernel } from './stack.ts';

const s = withKernel();

describe('protocol', () => {
  it('answers match the shared schemas', async () => {
    const nb = await createNotebookFrom(
      s,
      notebookFile([
        { name: 'a', source: "SELECT 1 AS n, 'x' AS s, DATE '2024-01-01' AS d, [1, 2] AS l, 1.5::DECIMAL(10,2) AS m" },
        { name: 'b', source: 'SELECT n, nope FROM a' },
        { name: 'c', source: 'SELECT * FROM b' },
      ]),
    );
    const created = await startRun(s, { notebookId: nb, scope: 'all' });
    expect(runCreatedSchema.safeParse(created).success).toBe(true);
    const events = await collectEvents(s, created.runId);
    for (const e of events) expect(runEventSchema.safeParse(e).error?.issues, JSON.stringify(e)).toBeUndefined();
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['run_queued', 'cell_queued', 'cell_started', 'cell_finished', 'run_finished']),
    );

    const info = await kernelApi(s, `/api/runs/${created.runId}`);
    expect(runInfoSchema.safeParse(info.body).error?.issues).toBeUndefined();
    const cancel = await kernelApi(s, `/api/runs/${created.runId}/cancel`, { method: 'POST' });
    expect(cancelResponseSchema.safeParse(cancel.body).error?.issues).toBeUndefined();

    const res = await fetch(`${s.kernel.url}/api/results/${nb}/c_a`);
    expect(res.headers.get(KERNEL_PROTOCOL_HEADER)).toBe(String(KERNEL_PROTOCOL_VERSION));
    expect(resultPageSchema.safeParse(await res.json()).error?.issues).toBeUndefined();

    const engines = await kernelApi(s, '/api/engines');
    expect(enginesResponseSchema.safeParse(engines.body).error?.issues).toBeUndefined();
    const catalog = await kernelApi(s, '/api/engines/duckdb/catalog');
    expect(catalogResponseSchema.safeParse(catalog.body).error?.issues).toBeUndefined();

    for (const [route, method, body] of [
      ['/api/runs', 'POST', { notebookId: nb }],
      ['/api/runs', 'POST', { notebookId: 'nb_missing', scope: 'all' }],
      ['/api/runs/run_nope', 'GET', undefined],
      [`/api/results/${nb}/c_c`, 'GET', undefined],
      ['/api/nowhere', 'GET', undefined],
    ] as const) {
      const r = await kernelApi(s, route, { method, body });
      expect(r.status, route).toBeGreaterThanOrEqual(400);
      expect(errorResponseSchema.safeParse(r.body).error?.issues, `${method} ${route}`).toBeUndefined();
    }
    const bad = await fetch(`${s.kernel.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(errorResponseSchema.safeParse(await bad.json()).success).toBe(true);
  });
});
