// One test server for all the tests of a file (or of the describe() it is called in):
// started in before(), disposed in after().

import { after, before } from "node:test";

/**
 * Registers before() to start the server and after() to dispose of it, and returns the
 * handle to use in the tests. The handle is there from before() on: reading it earlier (at
 * module level) throws. It forwards property reads only (no spreading it).
 */
export function useFileServer<T extends { dispose(): Promise<void> }>(start: () => Promise<T>): T {
  let handle: T | undefined;
  before(async () => {
    handle = await start();
  });
  after(async () => {
    await handle?.dispose();
  });
  // A stand-in, so that each test file keeps one constant for its server, as it had.
  return new Proxy({} as T, {
    get(_, key) {
      if (handle === undefined) throw new Error(`the test server is read before it started (property ${String(key)})`);
      const value: unknown = Reflect.get(handle, key);
      // A method runs on the handle itself, whatever it reads through `this`.
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(handle) : value;
    },
  });
}
