// A resource every test in a file shares (a kernel stack, a test server, a warehouse): started in beforeAll, stopped
// in afterAll, and read through a handle created when the file is collected, so each test file declares it in one
// line (`const s = withKernel()`) and test bodies use it like a plain value (`s.kernel.url`).
import { afterAll, beforeAll } from 'vitest';

/**
 * Stands for the value `current()` returns when it is read. The value only exists once beforeAll has run, so reading
 * it earlier (while the file is being collected) fails with a message saying so. Methods are bound to the value.
 */
export function lateHandle<T extends object>(name: string, current: () => T | undefined): T {
  const value = (): T => {
    const v = current();
    if (!v) throw new Error(`${name} is started in beforeAll: use it inside a test or a hook, not while collecting.`);
    return v;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const v = value();
      const field = Reflect.get(v, key, v);
      return typeof field === 'function' ? field.bind(v) : field;
    },
    set: (_, key, field) => Reflect.set(value(), key, field),
    has: (_, key) => Reflect.has(value(), key),
    ownKeys: () => Reflect.ownKeys(value()),
    getOwnPropertyDescriptor(_, key) {
      const d = Reflect.getOwnPropertyDescriptor(value(), key);
      // The proxy's own target is empty; a property it reports must be configurable to keep the Proxy invariants.
      return d && { ...d, configurable: true };
    },
  });
}

/** Starts a resource before the file's tests and stops it after them (only if it started). */
export function suiteFixture<T extends object>(
  name: string,
  start: () => Promise<T>,
  stop: (value: T) => Promise<void> | void,
): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await stop(started);
  });
  return lateHandle(name, () => started);
}
