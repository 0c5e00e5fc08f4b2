// The kernel's HTTP + SSE protocol: every request, response and run event that crosses between the browser (through
// the collaboration server's proxy) and the kernel. Both sides import these schemas; the kernel validates requests
// with them at its edge, and the client may validate responses with them. Bump KERNEL_PROTOCOL_VERSION on any
// incompatible change.
import { z } from 'zod';
import { RUN_STATUSES } from '../notebook/schema.ts';

export const KERNEL_PROTOCOL_VERSION = 1;

/** Header every kernel response carries, so a client can tell which protocol it is talking to. */
export const KERNEL_PROTOCOL_HEADER = 'x-pipebook-kernel-protocol';

// ---- shared pieces ----

export const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  cellId: z.string().optional(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});

/** Every non-2xx JSON answer of the kernel. */
export const errorResponseSchema = z.object({ error: errorBodySchema });
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

export const columnInfoSchema = z.object({ name: z.string(), type: z.string() });
export const runUserSchema = z.object({ id: z.string(), name: z.string() });

// ---- POST /api/runs ----

/**
 * What to run, relative to `cellId`:
 * - `cell`: the cell alone (its upstream is read from fresh materialised results, or inlined when there are none);
 * - `upstream`: the cell and every cell it reads from, each materialised;
 * - `downstream`: the cell and every cell that reads from it;
 * - `all`: every cell of the notebook (`cellId` not needed).
 */
export const RUN_SCOPES = ['cell', 'upstream', 'downstream', 'all'] as const;
export type RunScope = (typeof RUN_SCOPES)[number];

export const runRequestSchema = z
  .object({
    notebookId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a notebook id'),
    cellId: z.string().min(1).max(64).optional(),
    scope: z.enum(RUN_SCOPES).default('cell'),
    /** Recompute even the cells whose inputs are unchanged since their last successful run. */
    force: z.boolean().default(false),
  })
  .refine((r) => r.scope === 'all' || r.cellId !== undefined, {
    message: 'cellId is required unless scope is "all"',
    path: ['cellId'],
  });
export type RunRequest = z.input<typeof runRequestSchema>;

/** What the plan does with each cell it touches: compute it, or keep its fresh result. */
export const CELL_ACTIONS = ['run', 'reuse'] as const;
export type CellAction = (typeof CELL_ACTIONS)[number];

export const plannedCellSchema = z.object({
  cellId: z.string(),
  name: z.string(),
  action: z.enum(CELL_ACTIONS),
  engine: z.string(),
  inputHash: z.string(),
});
export type PlannedCell = z.infer<typeof plannedCellSchema>;

export const runCreatedSchema = z.object({
  protocolVersion: z.literal(KERNEL_PROTOCOL_VERSION),
  runId: z.string(),
  notebookId: z.string(),
  scope: z.enum(RUN_SCOPES),
  /** Cells in execution (topological) order. */
  cells: z.array(plannedCellSchema),
});
export type RunCreated = z.infer<typeof runCreatedSchema>;

// ---- run events (GET /api/runs/:runId/events, SSE; each SSE `data:` is one RunEvent as JSON, `id:` its seq) ----

export const RUN_OUTCOMES = ['done', 'error', 'cancelled'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** How a cell ended in this run. `reused` = its result was fresh and kept; `blocked` = an upstream cell failed. */
export const CELL_OUTCOMES = ['done', 'reused', 'error', 'cancelled', 'blocked'] as const;
export type CellOutcome = (typeof CELL_OUTCOMES)[number];

const eventBase = { runId: z.string(), seq: z.number().int(), at: z.number() };

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run_queued'), ...eventBase, notebookId: z.string(), cells: z.array(plannedCellSchema) }),
  z.object({ type: z.literal('cell_queued'), ...eventBase, cellId: z.string() }),
  z.object({ type: z.literal('cell_started'), ...eventBase, cellId: z.string(), engine: z.string() }),
  z.object({
    type: z.literal('cell_progress'),
    ...eventBase,
    cellId: z.string(),
    fraction: z.number().optional(),
    rows: z.number().optional(),
    message: z.string().optional(),
  }),
  z.object({
    type: z.literal('cell_finished'),
    ...eventBase,
    cellId: z.string(),
    status: z.enum(CELL_OUTCOMES),
    rowCount: z.number().optional(),
    columns: z.array(columnInfoSchema).optional(),
    error: errorBodySchema.optional(),
    blockedBy: z.string().optional(),
    durationMs: z.number().optional(),
  }),
  z.object({ type: z.literal('run_finished'), ...eventBase, status: z.enum(RUN_OUTCOMES) }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type RunEventType = RunEvent['type'];

/** The SSE event name used for every run event (so `EventSource.addEventListener('run', ...)` gets them all). */
export const RUN_EVENT_SSE_NAME = 'run';

// ---- GET /api/runs/:runId ----

export const RUN_STATES = ['queued', 'running', 'done', 'error', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const runCellStateSchema = z.object({
  cellId: z.string(),
  action: z.enum(CELL_ACTIONS),
  status: z.enum(RUN_STATUSES),
  rowCount: z.number().optional(),
  error: errorBodySchema.optional(),
});

export const runInfoSchema = z.object({
  runId: z.string(),
  notebookId: z.string(),
  scope: z.enum(RUN_SCOPES),
  cellId: z.string().optional(),
  state: z.enum(RUN_STATES),
  by: runUserSchema,
  createdAt: z.number(),
  finishedAt: z.number().optional(),
  cells: z.array(runCellStateSchema),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

// ---- POST /api/runs/:runId/cancel ----

export const cancelResponseSchema = z.object({ runId: z.string(), state: z.enum(RUN_STATES) });
export type CancelResponse = z.infer<typeof cancelResponseSchema>;

// ---- GET /api/results/:notebookId/:cellId?offset&limit&format=json|arrow ----

export const RESULT_FORMATS = ['json', 'arrow'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];
export const RESULT_PAGE_MAX = 10_000;
export const RESULT_PAGE_DEFAULT = 100;

export const resultQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(0).max(RESULT_PAGE_MAX).default(RESULT_PAGE_DEFAULT),
  format: z.enum(RESULT_FORMATS).default('json'),
});
export type ResultQuery = z.infer<typeof resultQuerySchema>;

/**
 * A page of a cell's last materialised result. Values are JSON: integers and decimals as numbers while a double holds
 * them exactly (otherwise strings), dates and timestamps as ISO-like strings, nested types as JSON. The Arrow format carries the same page as an
 * Arrow IPC stream (`application/vnd.apache.arrow.stream`) with the metadata below in `x-pipebook-*` headers.
 */
export const resultPageSchema = z.object({
  notebookId: z.string(),
  cellId: z.string(),
  runId: z.string(),
  inputHash: z.string(),
  engine: z.string(),
  columns: z.array(columnInfoSchema),
  rowCount: z.number(),
  offset: z.number(),
  limit: z.number(),
  rows: z.array(z.array(z.unknown())),
});
export type ResultPage = z.infer<typeof resultPageSchema>;

export const ARROW_CONTENT_TYPE = 'application/vnd.apache.arrow.stream';
export const RESULT_HEADERS = {
  rowCount: 'x-pipebook-row-count',
  runId: 'x-pipebook-run-id',
  inputHash: 'x-pipebook-input-hash',
  offset: 'x-pipebook-offset',
} as const;

// ---- GET /api/engines, GET /api/engines/:name/catalog ----

export const engineInfoSchema = z.object({
  name: z.string(),
  type: z.enum(['duckdb', 'snowflake', 'databricks', 'livy', 'databricks-cluster']),
  dialect: z.enum(['duckdb', 'snowflake', 'databricks']),
  label: z.string(),
});
export type EngineInfo = z.infer<typeof engineInfoSchema>;
export const enginesResponseSchema = z.object({ engines: z.array(engineInfoSchema) });
export type EnginesResponse = z.infer<typeof enginesResponseSchema>;

export const catalogResponseSchema = z.object({
  engine: z.string(),
  tables: z.array(
    z.object({
      catalog: z.string().optional(),
      schema: z.string(),
      name: z.string(),
      columns: z.array(columnInfoSchema),
    }),
  ),
});
export type CatalogResponse = z.infer<typeof catalogResponseSchema>;
export type CatalogTableInfo = CatalogResponse['tables'][number];
