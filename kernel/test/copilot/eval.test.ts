// The scoring script's core against the test server: reference answers score, wrong rows and broken SQL do not;
// and the documented evaluation set is the one the script uses.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatResults } from '../../../scripts/copilot-eval.ts';
import { copilotCompiler } from '../../src/copilot/compiler.ts';
import { runEval, sameRows } from '../../src/copilot/eval.ts';
import { EVAL_SET } from '../../src/copilot/eval-set.ts';
import { evalSetResponder } from '../servers/openai/responders.ts';
import { testConfig, withModelServer } from './fixtures.ts';

const server = withModelServer({
  responder: evalSetResponder({
    e13: 'SELECT count(*) AS orders FROM orders WHERE amount > 0',
    e12: 'SELECT * FROM clients',
  }),
});

describe('copilot evaluation', () => {
  it('scores an endpoint: runs every generated cell and compares its rows with the reference', async () => {
    const results = await runEval({ config: testConfig(server), compiler: copilotCompiler, orders: 2_000 });
    expect(results).toHaveLength(20);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(byId.e13).toMatchObject({ verified: true, ran: true, correct: false });
    expect(byId.e12).toMatchObject({ verified: false, attempts: 3, ran: false, correct: false });
    expect(byId.e12.error).toMatch(/clients/);
    expect(results.filter((r) => r.correct).map((r) => r.id)).toEqual(
      EVAL_SET.map((c) => c.id).filter((id) => id !== 'e12' && id !== 'e13'),
    );
    expect(formatResults(results, 'test-model')).toMatch(/verified 19\/20 {3}ran 19\/20 {3}correct rows 18\/20/);
  });

  it('compares rows regardless of column names and order, to 2 decimals, in order only when asked', () => {
    expect(sameRows([['DE', '10.004']], [[10, 'DE']])).toBe(true);
    expect(sameRows([['a'], ['b']], [['b'], ['a']])).toBe(true);
    expect(sameRows([['a'], ['b']], [['b'], ['a']], true)).toBe(false);
    expect(sameRows([['2024-01-01 00:00:00']], [['2024-01-01']])).toBe(true);
    expect(sameRows([['a', 1]], [['a']])).toBe(false);
  });

  it('documents the same twenty requests and SQL in docs/copilot-eval.md', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/copilot-eval.md'), 'utf8');
    expect(EVAL_SET).toHaveLength(20);
    for (const c of EVAL_SET) {
      expect(doc).toContain(c.request);
      expect(doc).toContain(`\`\`\`sql\n${c.sql}\n\`\`\``);
    }
  });
});
