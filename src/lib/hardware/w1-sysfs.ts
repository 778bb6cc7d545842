// 1-Wire devices through the Linux w1 driver's sysfs files, read asynchronously (a 12-bit conversion takes 750 ms).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeFault } from './describe-fault';
import type { OneWireDevice } from './types';

function devicesDir(sysfsRoot: string): string {
  return path.join(sysfsRoot, 'sys', 'bus', 'w1', 'devices');
}

/** Ids of the attached devices of a family ('28' for DS18B20), sorted. */
export async function listOneWire(family: string, sysfsRoot = '/'): Promise<string[]> {
  try {
    const names = await readdir(devicesDir(sysfsRoot));
    return names.filter((n) => n.startsWith(`${family}-`)).sort();
  } catch (err) {
    throw describeFault(err, { kind: 'w1', device: `${family}-*` });
  }
}

/** How long one read may keep the others waiting; a longer one still ends on its own. */
export const W1_TURN_MS = 3000;

let turns: Promise<void> = Promise.resolve();

/**
 * One w1_slave read at a time in this process. Each read blocks one of libuv's four threads for the conversion
 * (750 ms), which fs, DNS and crypto share: five sensor nodes reading at once stalled all three. The kernel does one
 * conversion at a time on the bus anyway, so waiting here costs no time.
 */
function inTurn<T>(read: () => Promise<T>, turnMs: number): Promise<T> {
  const result = turns.then(read);
  turns = turns.then(
    () =>
      new Promise<void>((next) => {
        const timer = setTimeout(next, turnMs);
        timer.unref();
        const done = (): void => {
          clearTimeout(timer);
          next();
        };
        result.then(done, done);
      }),
  );
  return result;
}

export function openW1Sysfs(id: string, sysfsRoot = '/', turnMs = W1_TURN_MS): OneWireDevice {
  const file = path.join(devicesDir(sysfsRoot), id, 'w1_slave');
  return {
    id,
    readSlave: () => inTurn(() => readFile(file, 'utf8'), turnMs).catch((err: unknown) => Promise.reject(describeFault(err, { kind: 'w1', device: id }))),
  };
}
