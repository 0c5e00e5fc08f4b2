// Notebook templates. The demo reads the demo tables the kernel generates on first start
// (customers, orders, products; see kernel/src/demo-data.ts).
import { FILE_FORMAT, FILE_VERSION, type PipebookFile } from './file-format.ts';

export const DEMO_TABLES = ['customers', 'orders', 'products'] as const;

export function emptyNotebookFile(title = 'Untitled notebook'): PipebookFile {
  return { format: FILE_FORMAT, version: FILE_VERSION, title, defaultEngine: 'duckdb', cells: [] };
}

/** source -> clean -> join -> aggregate -> target, over the demo data. */
export function demoNotebookFile(title = 'Demo: revenue by country'): PipebookFile {
  return {
    format: FILE_FORMAT,
    version: FILE_VERSION,
    title,
    defaultEngine: 'duckdb',
    cells: [
      {
        id: 'demo_intro',
        name: 'intro',
        kind: 'markdown',
        source:
          '# Revenue by country\nOrders are cleaned, joined to customers, aggregated per country and written to a table.',
        config: {},
      },
      { id: 'demo_orders', name: 'orders', kind: 'source', source: '', config: { type: 'table', table: 'orders' } },
      {
        id: 'demo_customers',
        name: 'customers',
        kind: 'source',
        source: '',
        config: { type: 'table', table: 'customers' },
      },
      {
        id: 'demo_orders_clean',
        name: 'orders_clean',
        kind: 'sql',
        source:
          "SELECT order_id, customer_id, order_date, amount\nFROM orders\nWHERE status <> 'cancelled' AND amount > 0",
        config: {},
      },
      {
        id: 'demo_orders_customers',
        name: 'orders_customers',
        kind: 'join',
        source: '',
        config: {
          left: 'demo_orders_clean',
          right: 'demo_customers',
          type: 'inner',
          on: [{ left: 'customer_id', right: 'customer_id' }],
        },
      },
      {
        id: 'demo_revenue_by_country',
        name: 'revenue_by_country',
        kind: 'aggregate',
        source: '',
        config: {
          input: 'demo_orders_customers',
          groupBy: ['country'],
          measures: [
            { fn: 'sum', column: 'amount', as: 'revenue' },
            { fn: 'count', as: 'order_count' },
          ],
        },
      },
      {
        id: 'demo_top_countries',
        name: 'top_countries',
        kind: 'sql',
        source: 'SELECT country, revenue, order_count\nFROM revenue_by_country\nORDER BY revenue DESC\nLIMIT 10',
        config: {},
      },
      {
        id: 'demo_report',
        name: 'revenue_report',
        kind: 'target',
        source: '',
        config: {
          input: 'demo_revenue_by_country',
          type: 'table',
          table: 'revenue_by_country_report',
          mode: 'replace',
        },
      },
    ],
  };
}
