// The backend for real hardware: onoff, i2c-bus and the w1 sysfs files, all loaded or opened only when used.
import type { HardwareBackend } from './backend';
import { sysfsGpioNumber } from './gpio-numbering';
import { openI2cBusDevice } from './i2c-bus-device';
import { createOnoffPins } from './onoff-gpio';
import type { RequireFn } from './optional-module';
import { realTimers, type Timers } from './timers';
import { listOneWire, openW1Sysfs } from './w1-sysfs';

export interface RealBackendOptions {
  /** Prefix for /sys (tests point it at a fake tree). */
  sysfsRoot?: string;
  /** How optional native modules are loaded (tests simulate their absence). */
  load?: RequireFn;
  /** The clock of GPIO debounce (tests use a manual one). */
  timers?: Timers;
}

export function createHardwareBackend(opts: RealBackendOptions = {}): HardwareBackend {
  const root = opts.sysfsRoot ?? '/';
  const timers = opts.timers ?? realTimers;
  // One per backend, and the 'hardware' backend is one per process: every node's lines of a pin are counted together.
  const pins = createOnoffPins(timers, opts.load);
  return {
    name: 'hardware',
    timers,
    openI2c: (bus) => openI2cBusDevice(bus, opts.load),
    openGpio: async (pin, gpioOpts) => pins.open(pin, await sysfsGpioNumber(pin, root), gpioOpts),
    listOneWire: (family) => listOneWire(family, root),
    openOneWire: (id) => openW1Sysfs(id, root),
  };
}
