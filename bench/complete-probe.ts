// Loaded into the benchmark's Node-RED process with `node --require`: counts done() calls of the nodes under test
// through the runtime's onComplete hook and prints the wall-clock time at which the last message of a burst
// completed. A node has handled a message when it calls done(), which is what Complete and Catch nodes see.
import path from 'node:path';
import { wallNow } from './wall-clock';

interface CompleteEvent {
  node: { id: string };
  error?: unknown;
}

interface Hooks {
  add(name: string, fn: (event: CompleteEvent) => void): void;
}

// Resolved from the runtime's own dependencies so this is the hook registry Node-RED uses.
const runtimeDir = path.dirname(require.resolve('node-red/package.json'));
const { hooks } = require(require.resolve('@node-red/util', { paths: [runtimeDir] })) as { hooks: Hooks };

const counts = new Map<string, { done: number; errors: number }>();

/** Out nodes are named out-<kind>-<link>-<qos>-<burst>: the burst size is the last part. */
function burstOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

hooks.add('onComplete', (event) => {
  const id = event.node.id;
  if (!id.startsWith('out-')) return;
  const c = counts.get(id) ?? { done: 0, errors: 0 };
  c.done++;
  if (event.error) c.errors++;
  if (c.done === burstOf(id)) {
    process.stdout.write(`BENCH-COMPLETE ${id} ${wallNow()} ${c.errors}\n`);
    counts.delete(id);
  } else counts.set(id, c);
});
