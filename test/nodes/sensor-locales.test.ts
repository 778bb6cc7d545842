// The editor and the message catalogues against the lib: address lists in step, both languages complete,
// and every error the hardware layer raises translatable with the substitutions it carries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { describeFault, hex } from '../../src/lib/hardware/describe-fault';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { loadOptional } from '../../src/lib/hardware/optional-module';
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
import { noWait } from '../helpers/manual-clock';

const root = path.resolve(__dirname, '..', '..', '..');
const NODES = ['telemetry-sensor', 'telemetry-gpio-in', 'telemetry-gpio-out'];
type Catalogue = Record<string, Record<string, Record<string, string>>>;

function catalogue(node: string, lang: string): Record<string, Record<string, string>> {
  const file = path.join(root, 'src', 'nodes', node, 'locales', lang, `${node}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as Catalogue)[node];
}

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

test('the editor offers exactly the addresses the lib accepts for each sensor type', () => {
  const html = readFileSync(path.join(root, 'src', 'nodes', 'telemetry-sensor', 'telemetry-sensor.html'), 'utf8');
  for (const [type, info] of Object.entries(SENSOR_TYPES)) {
    const m = new RegExp(`${type}: \\{[^}]*addresses: \\[([^\\]]*)\\]`).exec(html);
    assert.ok(m, `${type} missing from the editor`);
    const offered = m[1].split(',').map((s) => s.trim().replace(/'/g, '')).filter(Boolean);
    assert.deepEqual(offered, info.addresses.map(hex), type);
  }
});

test('en-US and zh-CN have the same keys, with the same placeholders, for every node', () => {
  for (const node of NODES) {
    const en = catalogue(node, 'en-US');
    const zh = catalogue(node, 'zh-CN');
    assert.deepEqual(keys(zh).sort(), keys(en).sort(), node);
    for (const k of keys(en)) {
      const [a, b] = k.split('.');
      const ph = (s: string): string[] => (s.match(/__\w+__/g) ?? []).sort();
      assert.deepEqual(ph(zh[a][b]), ph(en[a][b]), `${node} ${k}`);
    }
    for (const lang of ['en-US', 'zh-CN']) {
      const help = readFileSync(path.join(root, 'src', 'nodes', node, 'locales', lang, `${node}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${node}">\\s*<p>`), `${node} ${lang}: help starts with the tooltip paragraph`);
    }
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
  for (const node of NODES) {
    for (const lang of ['en-US', 'zh-CN']) {
      const cat = catalogue(node, lang);
      for (const e of errs) {
        if (e.key === 'unknown') continue;
        for (const section of ['errors', 'status']) {
          const template = cat[section][e.key];
          assert.ok(template, `${node} ${lang} ${section}.${e.key}`);
          for (const p of template.match(/__(\w+)__/g) ?? []) {
            assert.ok(p.slice(2, -2) in e.params, `${node} ${lang} ${section}.${e.key} needs ${p}; "${e.message}" has ${JSON.stringify(e.params)}`);
          }
        }
      }
    }
  }
});
