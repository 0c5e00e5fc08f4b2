// Preloaded (node --require) into both benchmark servers, so they are measured the same way: on SIGUSR2 collect
// garbage twice and write process.memoryUsage() as JSON to PIPEBOOK_BENCH_MEMFILE.
const fs = require('node:fs');
process.on('SIGUSR2', () => {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  fs.writeFileSync(process.env.PIPEBOOK_BENCH_MEMFILE, JSON.stringify(process.memoryUsage()));
});
// A server without its own SIGTERM handler (the plain one) exits normally, so --cpu-prof can write its profile.
process.on('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 1) process.exit(0);
});
// PIPEBOOK_BENCH_GC_LOG: while tuning, log each garbage collection (wall-clock start, duration, kind) to that file.
if (process.env.PIPEBOOK_BENCH_GC_LOG) {
  const { PerformanceObserver, performance } = require('node:perf_hooks');
  const out = `${process.env.PIPEBOOK_BENCH_GC_LOG}.${process.pid}`;
  const lines = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      lines.push(`${Math.round(performance.timeOrigin + e.startTime)} ${e.duration.toFixed(2)} ${e.detail?.kind}`);
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => fs.writeFileSync(out, lines.join('\n')));
}
