// One transaction at a time per I2C device. A reading is several transfers (start a measurement, wait, read
// it back); two nodes configured for the same device would otherwise start each other's measurements and
// read each other's results. Different devices on one bus need no lock: each kernel transfer is atomic.

const queues = new WeakMap<object, Map<string, Promise<void>>>();

/** Runs `fn` after every earlier call with the same `owner` and `key` has settled. */
export function exclusive<T>(owner: object, key: string, fn: () => Promise<T>): Promise<T> {
  let byKey = queues.get(owner);
  if (!byKey) queues.set(owner, (byKey = new Map()));
  const map = byKey;
  const run = (map.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  map.set(key, tail);
  void tail.then(() => {
    if (map.get(key) === tail) map.delete(key);
  });
  return run;
}
