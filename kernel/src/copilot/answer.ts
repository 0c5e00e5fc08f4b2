// The model's structured answer: the JSON schema sent as `response_format`, the zod schema that validates the answer
// on arrival, and the conversion of visual-step configs from cell names (what the model sees) to cell ids (what the
// notebook stores).
import { CELL_NAME_PATTERN, CellId, type CellKind, type CellSnapshot } from '@pipebook/shared';
import { z } from 'zod';
import type { ProposedCell } from './protocol.ts';

export const GENERATED_KINDS = ['sql', 'filter', 'select', 'join', 'aggregate', 'sort', 'limit', 'union'] as const;
export type GeneratedKind = (typeof GENERATED_KINDS)[number];

/** Strict-mode JSON schema: every property required, no extra properties; visual configs travel as JSON text. */
export const ANSWER_JSON_SCHEMA = {
  name: 'pipebook_cells',
  description: 'Notebook cells that answer the request.',
  strict: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['cells', 'note'],
    properties: {
      cells: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'kind', 'description', 'sql', 'config'],
          properties: {
            name: { type: 'string', description: 'New cell name: a SQL identifier (letters, digits, _).' },
            kind: { type: 'string', enum: [...GENERATED_KINDS] },
            description: { type: 'string', description: 'One line saying what the cell computes.' },
            sql: { type: 'string', description: 'For kind sql: one SELECT statement. Empty for visual steps.' },
            config: {
              type: ['string', 'null'],
              description: 'For visual steps: the step config as JSON text, inputs by cell name. null for sql.',
            },
          },
        },
      },
      note: { type: 'string', description: 'Anything the user should know (assumptions); may be empty.' },
    },
  },
} as const;

const modelCell = z.object({
  name: z.string().min(1).max(63),
  kind: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(GENERATED_KINDS)),
  description: z.string().max(500).default(''),
  sql: z.string().max(100_000).default(''),
  // Some endpoints return the config as an object despite the schema; accept both.
  config: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .nullable()
    .optional(),
});
export const modelAnswer = z.object({
  cells: z.array(modelCell).min(1, 'Return at least one cell.').max(10),
  note: z.string().max(2000).default(''),
});
export type ModelAnswer = z.infer<typeof modelAnswer>;
export type ModelCell = z.infer<typeof modelCell>;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const name = z.string().min(1);
const visualConfigs = {
  filter: z.object({
    input: name,
    combinator: z.enum(['and', 'or']).default('and'),
    conditions: z
      .array(
        z.object({
          column: z.string().min(1),
          op: z.enum([
            '=',
            '!=',
            '<',
            '<=',
            '>',
            '>=',
            'contains',
            'starts_with',
            'ends_with',
            'in',
            'not_in',
            'is_null',
            'is_not_null',
          ]),
          value: z.union([scalar, z.array(scalar)]).optional(),
        }),
      )
      .min(1),
  }),
  select: z.object({
    input: name,
    columns: z
      .array(
        z.object({
          column: z.string().min(1),
          as: z.string().optional(),
          cast: z
            .enum(['integer', 'bigint', 'double', 'decimal', 'varchar', 'boolean', 'date', 'timestamp'])
            .optional(),
        }),
      )
      .min(1),
  }),
  join: z.object({
    left: name,
    right: name,
    type: z.enum(['inner', 'left', 'right', 'full']).default('inner'),
    on: z.array(z.object({ left: z.string().min(1), right: z.string().min(1) })).min(1),
    columns: z
      .array(z.object({ side: z.enum(['left', 'right']), column: z.string().min(1), as: z.string().optional() }))
      .optional(),
  }),
  aggregate: z.object({
    input: name,
    groupBy: z.array(z.string()).default([]),
    measures: z
      .array(
        z.object({
          fn: z.enum(['count', 'count_distinct', 'sum', 'avg', 'min', 'max']),
          column: z.string().optional(),
          as: z.string().min(1),
        }),
      )
      .min(1),
  }),
  sort: z.object({
    input: name,
    keys: z
      .array(
        z.object({
          column: z.string().min(1),
          direction: z.enum(['asc', 'desc']).default('asc'),
          nulls: z.enum(['first', 'last']).optional(),
        }),
      )
      .min(1),
  }),
  limit: z.object({ input: name, count: z.number().int().min(0), offset: z.number().int().min(0).optional() }),
  union: z.object({ inputs: z.array(name).min(2), distinct: z.boolean().default(false) }),
} as const;

export class AnswerError extends Error {
  constructor(
    readonly check: 'schema' | 'names',
    message: string,
    readonly cell?: string,
  ) {
    super(message);
  }
}

/** Parses the model's text as JSON (tolerating a ```json fence some models add) and validates it. */
export function parseAnswer(text: string): ModelAnswer {
  let raw = text.trim();
  const fence = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(raw);
  if (fence) raw = fence[1];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    // Models without structured output sometimes wrap the object in prose: try the outermost braces.
    const start = raw.indexOf('{');
    const end = raw.lastIndexOf('}');
    const inner = start !== -1 && end > start ? raw.slice(start, end + 1) : undefined;
    try {
      if (inner === undefined || inner === raw) throw err;
      json = JSON.parse(inner);
    } catch {
      const head = raw.length > 120 ? `${raw.slice(0, 120)}…` : raw;
      throw new AnswerError('schema', `The answer is not valid JSON (${(err as Error).message}): ${head}`);
    }
  }
  const result = modelAnswer.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new AnswerError(
      'schema',
      `The answer does not match the schema at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return result.data;
}

function mapInputs(kind: GeneratedKind, config: Record<string, unknown>, idOf: (n: string) => string | undefined) {
  const resolve = (n: unknown, field: string): string => {
    const id = idOf(String(n));
    if (!id) throw new AnswerError('names', `${field} refers to "${String(n)}", which is not a cell of the notebook.`);
    return id;
  };
  const out = { ...config };
  if (kind === 'join') {
    out.left = resolve(config.left, 'left');
    out.right = resolve(config.right, 'right');
  } else if (kind === 'union') {
    out.inputs = (config.inputs as unknown[]).map((x) => resolve(x, 'inputs'));
  } else {
    out.input = resolve(config.input, 'input');
  }
  return out;
}

/**
 * Turns the model's cells into notebook cells with fresh ids. `existing` are the notebook's cells (visual inputs
 * are looked up there by name, and earlier cells of the same answer too). `keep` pins the id, name and kind of the
 * cell being fixed.
 */
export function toProposedCells(
  answer: ModelAnswer,
  existing: CellSnapshot[],
  opts: { keep?: CellSnapshot; header?: (c: ModelCell) => string } = {},
): ProposedCell[] {
  const ids = new Map<string, string>();
  for (const c of existing) ids.set(c.name.toLowerCase(), c.id);
  const taken = new Set(existing.filter((c) => c.id !== opts.keep?.id).map((c) => c.name.toLowerCase()));
  const cells: ProposedCell[] = [];
  const list = opts.keep ? answer.cells.slice(0, 1) : answer.cells;
  for (const c of list) {
    const cellName = opts.keep ? opts.keep.name : c.name;
    if (!CELL_NAME_PATTERN.test(cellName))
      throw new AnswerError(
        'names',
        `"${cellName}" is not a valid cell name (letters, digits, _; not starting with a digit).`,
        cellName,
      );
    if (taken.has(cellName.toLowerCase()))
      throw new AnswerError('names', `A cell named "${cellName}" already exists; choose a new name.`, cellName);
    if (opts.keep && c.kind !== opts.keep.kind)
      throw new AnswerError('names', `Keep the cell's kind "${opts.keep.kind}".`, cellName);
    const id = opts.keep?.id ?? CellId.create();
    let source = '';
    let config: Record<string, unknown> = {};
    if (c.kind === 'sql') {
      const sql = c.sql.trim().replace(/;\s*$/, '');
      if (!sql) throw new AnswerError('names', 'A sql cell needs a SELECT statement in "sql".', cellName);
      source = opts.header ? `${opts.header(c)}${sql}` : sql;
    } else {
      let rawConfig: unknown = c.config;
      if (typeof rawConfig === 'string') {
        try {
          rawConfig = JSON.parse(rawConfig);
        } catch {
          throw new AnswerError('schema', `The config of "${cellName}" is not valid JSON.`, cellName);
        }
      }
      const parsed = visualConfigs[c.kind].safeParse(rawConfig ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AnswerError(
          'schema',
          `The ${c.kind} config of "${cellName}" is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
          cellName,
        );
      }
      config = mapInputs(c.kind, parsed.data as Record<string, unknown>, (n) => ids.get(n.toLowerCase()));
    }
    ids.set(cellName.toLowerCase(), id);
    taken.add(cellName.toLowerCase());
    cells.push({ id, name: cellName, kind: c.kind as CellKind, source, config, description: c.description.trim() });
  }
  return cells;
}
