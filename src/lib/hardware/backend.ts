// Where the nodes get their hardware from: the real machine or the simulation (or, in tests, a simulation
// with faults switched on). Everything a node touches goes through one of these.
import type { Timers } from './timers';
import type { GpioLine, GpioOptions, I2cBus, OneWireDevice } from './types';

/** What the user says is attached; the simulation uses it to place the right device model on the bus. */
export interface I2cDeviceHint {
  device: string;
  address: number;
}

export interface HardwareBackend {
  readonly name: string;
  readonly timers: Timers;
  openI2c(bus: number, expect?: I2cDeviceHint): Promise<I2cBus>;
  /** `pin` is a BCM number; the backend maps it to the kernel's numbering. */
  openGpio(pin: number, opts: GpioOptions): Promise<GpioLine>;
  /** Ids of attached 1-Wire devices of a family ('28' for DS18B20). */
  listOneWire(family: string): Promise<string[]>;
  openOneWire(id: string): OneWireDevice;
}
