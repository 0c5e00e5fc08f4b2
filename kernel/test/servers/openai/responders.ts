// Ready-made responders for the OpenAI-compatible test server.
import { EVAL_SET } from '../../../src/copilot/eval-set.ts';
import type { ChatRequestBody, Reply, Responder } from './server.ts';

function text(body: ChatRequestBody, i: number): string {
  const c = body.messages[i]?.content;
  return typeof c === 'string' ? c : '';
}

/**
 * Answers each evaluation-set request with its reference SQL (so the scoring script and the UI can be tried
 * offline), explain requests with a short text, and anything else with a cell saying there is no scripted answer.
 * `override` replaces the answer SQL for chosen case ids (to test that scoring notices wrong answers).
 */
export function evalSetResponder(override: Record<string, string> = {}): Responder {
  let n = 0;
  return (body): Reply => {
    const ask = text(body, 1);
    if (!body.response_format) {
      return { type: 'content', content: 'This cell reads its input, keeps the rows it needs and returns the result.' };
    }
    const request = /Request: ([^\n]*)/.exec(ask)?.[1]?.trim() ?? '';
    const hit = EVAL_SET.find((c) => c.request === request);
    n++;
    const sql = hit
      ? (override[hit.id] ?? hit.sql)
      : "SELECT 'The test model has no scripted answer for this request.' AS message";
    return {
      type: 'content',
      chunkSize: 24,
      content: {
        cells: [
          {
            name: `answer_${hit?.id ?? 'unknown'}_${n}`,
            kind: 'sql',
            description: hit ? hit.request : 'No scripted answer',
            sql,
            config: null,
          },
        ],
        note: '',
      },
    };
  };
}
