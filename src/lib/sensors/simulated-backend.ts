// The simulated backend: register-level device models on simulated buses, a simulated GPIO controller and
// simulated DS18B20s, all measuring one slowly drifting environment. The drivers run unchanged against it.
import type { HardwareBackend, I2cDeviceHint } from '../hardware/backend';
import { SimGpioChip } from '../hardware/sim-gpio';
import { SimI2cBus, type I2cDeviceModel } from '../hardware/sim-i2c';
import { realTimers, type Timers } from '../hardware/timers';
import { Ads1115Sim } from './ads1115-sim';
import { Bh1750Sim } from './bh1750-sim';
import { Bme280Sim } from './bme280-sim';
import { Ds18b20Sim } from './ds18b20-sim';
import { DriftingEnvironment, type Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';
import { Sht3xSim, Sht4xSim } from './sht-sim';

export interface SimulatedBackendOptions {
  timers?: Timers;
  env?: Environment;
  /** Shared by every model this backend creates: flip a flag and the next reading sees it. */
  faults?: SimFaults;
  /** DS18B20 ids present on the simulated 1-Wire bus. */
  oneWireIds?: string[];
}

export interface SimulatedBackend extends HardwareBackend {
  readonly gpio: SimGpioChip;
  readonly faults: SimFaults;
  readonly env: Environment;
  /** Every bus handed out, in order (tests check they were closed). */
  readonly buses: SimI2cBus[];
  readonly oneWire: Map<string, Ds18b20Sim>;
  /** I2C buses not yet closed plus GPIO lines not yet released (a leak check: a closed node must leave none). */
  openHandles(): number;
  /** A model for `hint`, or undefined for an unknown device. */
  modelFor(hint: I2cDeviceHint): I2cDeviceModel | undefined;
}

export function createSimulatedBackend(opts: SimulatedBackendOptions = {}): SimulatedBackend {
  const timers = opts.timers ?? realTimers;
  const env = opts.env ?? new DriftingEnvironment(timers);
  const faults = opts.faults ?? {};
  const gpio = new SimGpioChip(timers);
  const buses: SimI2cBus[] = [];
  const oneWire = new Map<string, Ds18b20Sim>();
  for (const id of opts.oneWireIds ?? ['28-00000a1b2c3d']) oneWire.set(id, new Ds18b20Sim(id, env, faults));

  function modelFor(hint: I2cDeviceHint): I2cDeviceModel | undefined {
    switch (hint.device) {
      case 'bme280':
        return new Bme280Sim(env, faults);
      case 'sht3x':
        return new Sht3xSim(env, faults);
      case 'sht4x':
        return new Sht4xSim(env, faults);
      case 'bh1750':
        return new Bh1750Sim(env, faults);
      case 'ads1115':
        return new Ads1115Sim(env, faults);
      default:
        return undefined;
    }
  }

  return {
    name: 'simulated',
    timers,
    gpio,
    faults,
    env,
    buses,
    oneWire,
    modelFor,
    openHandles: () => buses.filter((b) => !b.closed).length + gpio.openLines(),
    async openI2c(busNumber, expect) {
      const bus = new SimI2cBus(busNumber);
      const model = expect ? modelFor(expect) : undefined;
      if (expect && model) bus.attach(expect.address, model);
      buses.push(bus);
      return bus;
    },
    async openGpio(pin, gpioOpts) {
      return gpio.open(pin, gpioOpts);
    },
    async listOneWire(family) {
      return [...oneWire.keys()].filter((id) => id.startsWith(`${family}-`)).sort();
    },
    openOneWire(id) {
      const device = oneWire.get(id);
      if (device) return device;
      const missing = new Ds18b20Sim(id, env, faults);
      missing.present = false;
      return missing;
    },
  };
}
