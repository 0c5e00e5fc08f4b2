// PySpark and Spark SQL cells on a Databricks all-purpose cluster through the Command Execution API 1.2: one Python
// execution context per notebook (state shared across cells, as in a Databricks notebook), destroyed when the
// notebook is released or the engine shuts down. Every step is sent as Python: SQL through spark.sql(), results read
// with display(), which makes the command's result a table with a JSON schema.

import type { ColumnInfo } from '@pipebook/shared';
import { PipebookError } from '@pipebook/shared';
import type { ReplBackend, StepControl } from '../livy/spark-chain.ts';
import {
  createViewSql,
  dropWrapperFrames,
  pysparkCellCode,
  sparkRows,
  sparkTypeName,
  sqlWhere,
  stripHtml,
  tracebackLine,
  trimStatement,
} from '../livy/spark-code.ts';
import { SparkReplEngine } from '../livy/spark-repl-engine.ts';
import { cancelled, DEFAULT_POLL_MIN_MS, nap, nextDelay } from '../livy/spark-sessions.ts';
import type { RemoteSessionState, SparkStep, SparkTable } from '../livy/spark-types.ts';
import { SessionLostError, SparkCodeError } from '../livy/spark-types.ts';
import { CommandExecutionClient, type CommandResults, type CommandState, ResourceGoneError } from './client.ts';

export interface DatabricksClusterConnection {
  type: 'databricks-cluster';
  name: string;
  host: string;
  token: string;
  clusterId: string;
  pollMinMs?: number;
  pollMaxMs?: number;
  startTimeoutMs?: number;
  requestTimeoutMs?: number;
  healthCheckMs?: number;
}

const TERMINAL = new Set(['Finished', 'Cancelled', 'Error']);

/** `<span class="ansi-red-fg">NameError</span>: name 'x' is not defined` -> ename, evalue. */
export function parseErrorSummary(summary: string): { ename: string; evalue: string } {
  const text = stripHtml(summary);
  const m = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)?): ([\s\S]*)$/.exec(text);
  return m ? { ename: m[1], evalue: m[2].trim() } : { ename: 'Error', evalue: text };
}

/** A `table` result -> columns and rows. With isJsonSchema, each type is a JSON-encoded Spark type. */
export function parseTableResult(r: CommandResults): SparkTable {
  const columns: ColumnInfo[] = (r.schema ?? []).map((f) => {
    let t: unknown = f.type;
    if (r.isJsonSchema && typeof t === 'string') {
      try {
        t = JSON.parse(t);
      } catch {
        // Some runtimes send the bare type name.
      }
    }
    return { name: f.name, type: sparkTypeName(t) };
  });
  return { columns, rows: Array.isArray(r.data) ? sparkRows(r.data as unknown[][], columns) : [] };
}

class CommandBackend implements ReplBackend {
  readonly noun = 'execution context';
  readonly capNote = "Databricks' display() returns at most 1000 rows.";
  constructor(
    private readonly client: CommandExecutionClient,
    private readonly conn: DatabricksClusterConnection,
  ) {}

  sessionKind(): string {
    return 'python';
  }

  create(): Promise<string> {
    return this.client.createContext('python');
  }

  async state(id: string): Promise<RemoteSessionState> {
    try {
      const { status } = await this.client.contextStatus(id);
      return { phase: status === 'Running' ? 'idle' : status === 'Pending' ? 'starting' : 'dead', raw: status };
    } catch (e) {
      if (e instanceof ResourceGoneError) throw new SessionLostError(`Execution context ${id} no longer exists.`);
      throw e;
    }
  }

  destroy(id: string): Promise<void> {
    return this.client.destroyContext(id);
  }

  private gone(id: string, e: unknown): never {
    if (e instanceof ResourceGoneError) {
      throw new SessionLostError(`Execution context ${id} no longer exists (cluster restarted or context destroyed).`);
    }
    throw e;
  }

  /** `sqlLineOffset`: the command wraps Spark SQL whose `line L pos P` errors map back to the SQL (minus this many lines). */
  private async run(
    id: string,
    command: string,
    ctl: StepControl,
    sqlLineOffset?: number | null,
  ): Promise<CommandResults | undefined> {
    let commandId: string;
    try {
      commandId = await this.client.execute(id, command, 'python');
    } catch (e) {
      this.gone(id, e);
    }
    const min = this.conn.pollMinMs ?? DEFAULT_POLL_MIN_MS;
    const max = this.conn.pollMaxMs ?? 1000;
    let delay = min;
    let cancelAt: number | undefined;
    let st: CommandState = { id: commandId, status: 'Queued' };
    let last = '';
    for (;;) {
      if (ctl.signal.aborted && cancelAt === undefined) {
        cancelAt = Date.now();
        await this.client.cancel(id, commandId).catch((e) => this.gone(id, e));
      }
      if (TERMINAL.has(st.status)) break;
      if (cancelAt !== undefined && Date.now() - cancelAt > 30_000) throw cancelled();
      if (st.status !== last && cancelAt === undefined) {
        last = st.status;
        ctl.onProgress?.({ state: st.status });
      }
      await nap(delay, ctl.signal);
      delay = nextDelay(delay, min, max);
      try {
        st = await this.client.commandStatus(id, commandId);
      } catch (e) {
        this.gone(id, e);
      }
    }
    if (cancelAt !== undefined || st.status === 'Cancelled') throw cancelled();
    const r = st.results;
    if (st.status === 'Error' || r?.resultType === 'error') {
      const { ename, evalue } = parseErrorSummary(r?.summary ?? 'Error: the command failed');
      const traceback = dropWrapperFrames((r?.cause ?? '').split(/(?<=\n)/).filter((l) => !/^-+\n?$/.test(l)));
      const step = ctl.step;
      const at =
        sqlLineOffset === null
          ? {}
          : sqlLineOffset !== undefined
            ? sqlWhere(evalue, sqlLineOffset)
            : step?.kind === 'pyspark'
              ? { line: tracebackLine(traceback, step.name) }
              : {};
      const where = Object.fromEntries(Object.entries(at).filter(([, v]) => v !== undefined));
      throw new SparkCodeError({ ename, evalue, traceback }, step ? { cellId: step.cellId, ...where } : where);
    }
    return r;
  }

  async materialize(id: string, step: SparkStep, inputs: string[], ctl: StepControl): Promise<void> {
    if (step.kind === 'sql')
      await this.run(
        id,
        `spark.sql(${JSON.stringify(createViewSql(step.name, step.code))})`,
        ctl,
        step.sourceLineOffset === null ? null : 1 + (step.sourceLineOffset ?? 0),
      );
    else await this.run(id, pysparkCellCode(step.name, step.code, inputs), ctl);
  }

  private async table(id: string, command: string, ctl: StepControl): Promise<SparkTable> {
    const r = await this.run(id, command, ctl, 0);
    if (r?.resultType !== 'table') {
      throw new PipebookError('engine_unavailable', `Databricks answered display() with a ${r?.resultType} result.`);
    }
    return { ...parseTableResult(r), ...(r.truncated ? { truncated: true } : {}) };
  }

  fetch(id: string, view: string, ctl: StepControl): Promise<SparkTable> {
    return this.table(id, `display(spark.table(${JSON.stringify(view)}))`, { ...ctl, step: undefined });
  }

  async statement(id: string, sql: string, ctl: StepControl): Promise<void> {
    await this.run(id, `spark.sql(${JSON.stringify(trimStatement(sql))})`, ctl, 0);
  }

  query(id: string, sql: string, ctl: StepControl): Promise<SparkTable> {
    return this.table(id, `display(spark.sql(${JSON.stringify(trimStatement(sql))}))`, ctl);
  }
}

export class DatabricksClusterEngine extends SparkReplEngine {
  constructor(conn: DatabricksClusterConnection) {
    const client = new CommandExecutionClient({
      host: conn.host,
      token: conn.token,
      clusterId: conn.clusterId,
      name: conn.name,
      ...(conn.requestTimeoutMs ? { requestTimeoutMs: conn.requestTimeoutMs } : {}),
    });
    // Its own type (it has Spark sessions, unlike a SQL warehouse); the dialect is Spark SQL, as for `databricks`.
    super(
      {
        name: conn.name,
        type: 'databricks-cluster',
        dialect: 'databricks',
        label: `Databricks cluster ${conn.clusterId}`,
      },
      new CommandBackend(client, conn),
      {
        engine: conn.name,
        pollMinMs: conn.pollMinMs,
        pollMaxMs: conn.pollMaxMs,
        startTimeoutMs: conn.startTimeoutMs,
        healthCheckMs: conn.healthCheckMs,
      },
    );
  }
}

export function createDatabricksClusterEngine(conn: DatabricksClusterConnection): DatabricksClusterEngine {
  if (!/^https?:\/\//.test(conn.host)) {
    throw new PipebookError('invalid_config', `Connection ${conn.name}: host must start with http:// or https://.`);
  }
  if (!conn.clusterId) throw new PipebookError('invalid_config', `Connection ${conn.name}: clusterId is required.`);
  return new DatabricksClusterEngine(conn);
}
