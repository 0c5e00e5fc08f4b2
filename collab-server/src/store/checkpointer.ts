// WAL checkpoints on a worker thread. A checkpoint copies the WAL's pages into the database file and fsyncs both
// files; SQLite's automatic checkpoint does that inside whichever commit crosses 1,000 WAL pages, on the event loop,
// where it stalled every connected client for the length of two fsyncs (6 ms on an idle disk here, up to 90 ms under
// load). Here a second connection checkpoints in the background (PASSIVE: it never blocks the writer), and the
// store's own connection never checkpoints while it is open.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointResult {
  /** WAL frames at the time of the checkpoint. */
  log: number;
  /** Frames copied into the database (equal to log: the WAL may restart from its beginning). */
  checkpointed: number;
}

// Plain CommonJS so the worker runs the same under tsx, vitest and plain node.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (msg) => {
  if (msg === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e && e.message ? e.message : e) });
  }
});
`;

type Reply = { ok: true; log: number; checkpointed: number } | { ok: false; error: string };

export class Checkpointer {
  private worker: Worker | null = null;
  private waiting: Array<{ resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }> = [];
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Runs one checkpoint; the thread starts on first use, so a store that never grows costs no thread. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.closed) return Promise.reject(new Error('checkpointer closed'));
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      worker.postMessage('checkpoint');
    });
  }

  get busy(): boolean {
    return this.waiting.length > 0;
  }

  /** Closes the worker's connection; pending checkpoints still finish first (messages are handled in order). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const next = this.waiting.shift();
      if (!next) return;
      if (reply.ok) next.resolve({ log: reply.log, checkpointed: reply.checkpointed });
      else next.reject(new Error(`WAL checkpoint failed: ${reply.error}`));
    });
    worker.on('error', (e) => {
      // The thread died: fail what waits on it and start a new one on the next request.
      this.worker = null;
      for (const w of this.waiting.splice(0)) w.reject(e);
      this.onError(e);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = null;
      for (const w of this.waiting.splice(0)) w.reject(new Error('checkpoint thread exited'));
    });
    this.worker = worker;
    return worker;
  }
}
