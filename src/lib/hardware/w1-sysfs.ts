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

export function openW1Sysfs(id: string, sysfsRoot = '/'): OneWireDevice {
  const file = path.join(devicesDir(sysfsRoot), id, 'w1_slave');
  return {
    id,
    readSlave: () => readFile(file, 'utf8').catch((err: unknown) => Promise.reject(describeFault(err, { kind: 'w1', device: id }))),
  };
}
