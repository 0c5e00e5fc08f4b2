import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_FILES, ensureDemoData } from './demo-data.ts';
import { DuckDBWarehouse } from './engines/duckdb.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function generate(orders: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipebook-demo-'));
  dirs.push(dir);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const wh = await DuckDBWarehouse.open({ path: path.join(dir, 'w.duckdb'), allowedDirectories: [data] });
  const created = await ensureDemoData(wh, { orders, dataDir: data });
  return { wh, data, created };
}

describe('demo data', () => {
  it('generates the tables the demo notebook reads, the same rows on every machine, once', async () => {
    const a = await generate(8000);
    const b = await generate(8000);
    try {
      expect(a.created).toBe(true);
      expect(await ensureDemoData(a.wh, { orders: 8000, dataDir: a.data })).toBe(false);
      const counts = await a.wh.readAll(
        'SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers), (SELECT count(*) FROM products)',
      );
      expect(counts.rowsJs[0].map(Number)).toEqual([8000, 1000, 500]);
      const cols = await a.wh.readAll(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN ('orders', 'customers')",
      );
      const names = cols.rowsJson.map((r) => `${r[0]}.${r[1]}`);
      for (const c of ['order_id', 'customer_id', 'order_date', 'status', 'amount'])
        expect(names).toContain(`orders.${c}`);
      for (const c of ['customer_id', 'name', 'country']) expect(names).toContain(`customers.${c}`);
      const statuses = await a.wh.readAll('SELECT DISTINCT status FROM orders ORDER BY 1');
      expect(statuses.rowsJson.map((r) => r[0])).toEqual(['cancelled', 'completed', 'pending', 'returned']);
      const fingerprint = 'SELECT sum(hash(order_id, customer_id, status, amount)) FROM orders';
      expect((await a.wh.readAll(fingerprint)).rowsJson).toEqual((await b.wh.readAll(fingerprint)).rowsJson);
      for (const f of DEMO_FILES) expect(fs.existsSync(path.join(a.data, f)), f).toBe(true);
      const csv = await a.wh.readAll(`SELECT count(*) FROM read_csv('${path.join(a.data, 'demo/orders_sample.csv')}')`);
      expect(Number(csv.rowsJs[0][0])).toBe(1000);
    } finally {
      await a.wh.close();
      await b.wh.close();
    }
  });
});
