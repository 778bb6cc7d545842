// A simulated I2C bus that routes transfers to register-level device models; an empty address does not
// acknowledge (EREMOTEIO), exactly as a missing device does on a real bus.
import { describeFault } from './describe-fault';
import type { I2cBus } from './types';

/** A device model: it sees the raw bytes of each transfer. Throw `nack()` to refuse. */
export interface I2cDeviceModel {
  write(bytes: Uint8Array): void;
  read(length: number): Uint8Array;
}

export function nack(): Error {
  return Object.assign(new Error('Remote I/O error'), { code: 'EREMOTEIO', errno: 121 });
}

export interface SimBusFaults {
  /** Every transfer fails with this errno code ('ENOENT' for a missing bus, 'EACCES' for no permission). */
  busError?: string;
}

export class SimI2cBus implements I2cBus {
  readonly devices = new Map<number, I2cDeviceModel>();
  readonly faults: SimBusFaults = {};
  closed = false;
  transfers = 0;

  constructor(readonly busNumber: number) {}

  attach(address: number, model: I2cDeviceModel): this {
    this.devices.set(address, model);
    return this;
  }

  async write(address: number, bytes: readonly number[]): Promise<void> {
    this.transfer(address, (d) => d.write(Uint8Array.from(bytes)));
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    return this.transfer(address, (d) => d.read(length));
  }

  async readRegisters(address: number, register: number, length: number): Promise<Uint8Array> {
    return this.transfer(address, (d) => {
      d.write(Uint8Array.of(register));
      return d.read(length);
    });
  }

  async writeRegister(address: number, register: number, value: number): Promise<void> {
    this.transfer(address, (d) => d.write(Uint8Array.of(register, value)));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private transfer<T>(address: number, fn: (d: I2cDeviceModel) => T): T {
    const ctx = { kind: 'i2c', bus: this.busNumber, address } as const;
    try {
      if (this.closed) throw Object.assign(new Error('bus closed'), { code: 'EBADF' });
      if (this.faults.busError) throw Object.assign(new Error(this.faults.busError), { code: this.faults.busError });
      const device = this.devices.get(address);
      if (!device) throw nack();
      this.transfers++;
      return fn(device);
    } catch (err) {
      throw describeFault(err, ctx);
    }
  }
}
