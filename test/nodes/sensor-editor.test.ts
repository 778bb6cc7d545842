// The editor definitions of the three hardware nodes, evaluated outside a browser: labels say what the node
// does, validators accept the defaults and refuse what the runtime would refuse.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import vm from 'node:vm';
import { parseGpioInConfig, parseGpioOutConfig } from '../../src/lib/hardware/gpio-config';
import { parseSensorConfig } from '../../src/lib/sensors/sensor-config';

const root = path.resolve(__dirname, '..', '..', '..');

interface FieldDef {
  value: unknown;
  validate?: (this: Record<string, unknown>, v: unknown) => boolean;
}
interface EditorDef {
  category: string;
  icon: string;
  inputs: number;
  outputs: number;
  defaults: Record<string, FieldDef>;
  label: (this: Record<string, unknown>) => string;
}

function editorDefinition(type: string): EditorDef {
  // The built file: the build puts the dialogs' shared helpers into it (see scripts/build.js).
  const html = readFileSync(path.join(root, 'dist', 'nodes', type, `${type}.html`), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'editor script');
  let def: EditorDef | undefined;
  const RED = { nodes: { registerType: (t: string, d: EditorDef) => (t === type ? (def = d) : undefined) } };
  vm.runInNewContext(script, { RED, $: () => undefined }) as unknown;
  assert.ok(def, `${type} registered`);
  return def;
}

function node(def: EditorDef, fields: Record<string, unknown>): Record<string, unknown> {
  const n: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(def.defaults)) n[k] = f.value;
  return Object.assign(n, fields);
}

function invalid(def: EditorDef, n: Record<string, unknown>): string[] {
  return Object.entries(def.defaults)
    .filter(([k, f]) => f.validate && !f.validate.call(n, n[k]))
    .map(([k]) => k);
}

test('telemetry-sensor: category, icon, ports; labels such as "BME280 @0x76 every 10 s"', () => {
  const def = editorDefinition('telemetry-sensor');
  assert.equal(def.category, 'secure telemetry');
  assert.equal(def.icon, 'telemetry-sensor.svg');
  assert.deepEqual([def.inputs, def.outputs], [1, 1]);
  assert.equal(def.label.call(node(def, {})), 'BME280 @0x76 every 10 s');
  assert.equal(def.label.call(node(def, { sensorType: 'ads1115', address: '0x49', interval: '0' })), 'ADS1115 @0x49 on input');
  assert.equal(def.label.call(node(def, { sensorType: 'ds18b20', backend: 'simulated', interval: '60' })), 'DS18B20 every 60 s (sim)');
  assert.equal(def.label.call(node(def, { name: 'Greenhouse' })), 'Greenhouse');
});

test('telemetry-sensor: the editor validates as the runtime does', () => {
  const def = editorDefinition('telemetry-sensor');
  const cases: Array<Record<string, unknown>> = [
    {},
    { sensorType: 'sht3x', address: '0x76' },
    { sensorType: 'sht4x', address: '0x46' },
    { sensorType: 'bh1750', address: '0x5c', mtreg: '254' },
    { sensorType: 'bh1750', address: '0x23', mtreg: '20' },
    { sensorType: 'ds18b20', deviceId: '28-0000' },
    { sensorType: 'gpio', pin: '60' },
    { interval: '0.01' },
    { interval: '0.5' },
  ];
  for (const fields of cases) {
    const n = node(def, fields);
    const editorOk = invalid(def, n).length === 0;
    const runtimeOk = parseSensorConfig(n).problems.length === 0;
    assert.equal(editorOk, runtimeOk, JSON.stringify(fields));
  }
  assert.deepEqual(invalid(def, node(def, {})), [], 'the defaults are valid');
});

test('telemetry-gpio-in and -out: labels, ports and pin validation match the runtime', () => {
  const gin = editorDefinition('telemetry-gpio-in');
  assert.deepEqual([gin.inputs, gin.outputs], [0, 1]);
  assert.equal(gin.label.call(node(gin, { pin: '17', edge: 'rising' })), 'GPIO17 rises');
  const gout = editorDefinition('telemetry-gpio-out');
  assert.deepEqual([gout.inputs, gout.outputs], [1, 0]);
  assert.equal(gout.label.call(node(gout, { pin: '18', activeLow: true })), 'GPIO18 out (active low)');
  for (const pin of ['0', '27', '53', '54', 'x', '']) {
    assert.equal(invalid(gin, node(gin, { pin })).length === 0, parseGpioInConfig(node(gin, { pin })).problems.length === 0, `in ${pin}`);
    assert.equal(invalid(gout, node(gout, { pin })).length === 0, parseGpioOutConfig(node(gout, { pin })).problems.length === 0, `out ${pin}`);
  }
  for (const debounce of ['0', '25', '10000', '10001', '-1']) {
    assert.equal(invalid(gin, node(gin, { debounce })).length === 0, parseGpioInConfig(node(gin, { debounce })).problems.length === 0, `debounce ${debounce}`);
  }
});
