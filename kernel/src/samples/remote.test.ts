// Samples of sources on remote warehouses (the Snowflake and Databricks SQL test servers that speak the real wire
// protocols): the first rows come through the engine like any query, with the engine's column types.
import path from 'node:path';
import type { CellSnapshot } from '@pipebook/shared';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REMOTE_TARGETS, type StartedEngine } from '../../test/contract/targets.ts';
import { sampleSource } from './sampler.ts';

const cells = [
  {
    id: 'c_numbers',
    name: 'numbers',
    kind: 'source',
    source: '',
    config: { type: 'table', table: 'numbers' },
    engine: 'remote',
  },
] as unknown as CellSnapshot[];

describe.each(REMOTE_TARGETS.map((t) => [t.name, t] as const))('samples on %s', (_name, target) => {
  let started: StartedEngine;
  beforeAll(async () => {
    started = await target.start();
  });
  afterAll(async () => {
    await started?.close();
  });

  const deps = () => ({
    warehouse: started.kernelWarehouse,
    dataDir: started.resultDir,
    engineFor: () => started.engine,
    tempResultPath: () => path.join(started.resultDir, `sample-${Math.random().toString(36).slice(2)}.parquet`),
  });

  it('fetches the first N rows through the engine, as Arrow, and says the source holds more', async () => {
    const s = await sampleSource(deps(), cells, 'c_numbers', {
      rows: 50,
      maxBytes: 1024 * 1024,
      mode: 'random',
      seed: 1,
    });
    expect(s.rowCount).toBe(50);
    expect(s.truncated).toBe(true);
    // Remote warehouses sample the first rows.
    expect(s.mode).toBe('first');
    expect(s.columns.map((c) => c.name.toLowerCase())).toEqual(['id', 'bucket', 'label']);
    const t = tableFromIPC(s.arrow);
    expect(t.numRows).toBe(50);
    const labels = t.getChildAt(2)!.toArray() as string[];
    expect(labels.every((l) => /^n\d+$/.test(l))).toBe(true);
  });
});
