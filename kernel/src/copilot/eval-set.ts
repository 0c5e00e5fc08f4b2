// The Copilot evaluation set: requests in plain words over the demo tables (customers, orders, products; see
// kernel/src/demo-data.ts) with SQL that answers each. scripts/copilot-eval.ts scores an endpoint on it, and
// docs/copilot-eval.md lists the same cases (a test keeps the two in step).

export interface EvalCase {
  id: string;
  request: string;
  /** SQL that answers the request over the demo tables. */
  sql: string;
  /** Row order is part of the answer (top-N, time series). */
  ordered?: boolean;
}

export const EVAL_SET: EvalCase[] = [
  { id: 'e01', request: 'How many customers are there?', sql: 'SELECT count(*) AS customers FROM customers' },
  {
    id: 'e02',
    request: 'Number of orders per order status.',
    sql: 'SELECT status, count(*) AS orders FROM orders GROUP BY status',
  },
  {
    id: 'e03',
    request: 'Total revenue (sum of amount) of completed orders.',
    sql: "SELECT sum(amount) AS revenue FROM orders WHERE status = 'completed'",
  },
  {
    id: 'e04',
    request: 'Revenue of completed orders per customer country.',
    sql: `SELECT c.country, sum(o.amount) AS revenue
FROM orders o JOIN customers c USING (customer_id)
WHERE o.status = 'completed'
GROUP BY c.country`,
  },
  {
    id: 'e05',
    request: 'The 5 products with the highest revenue from completed orders: product name and revenue, highest first.',
    sql: `SELECT p.name, sum(o.amount) AS revenue
FROM orders o JOIN products p USING (product_id)
WHERE o.status = 'completed'
GROUP BY p.product_id, p.name
ORDER BY revenue DESC, p.name
LIMIT 5`,
    ordered: true,
  },
  {
    id: 'e06',
    request: 'Number of customers per segment.',
    sql: 'SELECT segment, count(*) AS customers FROM customers GROUP BY segment',
  },
  {
    id: 'e07',
    request: 'Average amount of completed orders per product category, rounded to 2 decimals.',
    sql: `SELECT p.category, round(avg(o.amount), 2) AS avg_amount
FROM orders o JOIN products p USING (product_id)
WHERE o.status = 'completed'
GROUP BY p.category`,
  },
  {
    id: 'e08',
    request: 'How many customers placed at least two orders (any status)?',
    sql: `SELECT count(*) AS customers
FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) >= 2)`,
  },
  {
    id: 'e09',
    request:
      'Revenue of completed orders per month of 2024, as the first day of the month and revenue, in month order.',
    sql: `SELECT date_trunc('month', order_date) AS month, sum(amount) AS revenue
FROM orders
WHERE status = 'completed' AND order_date >= DATE '2024-01-01' AND order_date < DATE '2025-01-01'
GROUP BY month
ORDER BY month`,
    ordered: true,
  },
  {
    id: 'e10',
    request: 'Percentage of all orders that were cancelled, rounded to 1 decimal.',
    sql: "SELECT round(100.0 * count(*) FILTER (WHERE status = 'cancelled') / count(*), 1) AS cancelled_pct FROM orders",
  },
  {
    id: 'e11',
    request: 'Highest product price in each product category.',
    sql: 'SELECT category, max(price) AS max_price FROM products GROUP BY category',
  },
  {
    id: 'e12',
    request: 'How many customers have never placed an order?',
    sql: `SELECT count(*) AS customers
FROM customers c
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)`,
  },
  {
    id: 'e13',
    request: 'How many orders have an amount of zero?',
    sql: 'SELECT count(*) AS orders FROM orders WHERE amount = 0',
  },
  {
    id: 'e14',
    request:
      'The 10 customers with the highest revenue from completed orders: customer id, name and revenue, highest first.',
    sql: `SELECT c.customer_id, c.name, sum(o.amount) AS revenue
FROM orders o JOIN customers c USING (customer_id)
WHERE o.status = 'completed'
GROUP BY c.customer_id, c.name
ORDER BY revenue DESC, c.customer_id
LIMIT 10`,
    ordered: true,
  },
  {
    id: 'e15',
    request: 'Number of distinct products ordered per product category.',
    sql: `SELECT p.category, count(DISTINCT o.product_id) AS products
FROM orders o JOIN products p USING (product_id)
GROUP BY p.category`,
  },
  {
    id: 'e16',
    request: 'Revenue of completed orders per calendar year (year as a number).',
    sql: `SELECT year(order_date) AS year, sum(amount) AS revenue
FROM orders WHERE status = 'completed'
GROUP BY year`,
  },
  {
    id: 'e17',
    request: 'Average quantity per order for each order status, rounded to 2 decimals.',
    sql: 'SELECT status, round(avg(quantity), 2) AS avg_quantity FROM orders GROUP BY status',
  },
  {
    id: 'e18',
    request: 'How many customers signed up in 2022?',
    sql: 'SELECT count(*) AS customers FROM customers WHERE year(signup_date) = 2022',
  },
  {
    id: 'e19',
    request: 'Revenue of completed orders per customer segment.',
    sql: `SELECT c.segment, sum(o.amount) AS revenue
FROM orders o JOIN customers c USING (customer_id)
WHERE o.status = 'completed'
GROUP BY c.segment`,
  },
  {
    id: 'e20',
    request:
      'Revenue of completed orders per country, counting only customers who placed at least two orders (any status).',
    sql: `WITH repeat_customers AS (
  SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) >= 2
)
SELECT c.country, sum(o.amount) AS revenue
FROM orders o
JOIN customers c USING (customer_id)
JOIN repeat_customers r USING (customer_id)
WHERE o.status = 'completed'
GROUP BY c.country`,
  },
];
