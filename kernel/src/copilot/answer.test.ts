import type { CellId, CellSnapshot } from '@pipebook/shared';
import { describe, expect, it } from 'vitest';
import { AnswerError, parseAnswer, toProposedCells } from './answer.ts';

const existing: CellSnapshot[] = [{ id: 'c_orders' as CellId, name: 'orders', kind: 'source', source: '', config: {} }];

describe('parseAnswer', () => {
  it('accepts the structured answer, with or without a code fence', () => {
    const text = JSON.stringify({
      cells: [{ name: 'a', kind: 'sql', description: 'd', sql: 'SELECT 1', config: null }],
      note: '',
    });
    expect(parseAnswer(text).cells[0].name).toBe('a');
    expect(parseAnswer(`\`\`\`json\n${text}\n\`\`\``).cells[0].name).toBe('a');
    expect(parseAnswer(`Here are the cells:\n${text}\nHope this helps.`).cells[0].name).toBe('a');
    expect(parseAnswer(text.replace('"sql"', '"SQL"').replace('"kind":"SQL"', '"kind":" SQL "')).cells[0].kind).toBe(
      'sql',
    );
  });
  it('names what is wrong', () => {
    expect(() => parseAnswer('{"cells": [')).toThrow(/not valid JSON/);
    expect(() => parseAnswer('{"cells": []}')).toThrow(/cells: Return at least one cell/);
    expect(() => parseAnswer('{"cells": [{"name": "a", "kind": "python"}]}')).toThrow(/cells.0.kind/);
  });
});

describe('toProposedCells', () => {
  it('resolves visual inputs by name, including earlier cells of the same answer', () => {
    const answer = parseAnswer(
      JSON.stringify({
        cells: [
          {
            name: 'big',
            kind: 'filter',
            description: '',
            sql: '',
            config: JSON.stringify({ input: 'orders', conditions: [{ column: 'amount', op: '>', value: 10 }] }),
          },
          { name: 'top', kind: 'limit', description: '', sql: '', config: { input: 'big', count: 5 } },
        ],
        note: '',
      }),
    );
    const [big, top] = toProposedCells(answer, existing);
    expect(big.config).toEqual({
      input: 'c_orders',
      combinator: 'and',
      conditions: [{ column: 'amount', op: '>', value: 10 }],
    });
    expect(top.config).toEqual({ input: big.id, count: 5 });
  });
  it('strips a trailing semicolon and refuses empty SQL, bad and taken names', () => {
    const one = (name: string, sql: string) =>
      toProposedCells(
        parseAnswer(JSON.stringify({ cells: [{ name, kind: 'sql', description: '', sql, config: null }], note: '' })),
        existing,
      );
    expect(one('ok', 'SELECT 1;  ')[0].source).toBe('SELECT 1');
    expect(() => one('ok', '  ')).toThrow(AnswerError);
    expect(() => one('1bad', 'SELECT 1')).toThrow(/not a valid cell name/);
    expect(() => one('ORDERS', 'SELECT 1')).toThrow(/already exists/);
  });
});
