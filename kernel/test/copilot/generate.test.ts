// Generate, fix and explain against the OpenAI-compatible test server and a real DuckDB engine: what lands in the
// notebook is verified, runnable, and one undo step away.
import path from 'node:path';
import { type CellId, createOrigin, readCell, readCells, readOrder } from '@pipebook/shared';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { copilotCompiler } from '../../src/copilot/compiler.ts';
import { applyProposal, type CopilotDeps, explainCell, fixCell, generateCells } from '../../src/copilot/service.ts';
import { estimateMessagesTokens } from '../../src/copilot/tokens.ts';
import { answer, demoDoc, eventLog, testConfig, withDemoWarehouse, withModelServer } from './fixtures.ts';

const wh = withDemoWarehouse();
const server = withModelServer({ apiKey: 'test-key' });
const user = { id: 'u_ada', name: 'Ada' };

afterEach(() => {
  server.requests.length = 0;
});

function deps(over: Partial<CopilotDeps['config']> = {}): CopilotDeps {
  return {
    config: testConfig(server, over),
    engines: { get: () => wh.engine },
    compiler: copilotCompiler,
  };
}

function call(doc: Y.Doc, signal = new AbortController().signal) {
  const log = eventLog();
  return { log, call: { doc, notebookId: 'nb_test', user, signal, emit: log.emit } };
}

async function runCell(doc: Y.Doc, id: CellId) {
  const compiled = copilotCompiler.compile(readCells(doc), id, 'duckdb');
  const resultPath = path.join(wh.dir, `${id}.parquet`);
  const out = await wh.engine.execute({ sql: compiled.sql, signal: new AbortController().signal, resultPath });
  const rows = await wh.warehouse.readAll(`SELECT * FROM read_parquet('${resultPath}') ORDER BY ALL`);
  return { out, rows: rows.rowsJson };
}

describe('generate', () => {
  it('inserts verified cells after the focused cell in one undoable transaction, and they run', async () => {
    const { doc, ids } = demoDoc();
    server.script({
      type: 'content',
      content: answer([
        {
          name: 'revenue_per_country',
          description: 'Paid revenue per customer country',
          sql: 'SELECT c.country, SUM(p.amount) AS revenue FROM paid_orders p JOIN customers c USING (customer_id) GROUP BY c.country',
        },
        { name: 'top_country', sql: 'SELECT * FROM revenue_per_country ORDER BY revenue DESC LIMIT 1' },
      ]),
    });
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps(), c, { request: 'revenue per country', afterCellId: ids.orders });

    expect(proposal.verified).toBe(true);
    expect(proposal.attempts).toBe(1);
    expect(proposal.checks.filter((x) => x.check === 'engine').map((x) => [x.cell, x.ok])).toEqual([
      ['revenue_per_country', true],
      ['top_country', true],
    ]);
    expect(proposal.cells[0].columns?.map((x) => x.name)).toEqual(['country', 'revenue']);
    // The request went out streaming with the strict JSON schema.
    const sent = server.requests[0].body;
    expect(sent.stream).toBe(true);
    expect(sent.response_format?.type).toBe('json_schema');
    expect(sent.response_format?.json_schema?.strict).toBe(true);
    // Progress reached the caller while the model wrote.
    expect(
      log
        .of('token')
        .map((e) => e.text)
        .join(''),
    ).toContain('revenue_per_country');
    expect(log.of('attempt')).toEqual([{ type: 'attempt', attempt: 1, maxAttempts: 3 }]);

    const origin = createOrigin('copilot', user.id);
    const undo = new Y.UndoManager([doc.getMap('cells'), doc.getArray('order')], { trackedOrigins: new Set([origin]) });
    const before = readOrder(doc);
    let seenOrigin: unknown;
    doc.on('afterTransaction', (tr) => {
      seenOrigin = tr.origin;
    });
    const inserted = applyProposal(doc, proposal, user, {}, origin);
    expect(seenOrigin).toEqual({ source: 'copilot', userId: 'u_ada' });
    expect(readOrder(doc)).toEqual([before[0], ...inserted, ...before.slice(1)]);
    const first = readCell(doc, inserted[0])!;
    expect(first.source).toMatch(/^-- Paid revenue per customer country\n-- Copilot, asked by Ada\nSELECT/);

    const { out, rows } = await runCell(doc, inserted[1]);
    const expected = await wh.warehouse.readAll(
      `SELECT c.country, SUM(o.amount) AS revenue FROM orders o JOIN customers c USING (customer_id)
       WHERE o.status = 'paid' GROUP BY c.country ORDER BY revenue DESC LIMIT 1`,
    );
    expect(out.type).toBe('materialized');
    expect(rows).toEqual(expected.rowsJson);

    undo.undo();
    expect(readOrder(doc)).toEqual(before);
    expect(inserted.map((id) => readCell(doc, id))).toEqual([undefined, undefined]);
  });

  it('sends an engine error back to the model and inserts the corrected answer', async () => {
    const { doc } = demoDoc();
    server.script(
      {
        type: 'content',
        content: answer([{ name: 'big_orders', sql: 'SELECT order_id, totl FROM orders WHERE amount > 50' }]),
      },
      {
        type: 'content',
        content: answer([{ name: 'big_orders', sql: 'SELECT order_id, amount FROM orders WHERE amount > 50' }]),
      },
    );
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps(), c, { request: 'orders above 50' });
    expect(proposal.verified).toBe(true);
    expect(proposal.attempts).toBe(2);
    const failed = log.of('check').filter((e) => !e.result.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempt: 1, result: { check: 'engine', cell: 'big_orders' } });
    expect(failed[0].result.message).toMatch(/totl/);
    // The second request carried the failed answer and the engine's error.
    const retry = server.requests[1].body.messages;
    expect(retry.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(String(retry[3].content)).toMatch(/big_orders.*engine.*totl/s);
    const [id] = applyProposal(doc, proposal, user);
    const { out } = await runCell(doc, id);
    expect(out.type === 'materialized' && out.rowCount).toBeGreaterThan(0);
  });

  it('retries when the answer is not valid JSON', async () => {
    const { doc } = demoDoc();
    server.script(
      { type: 'content', content: '{"cells": [{"name": "x", "kind": "sql"' },
      { type: 'content', content: answer([{ name: 'order_count', sql: 'SELECT COUNT(*) AS n FROM orders' }]) },
    );
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps(), c, { request: 'how many orders' });
    expect(proposal.verified).toBe(true);
    expect(proposal.attempts).toBe(2);
    expect(log.of('check')[0].result).toMatchObject({ check: 'schema', ok: false });
    expect(log.of('check')[0].result.message).toMatch(/not valid JSON/);
    expect(String(server.requests[1].body.messages[3].content)).toMatch(/schema: The answer is not valid JSON/);
  });

  it("keeps the last draft when a later answer cannot be read, with that draft's own checks", async () => {
    const { doc } = demoDoc();
    server.script(
      { type: 'content', content: answer([{ name: 'draft', sql: 'SELECT nope FROM orders' }]) },
      { type: 'content', content: 'not json at all' },
      { type: 'content', content: '{"cells": []}' },
    );
    const proposal = await generateCells(deps(), call(doc).call, { request: 'something' });
    expect(proposal).toMatchObject({ verified: false, attempts: 3 });
    expect(proposal.cells.map((c) => c.name)).toEqual(['draft']);
    expect(proposal.checks.map((c) => [c.check, c.ok])).toEqual([
      ['schema', true],
      ['names', true],
      ['compile', true],
      ['engine', false],
    ]);
  });

  it('does not insert cells that read a table that does not exist, unless the user chooses the draft', async () => {
    const { doc } = demoDoc();
    const bad = { type: 'content' as const, content: answer([{ name: 'refunds', sql: 'SELECT * FROM refunds_2024' }]) };
    server.script(bad, bad, bad);
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps(), c, { request: 'list refunds' });
    expect(proposal.verified).toBe(false);
    expect(proposal.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(
      log
        .of('check')
        .filter((e) => e.result.check === 'engine')
        .map((e) => e.result.ok),
    ).toEqual([false, false, false]);
    expect(proposal.checks.find((x) => x.check === 'engine')?.message).toMatch(/refunds_2024/);
    const before = readCells(doc).length;
    expect(() => applyProposal(doc, proposal, user)).toThrow(/did not pass verification/);
    expect(readCells(doc)).toHaveLength(before);
    const ids = applyProposal(doc, proposal, user, { allowFailing: true });
    expect(readCell(doc, ids[0])?.name).toBe('refunds');
  });

  it('never runs a second statement smuggled into an answer while verifying it', async () => {
    const { doc } = demoDoc();
    const sneaky = {
      type: 'content' as const,
      content: answer([{ name: 'sneaky', sql: 'SELECT 1 AS x) ; DROP TABLE customers; SELECT (1' }]),
    };
    server.script(sneaky, sneaky, sneaky);
    const proposal = await generateCells(deps(), call(doc).call, { request: 'anything' });
    expect(proposal.verified).toBe(false);
    expect(proposal.checks.find((c) => c.check === 'compile')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/more than one statement/),
    });
    expect((await wh.warehouse.readAll('SELECT count(*) FROM customers')).rowsJs[0][0]).toBe(40n);
  });

  it('rejects a name that is taken and a visual step whose input is not a cell', async () => {
    const { doc } = demoDoc();
    server.script(
      { type: 'content', content: answer([{ name: 'paid_orders', sql: 'SELECT 1 AS one' }]) },
      {
        type: 'content',
        content: answer([
          {
            name: 'by_status',
            kind: 'aggregate',
            config: { input: 'nope', groupBy: ['status'], measures: [{ fn: 'count', as: 'n' }] },
          },
        ]),
      },
      {
        type: 'content',
        content: answer([
          {
            name: 'by_status',
            kind: 'aggregate',
            config: { input: 'orders', groupBy: ['status'], measures: [{ fn: 'count', as: 'n' }] },
          },
        ]),
      },
    );
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps(), c, { request: 'orders per status' });
    const failed = log
      .of('check')
      .filter((e) => !e.result.ok)
      .map((e) => e.result.message);
    expect(failed[0]).toMatch(/"paid_orders" already exists/);
    expect(failed[1]).toMatch(/input refers to "nope"/);
    expect(proposal.cells[0].config).toMatchObject({ input: readCells(doc).find((x) => x.name === 'orders')!.id });
  });

  it('waits out a 429 with retry-after and then succeeds', async () => {
    const { doc } = demoDoc();
    server.script(
      { type: 'error', status: 429, headers: { 'retry-after': '1' }, message: 'Rate limit reached' },
      { type: 'content', content: answer([{ name: 'n_customers', sql: 'SELECT COUNT(*) AS n FROM customers' }]) },
    );
    const { log, call: c } = call(doc);
    const t0 = Date.now();
    const proposal = await generateCells(deps(), c, { request: 'count customers' });
    expect(proposal.verified).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(log.of('rate_limited')).toEqual([{ type: 'rate_limited', retryAfterSeconds: 1 }]);
    expect(server.requests.map((r) => r.retryCount)).toEqual([0, 1]);
  });

  it('reports a clear rate-limit error when retries run out', async () => {
    const { doc } = demoDoc();
    const limited = { type: 'error' as const, status: 429, headers: { 'retry-after-ms': '10' } };
    server.script(limited, limited, limited);
    const { call: c } = call(doc);
    await expect(generateCells(deps(), c, { request: 'count customers' })).rejects.toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/429.*retry after 1 s/),
    });
  });

  it('times out when the model sends nothing, before headers or mid-stream', async () => {
    const { doc } = demoDoc();
    server.script({ type: 'hang' });
    const { call: c } = call(doc);
    await expect(generateCells(deps({ timeoutMs: 300, maxRetries: 0 }), c, { request: 'x' })).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringMatching(/did not answer within/),
    });
    server.script({ type: 'content', content: answer([{ name: 'a', sql: 'SELECT 1' }]), chunkDelayMs: 2_000 });
    await expect(
      generateCells(deps({ timeoutMs: 300, maxRetries: 0 }), call(doc).call, { request: 'x' }),
    ).rejects.toMatchObject({
      code: 'timeout',
    });
  });

  it('cancels a running request through its AbortSignal', async () => {
    const { doc } = demoDoc();
    server.script({
      type: 'content',
      content: answer([{ name: 'slow', sql: 'SELECT 1 AS one' }]),
      chunkSize: 4,
      chunkDelayMs: 100,
    });
    const controller = new AbortController();
    const { log, call: c } = call(doc, controller.signal);
    const abortedBefore = server.aborted;
    const pending = generateCells(deps(), c, { request: 'something slow' });
    // Cancel once the model has started writing.
    await expect.poll(() => log.of('token').length, { timeout: 5_000 }).toBeGreaterThan(0);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    await expect.poll(() => server.aborted, { timeout: 5_000 }).toBe(abortedBefore + 1);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps the prompt for a 500-table catalog within budget, with the tables the request names', async () => {
    const { doc } = demoDoc();
    for (let i = 0; i < 497; i++) {
      const cols = Array.from({ length: 12 }, (_, j) => `metric_${j}_value DOUBLE`).join(', ');
      await wh.warehouse.run(`CREATE TABLE t_${String(i).padStart(3, '0')}_events (event_id BIGINT, ${cols})`);
    }
    await wh.warehouse.run(
      'CREATE TABLE t_417_shipments (shipment_id BIGINT, order_id INTEGER, carrier VARCHAR, shipped_at TIMESTAMP)',
    );
    expect((await wh.engine.catalog()).length).toBe(501);
    server.script({
      type: 'content',
      content: answer([
        {
          name: 'late_shipments',
          sql: 'SELECT s.carrier, COUNT(*) AS n FROM t_417_shipments s JOIN orders o USING (order_id) GROUP BY s.carrier',
        },
      ]),
    });
    const budget = 4_000;
    const { log, call: c } = call(doc);
    const proposal = await generateCells(deps({ promptTokens: budget }), c, {
      request: 'shipments per carrier from t_417_shipments joined with orders',
    });
    expect(proposal.verified).toBe(true);
    const messages = server.requests[0].body.messages.map((m) => ({ role: m.role, content: String(m.content) }));
    expect(estimateMessagesTokens(messages)).toBeLessThanOrEqual(budget);
    const prompt = messages[1].content;
    expect(prompt).toContain(
      '- t_417_shipments(shipment_id BIGINT, order_id INTEGER, carrier VARCHAR, shipped_at TIMESTAMP)',
    );
    expect(prompt).toMatch(/- orders\(order_id BIGINT, customer_id/);
    expect(prompt).toContain('Request: shipments per carrier');
    expect(log.of('context')[0].omittedTables).toBeGreaterThan(400);
    for (let i = 0; i < 497; i++) await wh.warehouse.run(`DROP TABLE t_${String(i).padStart(3, '0')}_events`);
    await wh.warehouse.run('DROP TABLE t_417_shipments');
  });
});

describe('fix', () => {
  it('proposes a corrected cell as a diff, verified, and applies it in one transaction', async () => {
    const { doc, ids } = demoDoc();
    const origin = createOrigin('copilot', user.id);
    // The cell's last run failed.
    doc.getMap('runs').set(ids.paid_orders, {
      status: 'error',
      runId: 'run_1',
      engine: 'duckdb',
      by: user,
      error: { code: 'sql_error', message: 'Binder Error: Referenced column "stauts" not found' },
    });
    const { setSource } = await import('@pipebook/shared');
    setSource(doc, ids.paid_orders, "SELECT order_id, customer_id, amount\nFROM orders\nWHERE stauts = 'paid'");
    server.script({
      type: 'content',
      content: answer(
        [{ name: 'paid_orders', sql: "SELECT order_id, customer_id, amount\nFROM orders\nWHERE status = 'paid'" }],
        'Typo in status',
      ),
    });
    const { call: c } = call(doc);
    const proposal = await fixCell(deps(), c, { cellId: ids.paid_orders });
    expect(proposal.verified).toBe(true);
    expect(proposal.diff).toBe(
      [
        '--- paid_orders',
        '+++ paid_orders (proposed)',
        '@@ -1,3 +1,3 @@',
        ' SELECT order_id, customer_id, amount',
        ' FROM orders',
        "-WHERE stauts = 'paid'",
        "+WHERE status = 'paid'",
      ].join('\n'),
    );
    expect(String(server.requests[0].body.messages[1].content)).toMatch(
      /Error: Binder Error: Referenced column "stauts"/,
    );
    const undo = new Y.UndoManager([doc.getMap('cells')], { trackedOrigins: new Set([origin]) });
    applyProposal(doc, proposal, user, {}, origin);
    expect(readCell(doc, ids.paid_orders)?.source).toContain("status = 'paid'");
    undo.undo();
    expect(readCell(doc, ids.paid_orders)?.source).toContain("stauts = 'paid'");
  });

  it('refuses a cell with nothing to fix', async () => {
    const { doc, ids } = demoDoc();
    await expect(fixCell(deps(), call(doc).call, { cellId: ids.paid_orders })).rejects.toMatchObject({
      code: 'bad_request',
    });
  });
});

describe('explain', () => {
  it('streams a plain-words explanation of a chain', async () => {
    const { doc, ids } = demoDoc();
    server.script({ type: 'content', content: 'Reads the orders table and keeps only paid orders.' });
    const { log, call: c } = call(doc);
    const text = await explainCell(deps(), c, { cellId: ids.paid_orders, chain: true });
    expect(text).toBe('Reads the orders table and keeps only paid orders.');
    expect(log.of('token').length).toBeGreaterThan(1);
    const body = server.requests[0].body;
    expect(body.response_format).toBeUndefined();
    expect(String(body.messages[1].content)).toContain('Explain the chain "orders" -> "paid_orders"');
  });
});
