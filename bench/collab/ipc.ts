// Messages between the collab benchmark and its client processes.
import type { ContentKind } from './content.ts';

export type ToWorker =
  | { type: 'join'; base: string; rooms: string[]; observe: boolean }
  | { type: 'seed'; base: string; rooms: string[]; content: ContentKind }
  | { type: 'writer'; base: string; room: string }
  | { type: 'write'; from: number; count: number; intervalMs: number }
  | { type: 'report' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'joined'; times: number[] }
  | { type: 'seeded' }
  | { type: 'writer-ready' }
  | { type: 'written'; at: number }
  | { type: 'latencies'; samples: Array<[number, number]> };
