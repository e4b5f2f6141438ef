/**
 * What the bundles get for `node:stream/web` (lib/bundling.ts aliases it here). Its one importer is
 * @middy/core, which only asks `body instanceof ReadableStream` when a handler streams its response;
 * none of ours does. Loading Node's web streams at start cost ≈6 ms of every cold start (issue 9);
 * this class answers the same `instanceof` with the global one, loaded only if ever asked.
 */
export class ReadableStream {
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof globalThis.ReadableStream;
  }
}
