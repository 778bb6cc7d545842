// The editor and the message catalogues against the lib: address lists in step, and every error the hardware
// layer raises translatable with the substitutions it carries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { describeFault, hex } from '../../src/lib/hardware/describe-fault';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { loadOptional } from '../../src/lib/hardware/optional-module';
import { isPinInUse } from '../../src/lib/hardware/pin-claims';
import { SimGpioChip } from '../../src/lib/hardware/sim-gpio';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { Ads1115 } from '../../src/lib/sensors/ads1115';
import { Ads1115Sim } from '../../src/lib/sensors/ads1115-sim';
import { Bme280 } from '../../src/lib/sensors/bme280';
import { Bme280Sim } from '../../src/lib/sensors/bme280-sim';
import { parseW1Slave } from '../../src/lib/sensors/ds18b20';
import { SENSOR_TYPES } from '../../src/lib/sensors/sensor-types';
import { Sht3x } from '../../src/lib/sensors/sht3x';
import { Sht3xSim } from '../../src/lib/sensors/sht-sim';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import { flatCatalogue, LANGS, nodesDir } from '../helpers/catalogues';
import { noWait } from '../helpers/manual-clock';

// The nodes that report hardware errors.
const HARDWARE_NODES = ['telemetry-sensor', 'telemetry-gpio-in', 'telemetry-gpio-out'];

test('the editor offers exactly the addresses the lib accepts for each sensor type', () => {
  const html = readFileSync(path.join(nodesDir, 'telemetry-sensor', 'telemetry-sensor.html'), 'utf8');
  for (const [type, info] of Object.entries(SENSOR_TYPES)) {
    const m = new RegExp(`${type}: \\{[^}]*addresses: \\[([^\\]]*)\\]`).exec(html);
    assert.ok(m, `${type} missing from the editor`);
    const offered = m[1].split(',').map((s) => s.trim().replace(/'/g, '')).filter(Boolean);
    assert.deepEqual(offered, info.addresses.map(hex), type);
  }
});

async function raised(): Promise<HardwareError[]> {
  const errs: HardwareError[] = [];
  const grab = async (p: Promise<unknown> | (() => unknown)): Promise<void> => {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (e) {
      assert.ok(e instanceof HardwareError);
      errs.push(e);
    }
  };
  const errno = (code: string): Error => Object.assign(new Error(code), { code });
  for (const code of ['ENOENT', 'EACCES', 'EPERM', 'EREMOTEIO', 'EBUSY', 'EINVAL', 'EIO', 'EXDEV']) {
    errs.push(describeFault(errno(code), { kind: 'i2c', bus: 1, address: 0x76 }));
    errs.push(describeFault(errno(code), { kind: 'gpio', pin: 17, line: 529 }));
    errs.push(describeFault(errno(code), { kind: 'w1', device: '28-00000a1b2c3d' }));
  }
  await grab(() => loadOptional('onoff', 'GPIO', (m): m is object => !!m, () => { throw errno('MODULE_NOT_FOUND'); }));
  const env = new FixedEnvironment();
  const sht = new Sht3xSim(env, { corruptCrc: true });
  await grab(new Sht3x(new SimI2cBus(1).attach(0x44, sht), 0x44, noWait).read());
  await grab(new Bme280(new SimI2cBus(1).attach(0x76, new Bme280Sim(env, { chipId: 1 })), 0x76, noWait).read());
  await grab(new Bme280(new SimI2cBus(1).attach(0x76, new Bme280Sim(env, { stuckBusy: true })), 0x76, noWait).read());
  await grab(new Ads1115(new SimI2cBus(1).attach(0x48, new Ads1115Sim(env, { stuckBusy: true })), 0x48, noWait, { channel: 'a0', gain: 4.096, rate: 860 }).read());
  await grab(() => parseW1Slave('28-1', '50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n'));
  await grab(() => parseW1Slave('28-1', '4b 01 4b 46 7f ff 05 10 e0 : crc=e0 NO\n4b 01 4b 46 7f ff 05 10 e0 t=20687\n'));
  await grab(() => parseW1Slave('28-1', '00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n'));
  return errs;
}

test('every error the hardware layer raises has a catalogue entry whose placeholders it fills', async () => {
  const errs = await raised();
  const seenKeys = new Set(errs.map((e) => e.key));
  for (const k of ['notInstalled', 'noBus', 'noPermission', 'noDevice', 'ioError', 'busy', 'invalidPin', 'noGpioSysfs', 'crc', 'chipId', 'timeout', 'powerOn', 'noOneWire', 'badReading']) {
    assert.ok(seenKeys.has(k as HardwareError['key']), `no error with key ${k} was produced`);
  }
  for (const node of HARDWARE_NODES) {
    for (const lang of LANGS) {
      const cat = flatCatalogue(node, lang);
      for (const e of errs) {
        if (e.key === 'unknown') continue;
        for (const section of ['errors', 'status']) {
          const template = cat.get(`${node}.${section}.${e.key}`);
          assert.ok(template, `${node} ${lang} ${section}.${e.key}`);
          for (const p of template.match(/__(\w+)__/g) ?? []) {
            assert.ok(p.slice(2, -2) in e.params, `${node} ${lang} ${section}.${e.key} needs ${p}; "${e.message}" has ${JSON.stringify(e.params)}`);
          }
        }
      }
    }
  }
});

test('a pin another node holds: every GPIO-using node words it in both languages with the substitutions the error carries', () => {
  const chip = new SimGpioChip();
  /** The error for opening pin 6 as `wanted` while another line holds it as `held`. */
  const refusal = (held: 'in' | 'out', wanted: 'in' | 'out'): HardwareError[] => {
    const line = chip.open(6, { direction: held });
    try {
      chip.open(6, { direction: wanted });
      return [];
    } catch (e) {
      assert.ok(e instanceof HardwareError);
      return [e];
    } finally {
      line.release();
    }
  };
  const errs = [...refusal('out', 'in'), ...refusal('in', 'out')];
  assert.equal(errs.length, 2);
  for (const node of HARDWARE_NODES) {
    for (const lang of LANGS) {
      const cat = flatCatalogue(node, lang);
      for (const key of [`${node}.errors.pinInUse`, `${node}.status.pinInUse`]) {
        const template = cat.get(key);
        assert.ok(template, `${node} ${lang} ${key}`);
        for (const e of errs) {
          assert.ok(isPinInUse(e));
          for (const p of template.match(/__(\w+)__/g) ?? []) assert.ok(p.slice(2, -2) in e.params, `${node} ${lang} ${key} needs ${p}`);
        }
      }
    }
  }
});
