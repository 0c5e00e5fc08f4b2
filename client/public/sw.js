// Pipebook's service worker: keeps the app shell (index.html and the built assets) so a reload while offline still
// opens the notebook, whose content comes from the browser's local copy (IndexedDB). The API and the Yjs socket are
// never cached: they are live data.
const CACHE = 'pipebook-shell-v1';

async function precache() {
  const cache = await caches.open(CACHE);
  const res = await fetch('/index.html', { cache: 'no-cache' });
  if (!res.ok) return;
  const html = await res.clone().text();
  await cache.put('/index.html', res);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.addAll(assets);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Network first, so a new build is picked up at once; the cache only answers when the network cannot.
self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const isShell = req.mode === 'navigate';
  const isAsset = url.pathname.startsWith('/assets/');
  if (!isShell && !isAsset) return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(isShell ? '/index.html' : req, copy));
        }
        return res;
      })
      .catch(async () => (await caches.match(isShell ? '/index.html' : req)) ?? Response.error()),
  );
});
