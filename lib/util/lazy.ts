/**
 * A property computed on first read. It stays an ordinary enumerable property to everyone who looks (JSON.stringify,
 * Object.keys, spreading, deep clones, assignment), so only code that never reads it saves the work.
 */
export function defineLazy<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]): void => {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  };
  // Redefining an existing key keeps its place in the key order, so printed JSON reads as it did.
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}
