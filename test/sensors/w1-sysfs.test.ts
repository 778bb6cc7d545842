import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { createHardwareBackend } from '../../src/lib/hardware/real-backend';
import { openW1Sysfs } from '../../src/lib/hardware/w1-sysfs';
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

test('w1_slave files are read one at a time (each read holds a libuv thread for the conversion); a read that hangs gives up its turn', async () => {
  // FIFOs stand in for the kernel's files: a read blocks until something is written, as during a conversion.
  const root = mkdtempSync(path.join(os.tmpdir(), 'w1-turns-'));
  const ids = ['28-00000000000a', '28-00000000000b', '28-00000000000c'];
  const fifos = ids.map((id) => {
    const dir = path.join(root, 'sys', 'bus', 'w1', 'devices', id);
    mkdirSync(dir, { recursive: true });
    const fifo = path.join(dir, 'w1_slave');
    execFileSync('mkfifo', [fifo]);
    return fifo;
  });
  /** Whether a reader has the FIFO open: opening it to write without blocking fails (ENXIO) when none has. */
  const beingRead = (fifo: string): number | undefined => {
    try {
      return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
  };
  const answer = (fd: number): void => {
    writeSync(fd, GOOD);
    closeSync(fd);
  };
  try {
    const reads = ids.map((id) => openW1Sysfs(id, root, 1500).readSlave());
    const order: number[] = [];
    for (let round = 0; round < 2; round++) {
      let open: Array<[number, number]> = [];
      for (let i = 0; i < 50 && open.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        open = fifos.map((f, k): [number, number | undefined] => [k, beingRead(f)]).filter((x): x is [number, number] => x[1] !== undefined);
      }
      assert.equal(open.length, 1, `round ${round}: one read at a time, not ${open.length}`);
      order.push(open[0][0]);
      answer(open[0][1]);
    }
    assert.deepEqual(order, [0, 1]);
    // The third read is never answered... until after its turn has passed: nothing else waits, it just ends late.
    const third = await (async () => {
      let fd: number | undefined;
      for (let i = 0; i < 50 && fd === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        fd = beingRead(fifos[2]);
      }
      return fd;
    })();
    assert.ok(third !== undefined, 'the third read started');
    const late = openW1Sysfs(ids[0], root, 1500).readSlave();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(beingRead(fifos[0]), undefined, 'still the third one\'s turn');
    await new Promise((r) => setTimeout(r, 1500));
    const fd0 = beingRead(fifos[0]);
    assert.ok(fd0 !== undefined, 'after a turn of 1.5 s the next read goes ahead');
    answer(fd0);
    answer(third);
    assert.deepEqual(await Promise.all([...reads, late]), [GOOD, GOOD, GOOD, GOOD]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
