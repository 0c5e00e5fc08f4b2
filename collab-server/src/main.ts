// Collab server entry point: configuration from the environment, start, and a clean shutdown on SIGTERM/SIGINT.
import { loadConfig } from './config.ts';
import { startCollabServer } from './server.ts';

const config = loadConfig();
const server = await startCollabServer(config);
console.log(`[collab] listening on ${server.url} (auth: ${config.authMode}, home: ${config.home})`);
console.log(`[collab] open ${server.url}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[collab] ${signal}: committing and closing`);
  const timer = setTimeout(() => process.exit(1), 10_000);
  timer.unref();
  try {
    await server.close();
    process.exit(0);
  } catch (e) {
    console.error('[collab] shutdown failed', e);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
