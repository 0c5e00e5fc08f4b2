// The engines the kernel can run on: the embedded DuckDB plus whatever engine factories are registered (remote
// warehouses from pipebook.config.yaml). The run logic asks the registry by name and never knows engine types.
import { PipebookError } from '@pipebook/shared';
import type { Engine, EngineInfo } from './engine.ts';

/** Context a factory gets to build its engines (PIPEBOOK_HOME, for the config file). */
export interface EngineFactoryContext {
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Builds zero or more engines, e.g. one per configured connection. */
export type EngineFactory = (ctx: EngineFactoryContext) => Engine[] | Promise<Engine[]>;

const registeredFactories: EngineFactory[] = [];

/** Adds an engine factory every kernel started afterwards uses (one line per engine family, see main.ts). */
export function registerEngineFactory(factory: EngineFactory): void {
  registeredFactories.push(factory);
}

export function registeredEngineFactories(): readonly EngineFactory[] {
  return registeredFactories;
}

export class EngineRegistry {
  private readonly engines = new Map<string, Engine>();

  constructor(embedded: Engine) {
    this.engines.set(embedded.info.name, embedded);
  }

  /** Adds engines; a name already taken (the embedded `duckdb` included) is refused. */
  add(engine: Engine): void {
    if (this.engines.has(engine.info.name)) {
      throw new PipebookError(
        'invalid_config',
        `Two engines are named "${engine.info.name}"; engine names must be unique.`,
      );
    }
    this.engines.set(engine.info.name, engine);
  }

  /** Runs every factory; a factory that fails is reported and skipped, so one bad connection does not stop the kernel. */
  async addFromFactories(
    factories: readonly EngineFactory[],
    ctx: EngineFactoryContext,
    onError: (e: unknown) => void,
  ): Promise<void> {
    for (const f of factories) {
      try {
        for (const e of await f(ctx)) this.add(e);
      } catch (e) {
        onError(e);
      }
    }
  }

  list(): EngineInfo[] {
    return [...this.engines.values()].map((e) => e.info);
  }

  has(name: string): boolean {
    return this.engines.has(name);
  }

  get(name: string): Engine {
    const e = this.engines.get(name);
    if (!e) {
      throw new PipebookError(
        'not_found',
        `No engine named "${name}". Known engines: ${[...this.engines.keys()].join(', ')}.`,
      );
    }
    return e;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.engines.values()].map((e) => e.close()));
  }
}
