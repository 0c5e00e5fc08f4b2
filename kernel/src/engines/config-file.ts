// The one server-side config file, PIPEBOOK_HOME/pipebook.config.{yaml,yml,json}: found and parsed here so every
// feature that has a section in it (engine connections, the Copilot) reads the same file the same way.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PipebookError } from '@pipebook/shared';
import { parse as parseYaml } from 'yaml';

export const CONFIG_FILES = ['pipebook.config.yaml', 'pipebook.config.yml', 'pipebook.config.json'] as const;

/** The config file in `home`, or undefined when there is none; more than one is refused (which one wins is unclear). */
export function findConfigFile(home: string): string | undefined {
  const present = CONFIG_FILES.map((f) => path.join(home, f)).filter((f) => existsSync(f));
  if (present.length > 1)
    throw new PipebookError(
      'invalid_config',
      `more than one Pipebook config file in ${home}: ${present.map((f) => path.basename(f)).join(', ')}; keep one`,
    );
  return present[0];
}

/** The parsed config file (`doc` is whatever its YAML or JSON holds), or undefined when there is none. */
export function readConfigFile(home: string): { file: string; doc: unknown } | undefined {
  const file = findConfigFile(home);
  if (!file) return undefined;
  const text = readFileSync(file, 'utf8');
  try {
    return { file, doc: file.endsWith('.json') ? JSON.parse(text) : parseYaml(text) };
  } catch (err) {
    throw new PipebookError(
      'invalid_config',
      `${path.basename(file)}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}
