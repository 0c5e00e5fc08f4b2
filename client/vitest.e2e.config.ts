import { defineConfig } from 'vitest/config';

// Real Chromium against the servers `npm start` runs; the app must be built first (`npm run build`).
export default defineConfig({
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
