// Prints one plain closing line ("Tests: N passed, N failed, N skipped") and, under CI=true, fails the run if any
// test was skipped: CI must exercise everything, so a skip is a failure there, not a silent pass.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    if (process.env.CI === 'true' && skipped > 0) {
      console.error(`${skipped} test(s) were skipped or not run under CI=true; every test must run in CI.`);
      process.exitCode = 1;
    }
    console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
