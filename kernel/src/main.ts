// The kernel process: configuration from the environment, then startKernel. Nothing else lives here.
import { loadConfig } from './config.ts';
import { connectionEngines } from './engines/connections.ts';
import { registerEngineFactory } from './engines/registry.ts';
import { startKernel } from './server.ts';

// Remote engines (Snowflake, Databricks, ...) named in PIPEBOOK_HOME/pipebook.config.yaml.
registerEngineFactory(connectionEngines);

const config = loadConfig();
const kernel = await startKernel(config);
console.log(`[kernel] listening on ${kernel.url} (home ${config.home}, data ${config.dataDir})`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`[kernel] ${signal}: cancelling runs and closing`);
  await kernel.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
