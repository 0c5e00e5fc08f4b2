// GET /api/samples/:notebookId/:cellId: a source cell's sample as Arrow IPC, for the browser's instant preview.
// Viewers may read samples, as they may read results. Documented in docs/preview.md.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readCells, readMeta } from '@pipebook/shared';
import { ARROW_CONTENT_TYPE } from '@pipebook/shared/protocol/kernel';
import express, { type Request, type Router } from 'express';
import type { Access } from '../auth/access.ts';
import type { DuckDBWarehouse } from '../engines/duckdb.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { sampleLimits, sampleOptions, sampleSource } from './sampler.ts';

/** Response headers of a sample (the browser reads the same names, see client/src/preview/samples.ts). */
export const SAMPLE_HEADERS = {
  rowCount: 'x-pipebook-sample-rows',
  /** URI-encoded JSON `[{name, type}]`: the source's column types as the engine reports them. */
  columns: 'x-pipebook-sample-columns',
  truncated: 'x-pipebook-sample-truncated',
  mode: 'x-pipebook-sample-mode',
} as const;

export interface SamplesDeps {
  access: { authorize(req: Request, notebookId: string, need: 'viewer'): Promise<Access> };
  openNotebook(notebookId: string): Promise<{ doc: import('yjs').Doc; release: () => void }>;
  warehouse: DuckDBWarehouse;
  engines: EngineRegistry;
  dataDir: string;
  resultsDir: string;
  env?: NodeJS.ProcessEnv;
}

export function samplesRouter(deps: SamplesDeps): Router {
  const limits = sampleLimits(deps.env);
  const router = express.Router();
  router.get('/samples/:notebookId/:cellId', async (req, res) => {
    const notebookId = String(req.params.notebookId);
    const cellId = String(req.params.cellId);
    const opts = sampleOptions(req.query as Record<string, unknown>, limits);
    await deps.access.authorize(req, notebookId, 'viewer');
    const nb = await deps.openNotebook(notebookId);
    let cells: ReturnType<typeof readCells>;
    let defaultEngine: string;
    try {
      cells = readCells(nb.doc);
      defaultEngine = readMeta(nb.doc).defaultEngine;
    } finally {
      nb.release();
    }
    const controller = new AbortController();
    req.on('close', () => controller.abort());
    const sample = await sampleSource(
      {
        warehouse: deps.warehouse,
        dataDir: deps.dataDir,
        engineFor: (cell) => deps.engines.get(cell.engine ?? defaultEngine),
        tempResultPath: () => path.join(deps.resultsDir, `sample-${randomUUID()}.parquet`),
      },
      cells,
      cellId,
      opts,
      controller.signal,
    );
    res.setHeader('content-type', ARROW_CONTENT_TYPE);
    res.setHeader('cache-control', 'no-store');
    res.setHeader(SAMPLE_HEADERS.rowCount, String(sample.rowCount));
    res.setHeader(SAMPLE_HEADERS.columns, encodeURIComponent(JSON.stringify(sample.columns)));
    res.setHeader(SAMPLE_HEADERS.truncated, sample.truncated ? '1' : '0');
    res.setHeader(SAMPLE_HEADERS.mode, sample.mode);
    res.end(Buffer.from(sample.arrow.buffer, sample.arrow.byteOffset, sample.arrow.byteLength));
  });
  return router;
}
