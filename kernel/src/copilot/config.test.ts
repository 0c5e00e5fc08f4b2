import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConnectionsConfig } from '../engines/connections.ts';
import { copilotStatus, loadCopilotConfig, resolveCopilotConfig } from './config.ts';

describe('Copilot config', () => {
  it('is not configured without a model, and says how to configure', () => {
    const status = copilotStatus(resolveCopilotConfig({}, {}));
    expect(status).toMatchObject({ configured: false, reason: expect.stringMatching(/PIPEBOOK_COPILOT_MODEL/) });
    expect(status.configured === false && status.howTo).toMatch(
      /OPENAI_BASE_URL.*OPENAI_API_KEY.*PIPEBOOK_COPILOT_MODEL/s,
    );
  });
  it('needs a key for the OpenAI endpoint but not for a local one', () => {
    expect(resolveCopilotConfig({ PIPEBOOK_COPILOT_MODEL: 'gpt-4o-mini' }, {})).toEqual({
      missing: expect.stringMatching(/OPENAI_API_KEY/),
    });
    expect(
      resolveCopilotConfig({ PIPEBOOK_COPILOT_MODEL: 'llama3', OPENAI_BASE_URL: 'http://localhost:11434/v1/' }, {}),
    ).toMatchObject({
      baseURL: 'http://localhost:11434/v1',
      apiKey: 'not-needed',
    });
  });
  it('reads the config file, lets the environment win, and never shows the key or URL credentials', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'pipebook-cfg-'));
    try {
      writeFileSync(
        path.join(home, 'pipebook.config.yaml'),
        'copilot:\n  baseUrl: https://user:pw@llm.example.com/v1\n  apiKey: sk-secret-123\n  model: file-model\n  maxAttempts: 2\n',
      );
      const fromFile = loadCopilotConfig({}, home);
      expect(fromFile).toMatchObject({ model: 'file-model', apiKey: 'sk-secret-123', maxAttempts: 2 });
      expect(loadCopilotConfig({ PIPEBOOK_COPILOT_MODEL: 'env-model' }, home)).toMatchObject({ model: 'env-model' });
      const shown = JSON.stringify(copilotStatus(fromFile));
      expect(shown).toBe('{"configured":true,"model":"file-model","endpoint":"https://llm.example.com"}');
      writeFileSync(path.join(home, 'pipebook.config.yaml'), 'copilot:\n  modle: typo\n');
      expect(loadCopilotConfig({}, home)).toEqual({ missing: expect.stringMatching(/copilot/) });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
  it('reads the same config file as the engine connections: .yml and .json too, and refuses two of them', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'pipebook-cfg-'));
    try {
      writeFileSync(path.join(home, 'pipebook.config.yml'), 'engines: []\ncopilot:\n  model: yml-model\n  apiKey: k\n');
      expect(loadCopilotConfig({}, home)).toMatchObject({ model: 'yml-model' });
      expect(loadConnectionsConfig(home).file).toBe(path.join(home, 'pipebook.config.yml'));
      rmSync(path.join(home, 'pipebook.config.yml'));

      writeFileSync(
        path.join(home, 'pipebook.config.json'),
        JSON.stringify({ copilot: { model: 'json-model', apiKey: 'k' } }),
      );
      expect(loadCopilotConfig({}, home)).toMatchObject({ model: 'json-model' });
      writeFileSync(path.join(home, 'pipebook.config.json'), JSON.stringify({ copilot: { modle: 'typo' } }));
      expect(loadCopilotConfig({}, home)).toEqual({
        missing: expect.stringMatching(/^pipebook\.config\.json: copilot/),
      });

      writeFileSync(path.join(home, 'pipebook.config.yaml'), 'copilot:\n  model: yaml-model\n  apiKey: k\n');
      // Which file wins would be a guess: both features refuse, naming the files.
      expect(loadCopilotConfig({}, home)).toEqual({
        missing: expect.stringMatching(/pipebook\.config\.yaml, pipebook\.config\.json/),
      });
      expect(() => loadConnectionsConfig(home)).toThrow(/more than one/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
