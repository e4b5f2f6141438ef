/**
 * Builds a value on first use and keeps it for the life of the container: clients, settings, and
 * schemas, so a cold start builds only what its requests read (issue 9).
 */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
