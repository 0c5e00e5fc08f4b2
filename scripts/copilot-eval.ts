// Scores the configured Copilot endpoint on the evaluation set (docs/copilot-eval.md): how many generated cells
// pass verification, run, and return the expected rows over the demo data.
//
//   OPENAI_BASE_URL=... OPENAI_API_KEY=... PIPEBOOK_COPILOT_MODEL=... npx tsx scripts/copilot-eval.ts [--orders N] [--only e01,e05] [--json out.json]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { copilotCompiler } from '../kernel/src/copilot/compiler.ts';
import { isConfigured, loadCopilotConfig } from '../kernel/src/copilot/config.ts';
import { type EvalResult, runEval } from '../kernel/src/copilot/eval.ts';
import { EVAL_SET } from '../kernel/src/copilot/eval-set.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

export function formatResults(results: EvalResult[], model: string): string {
  const lines = [`Copilot evaluation: ${model}`, '', 'id   verified attempts ran correct seconds  request'];
  for (const r of results) {
    lines.push(
      `${r.id}  ${(r.verified ? 'yes' : 'no').padEnd(8)} ${String(r.attempts).padEnd(8)} ${(r.ran ? 'yes' : 'no').padEnd(3)} ${(r.correct ? 'yes' : 'no').padEnd(7)} ${r.seconds.toFixed(1).padStart(7)}  ${r.request.slice(0, 60)}${r.error ? `\n       ${r.error.slice(0, 110)}` : ''}`,
    );
  }
  const n = results.length;
  const count = (f: (r: EvalResult) => boolean) => results.filter(f).length;
  lines.push(
    '',
    `verified ${count((r) => r.verified)}/${n}   ran ${count((r) => r.ran)}/${n}   correct rows ${count((r) => r.correct)}/${n}`,
  );
  return lines.join('\n');
}

async function main() {
  const home = path.resolve(process.env.PIPEBOOK_HOME ?? '.pipebook');
  const config = loadCopilotConfig(process.env, home);
  if (!isConfigured(config)) {
    console.error(`The Copilot is not configured: ${config.missing}`);
    process.exit(2);
  }
  const only = arg('only')?.split(',');
  const cases = only ? EVAL_SET.filter((c) => only.includes(c.id)) : EVAL_SET;
  const results = await runEval({
    config,
    compiler: copilotCompiler,
    cases,
    orders: Number(arg('orders') ?? 20_000),
    onResult: (r) => console.error(`${r.id} ${r.correct ? 'correct' : r.ran ? 'ran, wrong rows' : 'failed'}`),
  });
  console.log(formatResults(results, config.model));
  const out = arg('json');
  if (out)
    writeFileSync(out, JSON.stringify({ model: config.model, date: new Date().toISOString(), results }, null, 2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
