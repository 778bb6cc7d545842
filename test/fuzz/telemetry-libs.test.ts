// Properties of the telemetry libraries: parseReading, every format's encoder, the schema handling, the reducers and
// the drivers' parsing. Hostile input gives a Result with a code and a message (or the driver's HardwareError);
// nothing throws, nothing pollutes a prototype, and what comes out is always valid (finite numbers, valid topics).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseReading, type Reading } from '../../src/lib/formats/reading';
import { createFormatter } from '../../src/lib/formats/registry';
import { FORMAT_NAMES, type FormatOptions } from '../../src/lib/formats/types';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { checkPublishTopic } from '../../src/lib/mqtt/topic-rules';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../src/lib/reduce/batch';
import type { Clock, TimerHandle } from '../../src/lib/reduce/clock';
import { Deadband } from '../../src/lib/reduce/deadband';
import { WindowAggregator, parseFunctions, type WindowResult } from '../../src/lib/reduce/window';
import { BUILTIN_SCHEMAS } from '../../src/lib/schema/builtin-schemas';
import { documentOf } from '../../src/lib/schema/document';
import { SchemaCache } from '../../src/lib/schema/validator';
import { parseW1Slave } from '../../src/lib/sensors/ds18b20';
import { scratchpadFor, w1SlaveText } from '../../src/lib/sensors/ds18b20-sim';
import { parseSensorConfig, type SensorFields } from '../../src/lib/sensors/sensor-config';
import { checkedWords } from '../../src/lib/sensors/sensirion-words';
import { assertNoPollution, count, deep, hostileKey, hostileMessage, hostileNumber, hostileString, hostileValue, readingPayload, report } from './arbitraries';

const RUNS = 300;
const NOW = 1_700_000_000_000;

/** A clock the reducers run on; time moves only when the property says so. */
class StepClock implements Clock {
  t = NOW;
  private timers: Array<{ at: number; fn: () => void; h: object }> = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h = {};
    this.timers.push({ at: this.t + ms, fn, h });
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.h !== h);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.length;
  }
}

function assertValidReading(r: Reading): void {
  for (const [k, v] of r.values) {
    assert.ok(!['__proto__', 'constructor', 'prototype'].includes(k), `forbidden key ${k}`);
    assert.ok(typeof v === 'boolean' || Number.isFinite(v), `value ${k} = ${String(v)} is not finite`);
  }
  assert.ok(Number.isFinite(r.timestamp), 'timestamp finite');
}

/** Readings that parse: the hostile generator finds the edges, the plain one keeps most runs valid. */
const validReading: fc.Arbitrary<Reading> = fc
  .record({
    payload: fc.dictionary(fc.oneof(fc.constantFrom('temperature', 'humidity', 't', 'on'), hostileKey), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, 0, -0, true, false)), { minKeys: 1, maxKeys: 4 }),
    device: fc.oneof(fc.constantFrom('gw-1', 'a b', 'dev/1', 'dév'), hostileString),
    sensor: fc.oneof(fc.constantFrom('bme280', '+', '#'), hostileString),
    units: fc.constant({ temperature: 'Cel' }),
  })
  .map((m) => parseReading({ ...m, timestamp: NOW }, () => NOW))
  .filter((r): r is { ok: true; value: Reading } => r.ok)
  .map((r) => r.value);

/** Few groups and names, extreme values: what makes running aggregates overflow. */
const reducerReading: fc.Arbitrary<Reading> = fc
  .record({
    payload: fc.dictionary(fc.constantFrom('t', 'h'), fc.oneof(fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, 1e308, -1e308, 0, true, false), fc.double({ noNaN: true, noDefaultInfinity: true })), { minKeys: 1, maxKeys: 2 }),
    device: fc.constantFrom('d1', 'd2'),
  })
  .map((m) => parseReading({ ...m, timestamp: NOW }, () => NOW))
  .filter((r): r is { ok: true; value: Reading } => r.ok)
  .map((r) => r.value);

function formatOptions(format: (typeof FORMAT_NAMES)[number], device: string | undefined): FormatOptions {
  const o: FormatOptions = { format, device, sensor: 'fuzz' };
  if (format === 'sparkplug') Object.assign(o, { spGroup: 'g', spEdgeNode: 'edge' });
  return o;
}

describe('fuzz: formats, schema, reducers and drivers', () => {
  after(() => report('telemetry-libs'));

  test('parseReading: a valid reading or a coded error with a path; never throws, never pollutes', () => {
    let good = 0;
    fc.assert(
      fc.property(fc.oneof(hostileMessage, fc.record({ payload: readingPayload, timestamp: fc.constant(NOW), device: fc.oneof(fc.constant('gw'), hostileString) })), (msg) => {
        count('parseReading');
        const r = parseReading(msg, () => NOW);
        assertNoPollution();
        if (r.ok) {
          good++;
          assertValidReading(r.value);
        } else {
          assert.ok(r.error.code.length > 0 && r.error.message.length > 0 && r.error.message.length < 500, r.error.message);
        }
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
    assert.ok(good > 20, `some readings were valid (${good})`);
  });

  test('every format: a valid reading gives messages with valid topics and finite, parseable payloads, or a coded error', () => {
    fc.assert(
      fc.property(validReading, fc.constantFrom(...FORMAT_NAMES), fc.option(hostileString, { nil: undefined }), fc.option(hostileString.filter((s) => s.length < 200), { nil: undefined }), (reading, format, device, topic) => {
        count(`format ${format}`);
        const o = formatOptions(format, device);
        if (topic !== undefined) o.topic = topic;
        const f = createFormatter(o, () => NOW);
        if (!f.ok) {
          assert.ok(f.error.message.length > 0);
          return true;
        }
        const out = f.value.format(reading);
        assertNoPollution();
        if (!out.ok) {
          assert.ok(out.error.code.length > 0 && out.error.message.length > 0);
          return true;
        }
        for (const m of out.value) {
          assert.equal(checkPublishTopic(m.topic), undefined, `${format} produced topic ${JSON.stringify(m.topic)}`);
          assert.ok(typeof m.payload === 'string' || Buffer.isBuffer(m.payload));
          if (typeof m.payload === 'string' && format !== 'influx') {
            const parsed: unknown = JSON.parse(m.payload);
            assert.ok(parsed !== undefined);
            const outsideStrings = m.payload.replace(/"(?:[^"\\]|\\.)*"/g, '""');
            assert.doesNotMatch(outsideStrings, /NaN|Infinity/, 'no NaN or Infinity in JSON');
          }
          if (format === 'influx') assert.match(String(m.payload), /^[^\n]+ -?\d+$/, 'one line per reading, ending in its timestamp');
        }
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('format control messages (Home Assistant online, Sparkplug rebirth) take any topic and payload', () => {
    fc.assert(
      fc.property(fc.constantFrom('homeassistant', 'sparkplug') as fc.Arbitrary<'homeassistant' | 'sparkplug'>, hostileValue, hostileValue, (format, topic, payload) => {
        count('format control');
        const f = createFormatter(formatOptions(format, 'dev'), () => NOW);
        assert.ok(f.ok);
        const r = f.value.control?.(topic, payload);
        if (r?.ok) for (const m of r.value) assert.equal(checkPublishTopic(m.topic), undefined);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  test('schema handling: any schema compiles or is refused; any document validates or is refused; nothing throws', () => {
    const cache = new SchemaCache(8);
    const schemaArb = fc.oneof(
      fc.constantFrom(...BUILTIN_SCHEMAS.values()),
      fc.constantFrom({ type: 'object', properties: { a: { type: 'number' } }, required: ['a'] }, { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array' }, { type: 'string', format: 'date-time' }, true, false),
      fc.dictionary(fc.constantFrom('type', 'properties', '$ref', 'format', 'pattern', '$schema', '__proto__', 'items', 'required', 'enum'), hostileValue, { maxKeys: 4 }),
      hostileValue,
      hostileString,
    );
    fc.assert(
      fc.property(schemaArb, fc.oneof(hostileValue, readingPayload, hostileString), (schema, payload) => {
        count('schema compile + validate');
        const compiled = cache.compile(schema);
        const doc = documentOf(payload);
        assertNoPollution();
        if (!compiled.ok) {
          assert.equal(compiled.error.code, 'BAD_SCHEMA');
          return true;
        }
        if (!doc.ok) {
          assert.ok(['TOO_LARGE', 'NOT_JSON', 'TOO_DEEP'].includes(doc.error.code));
          return true;
        }
        const v = compiled.value.validate(doc.value);
        if (!v.valid) assert.ok(v.error.message.length > 0 && Array.isArray(v.error.errors));
        assert.ok(cache.size <= 8, 'bounded cache');
        return true;
      }),
      { numRuns: RUNS },
    );
    // Depth is refused before any recursion: 100 000 levels, as an object and as JSON text.
    assert.equal((documentOf(deep(100_000, 'object')) as { ok: false; error: { code: string } }).error.code, 'TOO_DEEP');
    assert.equal((documentOf('['.repeat(100_000) + ']'.repeat(100_000)) as { ok: false; error: { code: string } }).error.code, 'TOO_DEEP');
  });

  test('reducers: deadband and window outputs are valid readings (finite values), whatever readings arrive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(validReading, reducerReading), fc.nat(5000)), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('time', 'count') as fc.Arbitrary<'time' | 'count'>,
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('mean', 'mean,min,max', 'count,last', 'bogus', ''),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.constantFrom('absolute', 'percent') as fc.Arbitrary<'absolute' | 'percent'>,
        (steps, kind, size, fns, band, mode) => {
          count('reducers');
          const clock = new StepClock();
          const out: Reading[] = [];
          const windows: WindowResult[] = [];
          const w = new WindowAggregator({ kind, size: kind === 'time' ? size * 1000 : size, functions: parseFunctions(fns), maxGroups: 4 }, clock, (r) => windows.push(r));
          const d = new Deadband({ mode, band, heartbeatMs: 3000, maxTracked: 8 }, clock, (r) => out.push(r));
          for (const [reading, dt] of steps) {
            clock.advance(dt);
            w.offer(reading);
            const passed = d.offer(reading);
            if (passed) out.push(passed);
          }
          clock.advance(10_000);
          w.flush();
          d.close();
          for (const r of out) assertValidReading(r);
          for (const r of windows) {
            assertValidReading(r.reading);
            assert.ok(r.window.readings >= 1 && r.window.end >= r.window.start);
          }
          assert.equal(clock.pending, 0, 'no timer left after flush/close');
          assertNoPollution();
          return true;
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('batching: any payload becomes an entry or a coded error; batches are valid JSON arrays or text lines', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostileValue, hostileString, readingPayload), { minLength: 1, maxLength: 12 }), fc.constantFrom('array', 'lines') as fc.Arbitrary<'array' | 'lines'>, fc.boolean(), (payloads, join, gzip) => {
        count('batch');
        const clock = new StepClock();
        const batches: BatchItem[][] = [];
        const b = new Batcher({ maxCount: 4, maxAgeMs: 1000, join, gzip, maxBytes: 200_000 }, clock, (items) => batches.push(items));
        let accepted = 0;
        for (const p of payloads) {
          const e = batchEntry(p, join);
          if (!e.ok) {
            assert.equal(e.error.code, 'BAD_VALUE');
            continue;
          }
          accepted++;
          b.offer({ entry: e.value.entry, size: e.value.size });
        }
        b.flush();
        assert.equal(batches.reduce((n, x) => n + x.length, 0), accepted, 'every accepted entry in exactly one batch');
        for (const items of batches) {
          const enc = encodeBatch(items, { join, gzip });
          if (!gzip && join === 'array') assert.equal((JSON.parse(enc.payload as string) as unknown[]).length, items.length);
          if (gzip) assert.ok(Buffer.isBuffer(enc.payload));
        }
        assertNoPollution();
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  test('DS18B20 w1_slave parsing: a finite temperature or a HardwareError, for random and mutated driver text', () => {
    const realText = fc.integer({ min: -880, max: 2000 }).map((raw) => w1SlaveText(scratchpadFor(raw & 0xffff), true, Math.trunc((((raw << 16) >> 16) * 1000) / 16)));
    const mutated = fc.tuple(realText, fc.nat(200), fc.oneof(hostileString, fc.constantFrom('NO', 'YES', 't=', 't=' + '9'.repeat(400), 't=-0', '\n', '00 ', 'zz')), fc.nat(40)).map(([t, at, ins, del]) => {
      const i = at % (t.length + 1);
      return t.slice(0, i) + ins + t.slice(i + (del % 5));
    });
    fc.assert(
      fc.property(fc.oneof(realText, mutated, hostileString), (text) => {
        count('parseW1Slave');
        try {
          const c = parseW1Slave('28-000000000001', text);
          assert.ok(Number.isFinite(c), `temperature ${c} from ${JSON.stringify(text)}`);
          assert.ok(c >= -55 && c <= 125, `temperature ${c} °C is outside the DS18B20 range, from ${JSON.stringify(text)}`);
        } catch (err) {
          assert.ok(err instanceof HardwareError, `not a HardwareError: ${String(err)}`);
        }
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('Sensirion words: random bytes give words with good CRCs or a HardwareError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        count('checkedWords');
        try {
          const words = checkedWords(bytes, 'SHT4x');
          assert.equal(words.length, Math.floor(bytes.length / 3));
          for (const w of words) assert.ok(w >= 0 && w <= 0xffff);
        } catch (err) {
          assert.ok(err instanceof HardwareError);
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  test('sensor configuration: any field values give a config or a list of problems, never a throw', () => {
    const field = fc.oneof(fc.constantFrom('1', '0x76', '0x44', '28-0123456789ab', 'high', 'a0', '4.096', '128', '0', '10', 'true'), hostileString, hostileNumber.map(String), hostileValue);
    fc.assert(
      fc.property(fc.record({ sensorType: fc.oneof(fc.constantFrom('bme280', 'sht3x', 'sht4x', 'bh1750', 'ads1115', 'ds18b20', 'gpio'), hostileValue), bus: field, address: field, deviceId: field, pin: field, precision: field, bhMode: field, mtreg: field, channel: field, gain: field, rate: field, interval: field, readOnInput: field, topic: field }, { requiredKeys: [] }), (fields) => {
        count('parseSensorConfig');
        const r = parseSensorConfig(fields as SensorFields);
        if (r.config) {
          assert.equal(r.problems.length, 0);
          assert.ok(Number.isFinite(r.config.intervalMs) && r.config.intervalMs >= 0);
          assert.equal(typeof r.config.topic, 'string');
        } else assert.ok(r.problems.length > 0 && r.problems.every((p) => typeof p === 'string'));
        assertNoPollution();
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});
