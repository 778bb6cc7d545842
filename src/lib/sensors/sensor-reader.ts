// One configured sensor as something that can be read and closed. Buses and pins are opened on the first
// reading and dropped after a failure, so every later reading retries from scratch (a bus that appears
// after boot, a sensor plugged back in).
import type { HardwareBackend } from '../hardware/backend';
import { exclusive } from '../hardware/device-lock';
import { HardwareError } from '../hardware/hardware-error';
import { sleeper } from '../hardware/timers';
import type { GpioLine, I2cBus } from '../hardware/types';
import { Ads1115 } from './ads1115';
import { Bh1750 } from './bh1750';
import { Bme280 } from './bme280';
import { Ds18b20, DS18B20_FAMILY } from './ds18b20';
import type { Reading } from './reading';
import type { SensorConfig } from './sensor-config';
import { Sht3x } from './sht3x';
import { Sht4x } from './sht4x';

export interface SensorReader {
  /** After close() it opens nothing and fails with `readerClosed()`. */
  read(): Promise<Reading>;
  /** Releases the bus or pin for good (an opening still under way is released when it finishes); safe to call twice. */
  close(): Promise<void>;
}

/** What a reading asked for after close() fails with. */
export function readerClosed(): HardwareError {
  return new HardwareError('unknown', 'ECLOSED', 'the sensor was closed before the reading could be taken (redeploy or shutdown)');
}

interface Driver {
  read(): Promise<Reading>;
}

export function createSensorReader(config: SensorConfig, backend: HardwareBackend): SensorReader {
  const sleep = sleeper(backend.timers);
  let bus: I2cBus | undefined;
  let line: GpioLine | undefined;
  let driver: Driver | undefined;
  let closed = false;
  /** The DS18B20 "the first found" chose: kept, so a failure never switches the node to another probe unseen. */
  let chosenId: string | undefined;
  /** The driver's transfers in progress: close() lets them finish (or fail) before the bus goes. */
  let measuring: Promise<unknown> | undefined;

  async function i2cDriver(): Promise<Driver> {
    bus = await backend.openI2c(config.bus, { device: config.type, address: config.address });
    const a = config.address;
    switch (config.type) {
      case 'bme280':
        return new Bme280(bus, a, sleep);
      case 'sht3x':
        return new Sht3x(bus, a, sleep, config.precision);
      case 'sht4x':
        return new Sht4x(bus, a, sleep, config.precision);
      case 'bh1750':
        return new Bh1750(bus, a, sleep, config.bhMode, config.mtreg);
      case 'ads1115':
        return new Ads1115(bus, a, sleep, { channel: config.channel, gain: config.gain, rate: config.rate });
      default:
        throw new Error(`${config.type} is not an I2C sensor`);
    }
  }

  async function open(): Promise<Driver> {
    if (config.type === 'ds18b20') {
      let id = config.deviceId || chosenId;
      if (!id) {
        const found = await backend.listOneWire(DS18B20_FAMILY);
        if (!found.length) {
          throw new HardwareError('noOneWire', 'ENOENT', 'no DS18B20 found: enable 1-Wire (dtoverlay=w1-gpio) and check the wiring and pull-up', { device: '28-*' });
        }
        id = found[0];
        chosenId = id;
      }
      return new Ds18b20(backend.openOneWire(id));
    }
    if (config.type === 'gpio') {
      const l = await backend.openGpio(config.pin, { direction: 'in', reconfigureDirection: false });
      line = l;
      return {
        read: async () => ({ model: 'GPIO', values: { level: await l.read() }, units: { level: '' } }),
      };
    }
    return i2cDriver();
  }

  async function release(): Promise<void> {
    driver = undefined;
    line?.release();
    line = undefined;
    const b = bus;
    bus = undefined;
    await b?.close();
  }

  async function readOnce(): Promise<Reading> {
    if (closed) throw readerClosed();
    try {
      if (!driver) {
        const opened = await open();
        // close() ran while the bus or pin was opening: release what was just opened (in the catch below).
        if (closed) throw readerClosed();
        driver = opened;
      }
      const d = driver;
      // Readers of one device (same backend, bus and address) take turns; see device-lock.ts. A turn that comes
      // after close() must not touch the bus.
      const turn = (): Promise<Reading> => {
        if (closed) return Promise.reject(readerClosed());
        const p = d.read();
        measuring = p;
        const over = (): void => {
          if (measuring === p) measuring = undefined;
        };
        p.then(over, over);
        return p;
      };
      return await (bus ? exclusive(backend, `i2c-${config.bus}-${config.address}`, turn) : turn());
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
  }

  return {
    read: readOnce,
    close() {
      closed = true;
      // The bus is closed once the transfers in progress are over: i2c-bus keeps a descriptor per address after its
      // close(), and a transfer still to come would go to whatever file reuses that number.
      const busy = measuring ?? Promise.resolve();
      return busy.then(release, release);
    },
  };
}
