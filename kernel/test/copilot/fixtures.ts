// Factories for Copilot tests: a real embedded DuckDB engine with small demo tables, a notebook Y.Doc, the
// OpenAI-compatible test server, a Copilot config pointing at it, and routes served as the kernel mounts them.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addCell, type CellId, initNotebook } from '@pipebook/shared';
import express from 'express';
import * as Y from 'yjs';
import type { CopilotConfig } from '../../src/copilot/config.ts';
import type { CopilotEvent } from '../../src/copilot/protocol.ts';
import { DuckDBEngine, DuckDBWarehouse } from '../../src/engines/duckdb.ts';
import {
  type OpenAiTestServer,
  type OpenAiTestServerOptions,
  startOpenAiTestServer,
} from '../servers/openai/server.ts';
import { suiteFixture } from '../suite-fixture.ts';

export const DEMO_SQL = [
  `CREATE TABLE customers AS SELECT i AS customer_id, 'Customer ' || i AS name,
     ['DE','FR','US','JP','BR'][1 + (i % 5)] AS country, DATE '2024-01-01' + i::INTEGER AS signup_date
   FROM range(1, 41) t(i)`,
  `CREATE TABLE products AS SELECT i AS product_id, 'Product ' || i AS name,
     ['books','games','tools'][1 + (i % 3)] AS category, (5 + i * 2.5)::DECIMAL(10,2) AS price
   FROM range(1, 13) t(i)`,
  `CREATE TABLE orders AS SELECT i AS order_id, 1 + (i * 7) % 40 AS customer_id, 1 + (i * 5) % 12 AS product_id,
     DATE '2024-03-01' + (i % 90)::INTEGER AS order_date, 1 + i % 4 AS quantity,
     ((1 + i % 4) * (5 + (1 + (i * 5) % 12) * 2.5))::DECIMAL(10,2) AS amount,
     CASE WHEN i % 11 = 0 THEN 'cancelled' ELSE 'paid' END AS status
   FROM range(1, 201) t(i)`,
];

export interface Warehouse {
  warehouse: DuckDBWarehouse;
  engine: DuckDBEngine;
  dir: string;
  close(): Promise<void>;
}

export async function openDemoWarehouse(): Promise<Warehouse> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipebook-copilot-'));
  const warehouse = await DuckDBWarehouse.open({ path: ':memory:', allowedDirectories: [dir] });
  for (const sql of DEMO_SQL) await warehouse.run(sql);
  const engine = new DuckDBEngine(warehouse);
  return {
    warehouse,
    engine,
    dir,
    close: async () => {
      await warehouse.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The demo warehouse every test in the file shares: opened in beforeAll, closed in afterAll. */
export function withDemoWarehouse(): Warehouse {
  return suiteFixture('the demo warehouse', openDemoWarehouse, (wh) => wh.close());
}

/** The OpenAI-compatible test server every test in the file shares: started in beforeAll, closed in afterAll. */
export function withModelServer(opts: OpenAiTestServerOptions = {}): OpenAiTestServer {
  return suiteFixture(
    'the model test server',
    () => startOpenAiTestServer(opts),
    (server) => server.close(),
  );
}

/** Serves the routes `mount` adds under /api, as the kernel mounts them, on a free loopback port. */
export async function serveApi(mount: (api: express.Router) => void): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  const api = express.Router();
  mount(api);
  app.use('/api', api);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Every Copilot event of an SSE answer, once the answer has ended. */
export async function readCopilotEvents(res: Response): Promise<CopilotEvent[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) => block.split('\n').find((l) => l.startsWith('data: ')))
    .filter((l): l is string => !!l)
    .map((l) => JSON.parse(l.slice(6)) as CopilotEvent);
}

/** A notebook with source cells over the demo tables and one SQL cell. */
export function demoDoc(): { doc: Y.Doc; ids: Record<string, CellId> } {
  const doc = new Y.Doc();
  initNotebook(doc, { title: 'Copilot test' });
  const ids: Record<string, CellId> = {};
  ids.orders = addCell(doc, { kind: 'source', name: 'orders', config: { type: 'table', table: 'orders' } });
  ids.customers = addCell(doc, { kind: 'source', name: 'customers', config: { type: 'table', table: 'customers' } });
  ids.paid_orders = addCell(doc, {
    kind: 'sql',
    name: 'paid_orders',
    source: "SELECT order_id, customer_id, amount FROM orders WHERE status = 'paid'",
  });
  return { doc, ids };
}

export function testConfig(server: OpenAiTestServer, over: Partial<CopilotConfig> = {}): CopilotConfig {
  return {
    baseURL: server.baseURL,
    apiKey: 'test-key',
    model: 'test-model',
    timeoutMs: 5_000,
    maxRetries: 2,
    maxAttempts: 3,
    promptTokens: 12_000,
    ...over,
  };
}

export { startOpenAiTestServer };

/** Collects events; `of(type)` filters them with the right type. */
export function eventLog() {
  const events: CopilotEvent[] = [];
  return {
    events,
    emit: (e: CopilotEvent) => events.push(e),
    of<T extends CopilotEvent['type']>(type: T): Extract<CopilotEvent, { type: T }>[] {
      return events.filter((e): e is Extract<CopilotEvent, { type: T }> => e.type === type);
    },
  };
}

/** A model answer in the structured-output shape. */
export function answer(
  cells: Array<{ name: string; sql?: string; kind?: string; config?: unknown; description?: string }>,
  note = '',
) {
  return {
    cells: cells.map((c) => ({
      name: c.name,
      kind: c.kind ?? 'sql',
      description: c.description ?? `Computes ${c.name}`,
      sql: c.sql ?? '',
      config: c.config === undefined ? null : JSON.stringify(c.config),
    })),
    note,
  };
}
