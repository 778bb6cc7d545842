// I2cBus on real hardware through i2c-bus's promise API; every error comes back in plain words.
import { describeFault } from './describe-fault';
import { loadOptional, type RequireFn } from './optional-module';
import type { I2cBus } from './types';

/** What this pack uses of i2c-bus 5 (PromisifiedBus), described locally so it compiles without the module. */
interface PromisifiedBus {
  i2cWrite(address: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number; buffer: Buffer }>;
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  readI2cBlock(address: number, command: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  writeByte(address: number, command: number, byte: number): Promise<void>;
  close(): Promise<void>;
}
interface I2cBusModule {
  openPromisified(busNumber: number, options?: { forceAccess?: boolean }): Promise<PromisifiedBus>;
}

function isI2cBus(m: unknown): m is I2cBusModule {
  return !!m && typeof (m as { openPromisified?: unknown }).openPromisified === 'function';
}

export function loadI2cBus(load?: RequireFn): I2cBusModule {
  return loadOptional('i2c-bus', 'I2C', isI2cBus, load);
}

function short(address: number, got: number, wanted: number): Error {
  return Object.assign(new Error(`short transfer at ${address}: ${got} of ${wanted} bytes`), { code: 'EIO' });
}

export async function openI2cBusDevice(busNumber: number, load?: RequireFn): Promise<I2cBus> {
  const mod = loadI2cBus(load);
  // openPromisified resolves even without /dev/i2c-N: the error arrives with the first transfer.
  const bus = await mod.openPromisified(busNumber).catch((err: unknown) => Promise.reject(describeFault(err, { kind: 'i2c', bus: busNumber })));
  const fail = (address: number) => (err: unknown) => Promise.reject(describeFault(err, { kind: 'i2c', bus: busNumber, address }));
  // After close(), i2c-bus still holds a descriptor number per address: a transfer would reach whatever file now has
  // that number. Refuse it here.
  let closed = false;
  const open = (address: number): Promise<void> => (closed ? fail(address)(Object.assign(new Error('bus closed'), { code: 'EBADF' })) : Promise.resolve());
  return {
    busNumber,
    write: async (address, bytes) => {
      await open(address);
      const r = await bus.i2cWrite(address, bytes.length, Buffer.from(bytes)).catch(fail(address));
      if (r.bytesWritten !== bytes.length) return fail(address)(short(address, r.bytesWritten, bytes.length));
    },
    read: async (address, length) => {
      await open(address);
      const r = await bus.i2cRead(address, length, Buffer.alloc(length)).catch(fail(address));
      if (r.bytesRead !== length) return fail(address)(short(address, r.bytesRead, length));
      return new Uint8Array(r.buffer.subarray(0, length));
    },
    readRegisters: async (address, register, length) => {
      await open(address);
      const r = await bus.readI2cBlock(address, register, length, Buffer.alloc(length)).catch(fail(address));
      if (r.bytesRead !== length) return fail(address)(short(address, r.bytesRead, length));
      return new Uint8Array(r.buffer.subarray(0, length));
    },
    writeRegister: (address, register, value) => open(address).then(() => bus.writeByte(address, register, value).catch(fail(address))),
    close: () => {
      closed = true;
      return bus.close().catch(() => undefined);
    },
  };
}
