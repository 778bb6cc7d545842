import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AWS_MAX_PAYLOAD_BYTES } from '../../src/lib/formats/aws-iot';
import { haId, HomeAssistantFormatter } from '../../src/lib/formats/home-assistant';
import { BUILTIN_SCHEMAS } from '../../src/lib/schema/builtin-schemas';
import { compileSchema } from '../../src/lib/schema/validator';
import { createFormatter } from '../../src/lib/formats/registry';
import { compileTopicTemplate, renderTopic } from '../../src/lib/formats/topic-template';
import type { FormatOptions, Formatter, OutMessage } from '../../src/lib/formats/types';
import { BME280_MSG, golden, reading, T0 } from './fixtures';
import { parseJson } from '../../src/lib/json';

function formatter(o: FormatOptions): Formatter {
  const f = createFormatter(o);
  assert.ok(f.ok, f.ok ? '' : f.error.message);
  return f.value;
}

function run(o: FormatOptions, input = BME280_MSG): OutMessage[] {
  const out = formatter(o).format(reading(input));
  assert.ok(out.ok, out.ok ? '' : out.error.message);
  return out.value;
}

function failsWith(o: FormatOptions, input: typeof BME280_MSG, code: string): string {
  const out = formatter(o).format(reading(input));
  assert.equal(out.ok, false);
  if (out.ok) return '';
  assert.equal(out.error.code, code, out.error.message);
  return out.error.message;
}

test('JSON envelope: golden payload, ISO or epoch-ms time, metadata only when given', () => {
  const [m] = run({ format: 'json' });
  assert.equal(m.topic, 'telemetry/greenhouse-1/bme280');
  assert.equal(m.contentType, 'application/json');
  assert.equal(m.payload, golden('envelope-bme280.json').trim());
  const [ms] = run({ format: 'json', timestampStyle: 'ms' }, { ...BME280_MSG, metadata: { site: 'north' } });
  const env = JSON.parse(ms.payload as string) as Record<string, unknown>;
  assert.equal(env.timestamp, T0);
  assert.deepEqual(env.metadata, { site: 'north' });
});

test('ThingsBoard: golden { ts, values } on v1/devices/me/telemetry', () => {
  const [m] = run({ format: 'thingsboard' });
  assert.equal(m.topic, 'v1/devices/me/telemetry');
  assert.equal(m.payload, golden('thingsboard-bme280.json').trim());
});

test('topic templates: node defaults fill in, placeholders may not add levels or wildcards', () => {
  const [m] = run({ format: 'json', topic: 'site/{device}/{sensor}', device: 'fallback', sensor: 'x' }, { payload: { t: 1 }, timestamp: T0 });
  assert.equal(m.topic, 'site/fallback/x');
  assert.match(failsWith({ format: 'json' }, { payload: { t: 1 }, device: 'a/b', sensor: 's', timestamp: T0 }, 'INVALID_TOPIC'), /cannot be a topic level/);
  failsWith({ format: 'json' }, { payload: { t: 1 }, device: 'a+', sensor: 's', timestamp: T0 }, 'INVALID_TOPIC');
  assert.match(failsWith({ format: 'json' }, { payload: { t: 1 }, sensor: 's', timestamp: T0 }, 'MISSING_FIELD'), /\{device\}/);
  for (const bad of ['a/{nope}', 'a/#', 'a/{device', '']) {
    const t = compileTopicTemplate(bad);
    assert.equal(t.ok, false, bad);
  }
  const t = compileTopicTemplate('x/{device}');
  assert.ok(t.ok);
  const r = renderTopic(t.value, { device: 'd\u0000' });
  assert.equal(r.ok, false);
});

test('AWS IoT Core: envelope, QoS 1 not retained; topic length, slashes, $ and payload size checked', () => {
  const [m] = run({ format: 'aws' });
  assert.equal(m.topic, 'dt/telemetry/greenhouse-1/bme280');
  assert.equal(m.payload, golden('envelope-bme280.json').trim());
  assert.equal(m.retain, false);
  assert.equal(m.qos, 1);
  assert.equal(createFormatter({ format: 'aws', qos: 2 }).ok, false);
  assert.match(failsWith({ format: 'aws', topic: 'a/b/c/d/e/f/g/h/{device}' }, BME280_MSG, 'PLATFORM_LIMIT'), /8 slashes/);
  assert.match(failsWith({ format: 'aws', topic: `${'x'.repeat(250)}/{device}` }, BME280_MSG, 'PLATFORM_LIMIT'), /bytes/);
  failsWith({ format: 'aws', topic: '$aws/things/{device}' }, BME280_MSG, 'PLATFORM_LIMIT');
  // The largest reading the parser allows (500 names of up to 128 characters, each with a unit) exceeds 128 KB.
  const big: Record<string, number> = {};
  const units: Record<string, string> = {};
  for (let i = 0; i < 500; i++) {
    const name = `m${String(i).padStart(3, '0')}_${'x'.repeat(120)}`;
    big[name] = i + 0.123456789;
    units[name] = 'Cel';
  }
  const msg = failsWith({ format: 'aws' }, { payload: big, units, sensor: 's', device: 'd', timestamp: T0 }, 'PLATFORM_LIMIT');
  assert.match(msg, new RegExp(`at most ${AWS_MAX_PAYLOAD_BYTES}`));
});

test('Azure IoT Hub: fixed topic with JSON property bag, device id checked, QoS 2 refused', () => {
  const [m] = run({ format: 'azure' });
  assert.equal(m.topic, 'devices/greenhouse-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8');
  assert.equal(m.payload, golden('envelope-bme280.json').trim());
  assert.equal(m.qos, 1);
  assert.equal(m.retain, false);
  assert.equal(createFormatter({ format: 'azure', qos: 2 }).ok, false);
  assert.equal(createFormatter({ format: 'azure', topic: 'x/y' }).ok, false);
  failsWith({ format: 'azure' }, { ...BME280_MSG, device: 'bad device' }, 'BAD_FIELD');
  failsWith({ format: 'azure' }, { payload: { t: 1 }, timestamp: T0 }, 'MISSING_FIELD');
});

test('Home Assistant: retained configs (golden) then state; configs only again when new or changed', () => {
  const f = formatter({ format: 'homeassistant', haManufacturer: 'Bosch', haExpireAfter: 300 });
  const first = f.format(reading());
  assert.ok(first.ok);
  const want = JSON.parse(golden('homeassistant-bme280.json')) as unknown[];
  assert.deepEqual(first.value.map((m) => ({ topic: m.topic, retain: m.retain, qos: m.qos, payload: JSON.parse(m.payload as string) as unknown })), want);
  const second = f.format(reading());
  assert.ok(second.ok);
  assert.deepEqual(second.value.map((m) => m.topic), ['telemetry/greenhouse-1/bme280/state'], 'no configs repeated');
  const third = f.format(reading({ ...BME280_MSG, payload: { temperature: 1, door: true } }));
  assert.ok(third.ok);
  assert.deepEqual(third.value.map((m) => m.topic), ['homeassistant/binary_sensor/greenhouse-1/bme280_door/config', 'telemetry/greenhouse-1/bme280/state']);
  assert.deepEqual(JSON.parse(third.value[1].payload as string) as unknown, { temperature: 1, door: 'ON' });
});

test('Home Assistant: "online" on the status topic re-sends every config; other messages are not control', () => {
  const f = formatter({ format: 'homeassistant' });
  assert.ok(f.format(reading()).ok);
  assert.equal(f.control?.('sensors/x', 'online'), undefined);
  const online = f.control?.('homeassistant/status', Buffer.from('online'));
  assert.ok(online && online.ok);
  assert.equal(online.value.length, 3);
  assert.ok(online.value.every((m) => m.retain === true && m.topic.endsWith('/config')));
  const offline = f.control?.('homeassistant/status', 'offline');
  assert.ok(offline && offline.ok);
  assert.equal(offline.value.length, 0);
});

test('Home Assistant: removal() gives empty retained configs that delete every announced entity', () => {
  const ha = HomeAssistantFormatter.create({ format: 'homeassistant' });
  assert.ok(ha.ok);
  assert.deepEqual(ha.value.removal(), []);
  assert.ok(ha.value.format(reading()).ok);
  const removal = ha.value.removal();
  assert.deepEqual(removal.map((m) => [m.payload, m.retain]), [['', true], ['', true], ['', true]]);
  assert.equal(removal[0].topic, 'homeassistant/sensor/greenhouse-1/bme280_temperature/config');
});

test('Home Assistant: the sensor node units (°C, hPa, %RH) get Home Assistant units and device classes', () => {
  const msgs = run({ format: 'homeassistant' }, { ...BME280_MSG, units: { temperature: '°C', pressure: 'hPa', humidity: '%RH' } });
  const cfgs = msgs.slice(0, 3).map((m) => JSON.parse(m.payload as string) as { unit_of_measurement: string; device_class: string });
  assert.deepEqual(cfgs.map((c) => [c.unit_of_measurement, c.device_class]), [['°C', 'temperature'], ['hPa', 'pressure'], ['%', 'humidity']]);
});

test('Home Assistant: ids are sanitised, the device id is required, {measurement} is not a valid state topic', () => {
  const [cfg] = run({ format: 'homeassistant' }, { payload: { 'accel.x': 1 }, sensor: 'mpu 6050', device: 'dev:1', timestamp: T0 });
  assert.equal(cfg.topic, 'homeassistant/sensor/dev_1/mpu_6050_accel_x/config');
  assert.equal((JSON.parse(cfg.payload as string) as { value_template: string }).value_template, '{{ value_json["accel.x"] }}');
  failsWith({ format: 'homeassistant' }, { payload: { t: 1 }, timestamp: T0 }, 'MISSING_FIELD');
  assert.equal(createFormatter({ format: 'homeassistant', topic: 'x/{measurement}' }).ok, false);
});

test('Home Assistant: measurements a.b and a_b (one id) are refused, not announced over each other; legal ids stay as they are', () => {
  for (const legal of ['greenhouse-1', 'bme280_temperature', 'pm2_5', 'A-Z_09']) assert.equal(haId(legal), legal);
  const f = formatter({ format: 'homeassistant' });
  const clash = f.format(reading({ payload: { 'a.b': 1, a_b: 2 }, sensor: 's', device: 'd', timestamp: T0 }));
  assert.equal(clash.ok, false);
  if (!clash.ok) {
    assert.equal(clash.error.code, 'BAD_NAME');
    assert.equal(clash.error.path, 'payload.a_b');
    assert.match(clash.error.message, /unique_id "d_s_a_b", already used by measurement "a.b" of sensor "s"/);
  }
});

test('Home Assistant: sensor+measurement pairs whose ids still meet (a_b+c, a+b_c) are refused, not announced over each other', () => {
  const f = formatter({ format: 'homeassistant' });
  const first = f.format(reading({ payload: { c: 1 }, sensor: 'a_b', device: 'd', timestamp: T0 }));
  assert.ok(first.ok);
  const clash = f.format(reading({ payload: { other: 3, b_c: 2 }, sensor: 'a', device: 'd', timestamp: T0 }));
  assert.equal(clash.ok, false);
  if (!clash.ok) {
    assert.equal(clash.error.code, 'BAD_NAME');
    assert.equal(clash.error.path, 'payload.b_c');
    assert.match(clash.error.message, /unique_id "d_a_b_c", already used by measurement "c" of sensor "a_b"/);
  }
  // The refused reading left nothing behind: only the first entity is re-announced, and "other" is new again.
  const online = f.control?.('homeassistant/status', 'online');
  assert.ok(online && online.ok);
  assert.deepEqual(online.value.map((m) => m.topic), ['homeassistant/sensor/d/a_b_c/config']);
  const later = f.format(reading({ payload: { other: 3 }, sensor: 'a', device: 'd', timestamp: T0 }));
  assert.ok(later.ok);
  assert.deepEqual(later.value.map((m) => m.topic), ['homeassistant/sensor/d/a_other/config', 'telemetry/d/a/state']);
});

test('a fractional-millisecond reading time gives whole epoch ms that the built-in schemas accept', () => {
  const input = { ...BME280_MSG, timestamp: T0 + 0.5 };
  const cases: Array<[FormatOptions, string]> = [
    [{ format: 'json', timestampStyle: 'ms' }, 'json'],
    [{ format: 'json' }, 'json'],
    [{ format: 'aws', timestampStyle: 'ms' }, 'json'],
    [{ format: 'azure', timestampStyle: 'ms' }, 'json'],
    [{ format: 'thingsboard' }, 'thingsboard'],
    [{ format: 'senml' }, 'senml'],
  ];
  for (const [o, schemaName] of cases) {
    const schema = compileSchema(BUILTIN_SCHEMAS.get(schemaName));
    assert.ok(schema.ok, schema.ok ? '' : schema.error.message);
    const [m] = run(o, input);
    const doc = parseJson(m.payload as string);
    const v = schema.value.validate(doc);
    assert.ok(v.valid, `${JSON.stringify(o)}: ${v.valid ? '' : v.error.message}`);
  }
  const env = parseJson(run({ format: 'json', timestampStyle: 'ms' }, input)[0].payload as string);
  assert.equal((env as { timestamp: unknown }).timestamp, T0, 'the fraction is dropped, as in the ISO text');
  const tb = parseJson(run({ format: 'thingsboard' }, input)[0].payload as string);
  assert.equal((tb as { ts: unknown }).ts, T0);
});

test('unknown formats and bad options are configuration errors', () => {
  const unknown = createFormatter({ format: 'xml' as 'json' });
  assert.equal(unknown.ok, false);
  if (!unknown.ok) assert.equal(unknown.error.code, 'BAD_OPTION');
  assert.equal(createFormatter({ format: 'json', qos: 3 as 0 }).ok, false);
  assert.equal(createFormatter({ format: 'sparkplug' }).ok, false, 'Sparkplug needs a group id');
});
