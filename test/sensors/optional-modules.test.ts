import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { loadOptional } from '../../src/lib/hardware/optional-module';
import { createHardwareBackend } from '../../src/lib/hardware/real-backend';
import { BOARDS, fakeSysfs } from './fake-sysfs';

const missing = (id: string): never => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};
const brokenBuild = (): never => {
  throw new Error('Could not locate the bindings file');
};

function isNotInstalled(text: RegExp) {
  return (err: unknown) => err instanceof HardwareError && err.key === 'notInstalled' && text.test(err.message);
}

describe('onoff and i2c-bus missing or unbuilt', () => {
  test('a missing onoff: GPIO fails with a clear error, nothing thrown at load time', async () => {
    const fake = fakeSysfs(BOARDS.pi4);
    try {
      const backend = createHardwareBackend({ sysfsRoot: fake.root, load: missing });
      await assert.rejects(backend.openGpio(17, { direction: 'in' }), isNotInstalled(/^onoff is not installed \(GPIO needs it; simulated mode works without\)$/));
    } finally {
      fake.remove();
    }
  });

  test('a missing i2c-bus: I2C fails with a clear error', async () => {
    const backend = createHardwareBackend({ load: missing });
    await assert.rejects(backend.openI2c(1), isNotInstalled(/^i2c-bus is not installed \(I2C needs it; simulated mode works without\)$/));
  });

  test('a module whose native build failed says so', () => {
    assert.throws(() => loadOptional('onoff', 'GPIO', (m): m is object => !!m, brokenBuild), isNotInstalled(/could not be loaded \(its native build failed\?\)/));
  });

  test('a module without the expected API is refused', () => {
    assert.throws(() => loadOptional('onoff', 'GPIO', (m): m is { Gpio: unknown } => !!m && 'Gpio' in (m as object), () => ({})), isNotInstalled(/does not have the expected API/));
  });
});

describe('real backend wiring, with stand-ins for the native modules', () => {
  test('onoff is given the kernel number (BCM 17 → 588 on a Pi 5) and the options; active low is applied by the pack', async () => {
    const fake = fakeSysfs(BOARDS.pi5);
    const calls: unknown[][] = [];
    class Gpio {
      constructor(...args: unknown[]) {
        calls.push(args);
      }
      read = async (): Promise<0 | 1> => 1;
      write = async (): Promise<void> => undefined;
      watch(): void {}
      unwatch(): void {
        calls.push(['unwatch']);
      }
      unexport(): void {
        calls.push(['unexport']);
      }
    }
    try {
      const backend = createHardwareBackend({ sysfsRoot: fake.root, load: () => ({ Gpio }) });
      const line = await backend.openGpio(17, { direction: 'out', activeLow: true, reconfigureDirection: false });
      // No edge for an output (the edge file is left alone); the kernel's active_low, one setting per pin, stays 0.
      assert.deepEqual(calls[0], [588, 'out', undefined, { debounceTimeout: 0, activeLow: false, reconfigureDirection: false }]);
      assert.equal(await line.read(), 0, 'the raw 1, inverted by the line');
      line.release();
      line.release();
      assert.deepEqual(calls.slice(1), [['unexport']], 'released once; nothing to unwatch');
    } finally {
      fake.remove();
    }
  });

  test('onoff constructor errors come back in plain words (EBUSY)', async () => {
    const fake = fakeSysfs(BOARDS.pi4);
    class Gpio {
      constructor() {
        throw Object.assign(new Error('EBUSY: resource busy or locked, write'), { code: 'EBUSY' });
      }
    }
    try {
      const backend = createHardwareBackend({ sysfsRoot: fake.root, load: () => ({ Gpio }) });
      await assert.rejects(backend.openGpio(4, { direction: 'in' }), (err: unknown) => err instanceof HardwareError && err.key === 'busy' && /^GPIO 4 is busy/.test(err.message));
    } finally {
      fake.remove();
    }
  });

  test('i2c-bus transfer errors: EREMOTEIO, ENOENT and EACCES in plain words', async () => {
    let code = 'EREMOTEIO';
    const fail = async (): Promise<never> => {
      throw Object.assign(new Error(`${code}, raw`), { code });
    };
    const i2c = { openPromisified: async () => ({ i2cWrite: fail, i2cRead: fail, readI2cBlock: fail, writeByte: fail, close: async () => undefined }) };
    const backend = createHardwareBackend({ load: () => i2c });
    const bus = await backend.openI2c(1);
    await assert.rejects(bus.readRegisters(0x76, 0xd0, 1), /HardwareError: no device at 0x76 on bus 1/);
    code = 'ENOENT';
    await assert.rejects(bus.write(0x44, [0x24, 0]), (e: unknown) => e instanceof HardwareError && e.key === 'noBus');
    code = 'EACCES';
    await assert.rejects(bus.read(0x44, 6), /i2c group/);
    await bus.close();
  });

  test('a short read is an I/O error, not a value', async () => {
    const i2c = {
      openPromisified: async () => ({
        i2cRead: async (_a: number, _l: number, buffer: Buffer) => ({ bytesRead: 2, buffer }),
        close: async () => undefined,
      }),
    };
    const bus = await createHardwareBackend({ load: () => i2c }).openI2c(1);
    await assert.rejects(bus.read(0x44, 6), (e: unknown) => e instanceof HardwareError && e.key === 'ioError');
  });
});
