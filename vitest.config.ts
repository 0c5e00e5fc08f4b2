import { defineConfig } from 'vitest/config';

// One Vitest project per package; the browser end-to-end suite is its own project because it needs built assets.
export default defineConfig({
  test: {
    projects: ['shared', 'collab-server', 'kernel', 'client', 'client/vitest.e2e.config.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
