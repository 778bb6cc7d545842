import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { createHardwareBackend } from '../../src/lib/hardware/real-backend';
import { parseSensorConfig } from '../../src/lib/sensors/sensor-config';
import { createSensorReader } from '../../src/lib/sensors/sensor-reader';

function fakeW1(devices: Record<string, string>): { root: string; remove(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'w1-'));
  const dir = path.join(root, 'sys', 'bus', 'w1', 'devices');
  mkdirSync(path.join(dir, 'w1_bus_master1'), { recursive: true });
  for (const [id, text] of Object.entries(devices)) {
    mkdirSync(path.join(dir, id));
    writeFileSync(path.join(dir, id, 'w1_slave'), text);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const GOOD = '4b 01 4b 46 7f ff 05 10 e1 : crc=e1 YES\n4b 01 4b 46 7f ff 05 10 e1 t=20687\n';

test('real backend, DS18B20 from the w1 sysfs files: the first 28- device when no id is given', async () => {
  const fake = fakeW1({ '28-0000000000bb': GOOD, '28-0000000000aa': GOOD, '10-000000000001': 'x' });
  try {
    const backend = createHardwareBackend({ sysfsRoot: fake.root });
    assert.deepEqual(await backend.listOneWire('28'), ['28-0000000000aa', '28-0000000000bb']);
    const { config } = parseSensorConfig({ sensorType: 'ds18b20' });
    assert.ok(config);
    const reading = await createSensorReader(config, backend).read();
    assert.deepEqual(reading, { model: 'DS18B20', values: { temperature: 20.687 }, units: { temperature: '°C' }, device: '28-0000000000aa' });
  } finally {
    fake.remove();
  }
});

test('a configured id that is not there: "not found" with the 1-Wire hint; no 1-Wire at all: the same words', async () => {
  const fake = fakeW1({});
  try {
    const backend = createHardwareBackend({ sysfsRoot: fake.root });
    await assert.rejects(backend.openOneWire('28-00000000dead').readSlave(), (e: unknown) => e instanceof HardwareError && e.key === 'noOneWire' && /28-00000000dead not found/.test(e.message));
    const { config } = parseSensorConfig({ sensorType: 'ds18b20' });
    assert.ok(config);
    await assert.rejects(createSensorReader(config, backend).read(), (e: unknown) => e instanceof HardwareError && /no DS18B20 found/.test(e.message));
  } finally {
    fake.remove();
  }
  const noW1 = createHardwareBackend({ sysfsRoot: path.join(os.tmpdir(), 'no-such-sysfs-root') });
  await assert.rejects(noW1.listOneWire('28'), (e: unknown) => e instanceof HardwareError && e.key === 'noOneWire');
});
