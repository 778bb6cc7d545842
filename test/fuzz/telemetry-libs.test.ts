// Properties of the telemetry libraries: parseReading, every format's encoder, the schema handling, the reducers and
// the drivers' parsing. Hostile input gives a Result with a code and a message (or the driver's HardwareError);
// nothing throws, nothing pollutes a prototype, and what comes out is always valid (finite numbers, valid topics).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseReading, type Reading } from '../../src/lib/formats/reading';
import { createFormatter } from '../../src/lib/formats/registry';
import { FORMAT_NAMES, type FormatOptions } from '../../src/lib/formats/types';
import type { HardwareBackend } from '../../src/lib/hardware/backend';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { nack, SimI2cBus, type I2cDeviceModel } from '../../src/lib/hardware/sim-i2c';
import type { Timers } from '../../src/lib/hardware/timers';
import { checkPublishTopic } from '../../src/lib/mqtt/topic-rules';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../src/lib/reduce/batch';
import type { Clock, TimerHandle } from '../../src/lib/reduce/clock';
import { Deadband } from '../../src/lib/reduce/deadband';
import { WindowAggregator, parseFunctions, type WindowResult } from '../../src/lib/reduce/window';
import { BUILTIN_SCHEMAS } from '../../src/lib/schema/builtin-schemas';
import { documentOf } from '../../src/lib/schema/document';
import { SchemaCache } from '../../src/lib/schema/validator';
import { ADS_CHANNELS, ADS_GAINS, ADS_RATES } from '../../src/lib/sensors/ads1115';
import { bh1750Lux, MTREG_MAX, MTREG_MIN, type Bh1750Mode } from '../../src/lib/sensors/bh1750';
import { Bme280, convert } from '../../src/lib/sensors/bme280';
import { compensateHumidity, compensatePressure, compensateTemperature, encodeCalibration, parseCalibration, type Bme280Calibration } from '../../src/lib/sensors/bme280-compensation';
import { EXAMPLE_CALIBRATION } from '../../src/lib/sensors/bme280-sim';
import { parseW1Slave } from '../../src/lib/sensors/ds18b20';
import { scratchpadFor, w1SlaveText } from '../../src/lib/sensors/ds18b20-sim';
import { parseSensorConfig, type SensorFields } from '../../src/lib/sensors/sensor-config';
import { createSensorReader } from '../../src/lib/sensors/sensor-reader';
import { checkedWords } from '../../src/lib/sensors/sensirion-words';
import { assertNoPollution, count, deep, hostileKey, hostileMessage, hostileNumber, hostileString, hostileValue, readingPayload, report } from './arbitraries';
import { noWait } from '../helpers/manual-clock';

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

// ---- I2C drivers fed random register contents ----

/** Timers that fire at once: a driver's waits and polls cost nothing. */
const instantTimers: Timers = { now: () => 0, setTimeout: (fn) => setImmediate(fn), clearTimeout: () => undefined };

/**
 * A register-addressed device (BME280 style: the first written byte sets the pointer, reads auto-increment) whose
 * registers hold random bytes. Reads of `statusReg` take the next byte of `status` (0 once it runs out), and the
 * transfer numbered `nackAt` is not acknowledged, as a device that drops off the bus mid-reading.
 */
class RandomRegisters implements I2cDeviceModel {
  private pointer = 0;
  private transfers = 0;
  constructor(
    private readonly regs: Uint8Array,
    private readonly statusReg: number,
    private readonly status: number[],
    private readonly nackAt: number | undefined,
  ) {}
  private tick(): void {
    if (this.transfers++ === this.nackAt) throw nack();
  }
  write(bytes: Uint8Array): void {
    this.tick();
    if (bytes.length > 0) this.pointer = bytes[0];
  }
  read(length: number): Uint8Array {
    this.tick();
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const reg = (this.pointer + i) & 0xff;
      out[i] = reg === this.statusReg && length === 1 ? (this.status.shift() ?? 0) : this.regs[reg];
    }
    return out;
  }
}

/** ADS1115: pointer 1 is the config register (OS bit from `ready`, then set), pointer 0 the conversion. */
class RandomAds1115 implements I2cDeviceModel {
  private pointer = 0;
  constructor(
    private readonly conversion: [number, number],
    private readonly ready: number[] | 'never',
  ) {}
  write(bytes: Uint8Array): void {
    if (bytes.length > 0) this.pointer = bytes[0];
  }
  read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    if (this.pointer === 0) out.set(this.conversion.slice(0, length));
    else out[0] = this.ready === 'never' ? 0x05 : (this.ready.shift() ?? 0x85);
    return out;
  }
}

/** BH1750: every read gives the two result bytes (high, low). */
class RandomBh1750 implements I2cDeviceModel {
  constructor(private readonly result: [number, number]) {}
  write(): void {}
  read(length: number): Uint8Array {
    return Uint8Array.from({ length }, (_, i) => this.result[i] ?? 0);
  }
}

/** A hardware backend whose only I2C bus holds `model` at every address. */
function backendWith(model: I2cDeviceModel): HardwareBackend {
  return {
    name: 'fuzz',
    timers: instantTimers,
    openI2c: async (bus, hint) => new SimI2cBus(bus).attach(hint?.address ?? 0, model),
    openGpio: () => Promise.reject(new Error('no GPIO in this test')),
    listOneWire: async () => [],
    openOneWire: () => {
      throw new Error('no 1-Wire in this test');
    },
  };
}

/**
 * The datasheet's pressure divisor (var1 after the P1 scaling), computed here independently: the compensation
 * returns 0 Pa exactly when it is 0 (BMP280 datasheet §8.2, "avoid exception caused by division by zero").
 */
function pressureDivisor(tFine: number, c: Bme280Calibration): bigint {
  let a = BigInt(tFine) - 128000n;
  a = ((a * a * BigInt(c.P3)) >> 8n) + ((a * BigInt(c.P2)) << 12n);
  return (((1n << 47n) + a) * BigInt(c.P1)) >> 33n;
}

/** 26 calibration bytes: random, or the datasheet example with a few bytes overwritten (mostly plausible). */
const calib1 = fc.oneof(
  fc.uint8Array({ minLength: 26, maxLength: 26 }),
  fc.array(fc.tuple(fc.nat(25), fc.nat(255)), { maxLength: 4 }).map((edits) => {
    const tp = encodeCalibration(EXAMPLE_CALIBRATION).tp;
    for (const [i, b] of edits) tp[i] = b;
    return tp;
  }),
  fc.constantFrom(new Uint8Array(26), new Uint8Array(26).fill(0xff)),
);
const calib2 = fc.oneof(fc.uint8Array({ minLength: 7, maxLength: 7 }), fc.constant(encodeCalibration(EXAMPLE_CALIBRATION).hum), fc.constantFrom(new Uint8Array(7), new Uint8Array(7).fill(0xff)));
const adc20 = fc.oneof(fc.integer({ min: 0, max: 0xfffff }), fc.constantFrom(0, 1, 0x80000, 0x7ffff, 0x80001, 0xfffff, 519888, 415148));
const adc16 = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 0x8000, 0xffff));

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

  test('BME280/BMP280 calibration: any 26 + 7 register bytes give coefficients in their register ranges, and encodeCalibration inverts it', () => {
    fc.assert(
      fc.property(calib1, fc.option(calib2, { nil: undefined }), (tp, hum) => {
        count('BME280 parseCalibration');
        const c = parseCalibration(tp, hum);
        const u16 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffff;
        const s = (bits: number) => (v: number): boolean => Number.isInteger(v) && v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1);
        assert.ok(u16(c.T1) && u16(c.P1), `T1 ${c.T1}, P1 ${c.P1}`);
        for (const k of ['T2', 'T3', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8', 'P9'] as const) assert.ok(s(16)(c[k]), `${k} = ${c[k]}`);
        if (hum) {
          const h = c.H;
          assert.ok(h, 'humidity coefficients for the BME280');
          assert.ok(h.H1 >= 0 && h.H1 <= 255 && h.H3 >= 0 && h.H3 <= 255 && s(16)(h.H2) && s(12)(h.H4) && s(12)(h.H5) && s(8)(h.H6), fc.stringify(h));
        } else assert.equal(c.H, undefined);
        const enc = encodeCalibration(c);
        assert.deepEqual(parseCalibration(enc.tp, hum ? enc.hum : undefined), c, 'encode/parse round trip');
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('BME280/BMP280 compensation: any calibration and ADC values give finite values; 0 Pa only as the divide-by-zero sentinel', () => {
    let sentinel = 0;
    fc.assert(
      fc.property(calib1, calib2, fc.constantFrom('BME280', 'BMP280') as fc.Arbitrary<'BME280' | 'BMP280'>, adc20, adc20, adc16, (tp, hum, model, adcT, adcP, adcH) => {
        count('BME280 compensation');
        const c = parseCalibration(tp, model === 'BME280' ? hum : undefined);
        const t = compensateTemperature(adcT, c);
        assert.ok(Number.isSafeInteger(t.tFine) && Number.isSafeInteger(t.centiDeg), `t_fine ${t.tFine}, ${t.centiDeg} cdegC`);
        const p = compensatePressure(adcP, t.tFine, c);
        assert.ok(Number.isFinite(p), `pressure ${p} from adcP ${adcP}, ${fc.stringify(c)}`);
        const divisorZero = pressureDivisor(t.tFine, c) === 0n;
        if (divisorZero) {
          sentinel++;
          assert.equal(p, 0, 'the divide-by-zero case returns the documented 0');
        }
        if (model === 'BME280') {
          const h = compensateHumidity(adcH, t.tFine, c);
          assert.ok(Number.isInteger(h) && h >= 0 && h <= 100 * 1024, `humidity ${h / 1024} %RH`);
        }
        const r = convert(model, c, adcT, adcP, adcH);
        for (const [k, v] of Object.entries(r.values)) assert.ok(Number.isFinite(v), `${k} = ${v} from adcT ${adcT}, adcP ${adcP}, adcH ${adcH}, ${fc.stringify(c)}`);
        assert.deepEqual(Object.keys(r.values).sort(), model === 'BME280' ? ['humidity', 'pressure', 'temperature'] : ['pressure', 'temperature']);
        // convert() passes the sentinel on as 0 hPa: the driver must refuse it (next property).
        if (r.values.pressure === 0) assert.ok(divisorZero || p === 0, '0 hPa only from the compensation returning 0');
        return true;
      }),
      { numRuns: RUNS * 3 },
    );
    console.log(`[figures] telemetry-libs: BME280 compensation: ${sentinel} inputs hit the divide-by-zero sentinel`);
  });

  test('BME280/BMP280 driver: random chip id, calibration, status and data registers give a finite reading (never 0 hPa) or a HardwareError', async () => {
    const regs = fc.record({
      id: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0x60, 0x58, 0x56, 0x57) }, { weight: 1, arbitrary: fc.nat(255) }),
      tp: calib1,
      hum: calib2,
      status: fc.oneof({ weight: 3, arbitrary: fc.constant([] as number[]) }, { weight: 3, arbitrary: fc.array(fc.nat(255), { maxLength: 30 }) }, { weight: 1, arbitrary: fc.constant(new Array<number>(30).fill(0x08)) }),
      data: fc.oneof(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.tuple(adc20, adc20, adc16).map(([p, t, h]) => Uint8Array.of(p >> 12, (p >> 4) & 0xff, (p & 0xf) << 4, t >> 12, (t >> 4) & 0xff, (t & 0xf) << 4, h >> 8, h & 0xff)),
      ),
      nackAt: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(30) }),
    });
    // P1 = 1, yet the pressure divisor is 0 (t_fine 1176576 with P2 = -32768, P3 = 0): the sentinel must not pass.
    const tricky = encodeCalibration({ T1: 0, T2: 18392, T3: 0, P1: 1, P2: -32768, P3: 0, P4: 0, P5: 0, P6: 0, P7: 0, P8: 0, P9: 0 }).tp;
    const trickyData = Uint8Array.of(500000 >> 12, (500000 >> 4) & 0xff, (500000 & 0xf) << 4, 1048120 >> 12, (1048120 >> 4) & 0xff, (1048120 & 0xf) << 4, 0x80, 0);
    const outcomes = { reading: 0, hardwareError: 0, zeroPressureRefused: 0, outOfRangeRefused: 0 };
    await fc.assert(
      fc.asyncProperty(regs, async (r) => {
        count('BME280 driver read');
        const file = new Uint8Array(256);
        file.set(r.tp, 0x88);
        file.set(r.hum, 0xe1);
        file[0xd0] = r.id;
        file.set(r.data, 0xf7);
        const bus = new SimI2cBus(1).attach(0x76, new RandomRegisters(file, 0xf3, [...r.status], r.nackAt));
        const calibration = parseCalibration(r.tp, r.id === 0x60 ? r.hum : undefined);
        try {
          const reading = await new Bme280(bus, 0x76, noWait).read();
          outcomes.reading++;
          for (const [k, v] of Object.entries(reading.values)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
          assert.notEqual(reading.values.pressure, 0, `0 hPa (the divide-by-zero sentinel) returned as a reading: calibration ${fc.stringify(calibration)}, data ${fc.stringify(r.data)}`);
          if (reading.values.humidity !== undefined) assert.ok(reading.values.humidity >= 0 && reading.values.humidity <= 100);
          // A corrupt calibration gives finite but impossible values: those must be refused, never sent.
          const { temperature: t, pressure: p } = reading.values;
          assert.ok(t >= -40 && t <= 85 && p >= 300 && p <= 1100, `${t} degC, ${p} hPa from calibration ${fc.stringify(calibration)}, data ${fc.stringify(r.data)}`);
        } catch (err) {
          assert.ok(err instanceof HardwareError, `not a HardwareError: ${String(err)}`);
          outcomes.hardwareError++;
          if (/pressure calibration/.test(err.message)) outcomes.zeroPressureRefused++;
          if (/outside the sensor's range/.test(err.message)) outcomes.outOfRangeRefused++;
        }
        return true;
      }),
      { numRuns: RUNS * 2, examples: [[{ id: 0x58, tp: tricky, hum: new Uint8Array(7), status: [], data: trickyData, nackAt: undefined }]] },
    );
    assert.ok(outcomes.reading > 20, `some readings succeeded (${outcomes.reading})`);
    assert.ok(outcomes.outOfRangeRefused > 0, 'some random calibrations give impossible values, and those are refused');
    console.log(`[figures] telemetry-libs: BME280 driver: ${outcomes.reading} readings, ${outcomes.hardwareError} HardwareErrors (${outcomes.zeroPressureRefused} for a 0 Pa compensation, ${outcomes.outOfRangeRefused} outside -40..85 degC / 300..1100 hPa)`);
  });

  test('BH1750: any two result bytes, mode and MTreg the configuration accepts give a finite lux in range', async () => {
    const field = fc.oneof(fc.constantFrom('', '31', '69', '254', '30', '255', '0', '-1', '1e2', '0x45', '69.5', 'NaN'), fc.integer({ min: -10, max: 300 }).map(String), hostileString, hostileValue);
    const maxLux = (0xffff / 1.2) * (69 / MTREG_MIN);
    let readings = 0;
    await fc.assert(
      fc.asyncProperty(fc.tuple(fc.nat(255), fc.nat(255)), fc.oneof(fc.constantFrom('', 'high', 'high2', 'low'), hostileString), field, async (bytes, bhMode, mtreg) => {
        count('BH1750 read');
        const parsed = parseSensorConfig({ sensorType: 'bh1750', bhMode, mtreg } as SensorFields);
        if (!parsed.config) return true;
        const cfg = parsed.config;
        assert.ok(Number.isInteger(cfg.mtreg) && cfg.mtreg >= MTREG_MIN && cfg.mtreg <= MTREG_MAX, `MTreg ${cfg.mtreg} accepted`);
        const lux = bh1750Lux((bytes[0] << 8) | bytes[1], cfg.bhMode, cfg.mtreg);
        assert.ok(Number.isFinite(lux) && lux >= 0 && lux <= maxLux, `bh1750Lux = ${lux}`);
        try {
          const r = await createSensorReader(cfg, backendWith(new RandomBh1750(bytes))).read();
          assert.equal(r.values.illuminance, lux);
          readings++;
        } catch (err) {
          assert.ok(err instanceof HardwareError, `not a HardwareError: ${String(err)}`);
        }
        return true;
      }),
      { numRuns: RUNS * 2 },
    );
    // The conversion itself, over the whole raw range and every valid MTreg.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('high', 'high2', 'low') as fc.Arbitrary<Bh1750Mode>, fc.integer({ min: MTREG_MIN, max: MTREG_MAX }), (raw, mode, mtreg) => {
        count('bh1750Lux');
        const lux = bh1750Lux(raw, mode, mtreg);
        assert.ok(Number.isFinite(lux) && lux >= 0 && lux <= maxLux, `bh1750Lux(${raw}, ${mode}, ${mtreg}) = ${lux}`);
        assert.equal(lux === 0, raw === 0, '0 lx only for a raw 0');
        return true;
      }),
      { numRuns: RUNS },
    );
    assert.ok(readings > 20, `some readings (${readings})`);
  });

  test('ADS1115: any conversion bytes, ready bits and settings the configuration accepts give a finite voltage within the gain, or a HardwareError', async () => {
    const field = (good: readonly unknown[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...good.map(String), '') }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: hostileNumber.map(String) });
    let readings = 0;
    let timeouts = 0;
    let overRange = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ channel: field(ADS_CHANNELS), gain: field(ADS_GAINS), rate: field(ADS_RATES) }),
        fc.tuple(fc.nat(255), fc.nat(255)),
        fc.oneof(fc.array(fc.nat(255), { maxLength: 8 }), fc.constant('never' as const)),
        async (fields, conversion, ready) => {
          count('ADS1115 read');
          const parsed = parseSensorConfig({ sensorType: 'ads1115', ...fields } as SensorFields);
          if (!parsed.config) return true;
          const cfg = parsed.config;
          const raw = ((conversion[0] << 8) | conversion[1]) << 16 >> 16;
          // A code at either end of the scale is a clipped input, not a measurement: the driver refuses it.
          const clipped = raw === 0x7fff || raw === -0x8000;
          try {
            const r = await createSensorReader(cfg, backendWith(new RandomAds1115(conversion, ready === 'never' ? 'never' : [...ready]))).read();
            const v = r.values.voltage;
            assert.ok(Number.isFinite(v) && Math.abs(v) < cfg.gain, `voltage ${v} V at gain ${cfg.gain}, bytes ${fc.stringify(conversion)}`);
            assert.equal(v, (raw * cfg.gain) / 32768);
            assert.ok(!clipped, `full-scale code ${raw} given as a reading`);
            readings++;
          } catch (err) {
            assert.ok(err instanceof HardwareError, `not a HardwareError: ${String(err)} (config ${fc.stringify(cfg)})`);
            if (ready === 'never') timeouts++;
            else {
              assert.ok(clipped && /full scale/.test(err.message), `only a conversion that never finishes or a full-scale code fails: ${err.message}`);
              overRange++;
            }
          }
          return true;
        },
      ),
      { numRuns: RUNS * 2, examples: [[{ channel: 'a0', gain: '4.096', rate: '128' }, [0x80, 0], []], [{ channel: 'a0', gain: '4.096', rate: '128' }, [0x7f, 0xff], []]] },
    );
    assert.ok(readings > 50 && timeouts > 0 && overRange >= 2, `readings ${readings}, timeouts ${timeouts}, full-scale refusals ${overRange}`);
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
