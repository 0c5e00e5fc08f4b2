// The Livy test server's session and statement records and their JSON shapes (what Livy 0.7/0.8 sends), plus the
// statement output built from the Spark stand-in's answer.
import type { SparkStandin } from './standin/spark-standin.ts';

export type LivySessionState =
  | 'not_started'
  | 'starting'
  | 'idle'
  | 'busy'
  | 'shutting_down'
  | 'error'
  | 'dead'
  | 'killed'
  | 'success'
  | 'recovering';
export type LivyStatementState = 'waiting' | 'running' | 'available' | 'cancelling' | 'cancelled';

export interface TestStatement {
  id: number;
  code: string;
  kind: string;
  state: LivyStatementState;
  output: unknown;
  progress: number;
  started: number;
  completed: number;
}

export interface TestSession {
  id: number;
  name: string | null;
  kind: string;
  owner: string | null;
  proxyUser: string | null;
  state: LivySessionState;
  log: string[];
  statements: TestStatement[];
  conf: Record<string, string>;
  executionCount: number;
  running?: TestStatement;
  standin?: Promise<SparkStandin>;
  timers: Set<NodeJS.Timeout>;
  /** Livy 0.8 `ttl`: an idle session older than this is stopped and forgotten (404 afterwards). */
  ttl: string | null;
  ttlMs?: number;
  expiry?: NodeJS.Timeout;
}

export const ACTIVE: LivySessionState[] = ['idle', 'busy'];

/** Livy time strings: `500ms`, `30s`, `5m`, `1h`. */
export const parseTtl = (v: unknown): number | undefined => {
  const m = typeof v === 'string' ? /^(\d+)\s*(ms|s|m|h)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
};

export const sessionJson = (s: TestSession) => ({
  id: s.id,
  name: s.name,
  appId: ACTIVE.includes(s.state) ? `application_1700000000000_${String(s.id).padStart(4, '0')}` : null,
  owner: s.owner,
  proxyUser: s.proxyUser,
  kind: s.kind,
  state: s.state,
  appInfo: { driverLogUrl: null, sparkUiUrl: null },
  log: s.log.slice(-10),
  ttl: s.ttl,
  idleTimeout: null,
  driverMemory: null,
  driverCores: 0,
  executorMemory: null,
  executorCores: 0,
  conf: s.conf,
  archives: [],
  files: [],
  heartbeatTimeoutInSecond: 0,
  jars: [],
  numExecutors: 0,
  pyFiles: [],
  queue: null,
});

export const statementJson = (st: TestStatement) => ({
  id: st.id,
  code: st.code,
  state: st.state,
  output: st.output,
  progress: st.progress,
  started: st.started,
  completed: st.completed,
});

/** Runs a statement on the session's stand-in and answers with Livy's `output` object. */
export async function statementOutput(
  standin: SparkStandin,
  st: TestStatement,
  count: number,
  sqlNumRows: number,
): Promise<unknown> {
  if (st.kind === 'sql') {
    try {
      const t = await standin.sql(st.code, sqlNumRows);
      return {
        status: 'ok',
        execution_count: count,
        data: {
          'application/json': {
            schema: {
              type: 'struct',
              fields: t.columns.map((c) => ({ name: c.name, type: c.type, nullable: true, metadata: {} })),
            },
            data: t.rows,
          },
        },
      };
    } catch (e) {
      const msg = (e as Error).message;
      return {
        status: 'error',
        execution_count: count,
        ename: 'Error',
        evalue: msg,
        traceback: [`org.apache.spark.sql.AnalysisException: ${msg.split('\n')[0]}`, '\tat (Pipebook test stand-in)'],
      };
    }
  }
  if (st.kind === 'pyspark') {
    const r = await standin.runPython(st.code);
    if (r.status === 'ok') return { status: 'ok', execution_count: count, data: { 'text/plain': r.text } };
    return { status: 'error', execution_count: count, ename: r.ename, evalue: r.evalue, traceback: r.traceback };
  }
  return {
    status: 'error',
    execution_count: count,
    ename: 'NotImplementedError',
    evalue: `The Pipebook test stand-in runs only sql and pyspark statements, not ${st.kind}.`,
    traceback: [],
  };
}
