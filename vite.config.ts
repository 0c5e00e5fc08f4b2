import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The browser app. `npm start` serves dist/ from the collaboration server; in development `vite` proxies the API and
// the Yjs socket to it, so the app always talks to one origin.
const collab = process.env.PIPEBOOK_DEV_TARGET ?? 'http://127.0.0.1:5170';

export default defineConfig({
  root: fileURLToPath(new URL('./client', import.meta.url)),
  plugins: [solid()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: collab, changeOrigin: true },
      '/collab': { target: collab.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
    },
  },
});
