// The backend for real hardware: onoff, i2c-bus and the w1 sysfs files, all loaded or opened only when used.
import type { HardwareBackend } from './backend';
import { sysfsGpioNumber } from './gpio-numbering';
import { openI2cBusDevice } from './i2c-bus-device';
import { openOnoffLine } from './onoff-gpio';
import type { RequireFn } from './optional-module';
import { realTimers } from './timers';
import { listOneWire, openW1Sysfs } from './w1-sysfs';

export interface RealBackendOptions {
  /** Prefix for /sys (tests point it at a fake tree). */
  sysfsRoot?: string;
  /** How optional native modules are loaded (tests simulate their absence). */
  load?: RequireFn;
}

export function createHardwareBackend(opts: RealBackendOptions = {}): HardwareBackend {
  const root = opts.sysfsRoot ?? '/';
  return {
    name: 'hardware',
    timers: realTimers,
    openI2c: (bus) => openI2cBusDevice(bus, opts.load),
    openGpio: async (pin, gpioOpts) => openOnoffLine(pin, await sysfsGpioNumber(pin, root), gpioOpts, opts.load),
    listOneWire: (family) => listOneWire(family, root),
    openOneWire: (id) => openW1Sysfs(id, root),
  };
}
