// Home Assistant MQTT discovery: one retained config per measurement, announced when first seen or changed
// and again whenever Home Assistant says `online` on its status topic; then a JSON state message.
import { fail, ok, quote, type Result } from './errors';
import { deviceOf, isOnline, sensorOf, templateOrDefault, varsOf } from './common';
import { renderTopic, type TopicTemplate } from './topic-template';
import type { Reading, ReadingValue } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';
import { checkPublishTopic } from '../mqtt/topic-rules';

export const HA_DEFAULT_PREFIX = 'homeassistant';
export const HA_DEFAULT_STATUS_TOPIC = 'homeassistant/status';

/** SenML unit (or the °C/°F spelling the sensor drivers use) → Home Assistant unit and device class. */
const UNITS: ReadonlyMap<string, { unit: string; deviceClass?: string }> = new Map([
  ['Cel', { unit: '°C', deviceClass: 'temperature' }],
  ['°C', { unit: '°C', deviceClass: 'temperature' }],
  ['°F', { unit: '°F', deviceClass: 'temperature' }],
  ['K', { unit: 'K', deviceClass: 'temperature' }],
  ['Far', { unit: '°F', deviceClass: 'temperature' }],
  ['Pa', { unit: 'Pa', deviceClass: 'pressure' }],
  ['hPa', { unit: 'hPa', deviceClass: 'pressure' }],
  ['kPa', { unit: 'kPa', deviceClass: 'pressure' }],
  ['bar', { unit: 'bar', deviceClass: 'pressure' }],
  ['%RH', { unit: '%', deviceClass: 'humidity' }],
  ['%EL', { unit: '%', deviceClass: 'battery' }],
  ['V', { unit: 'V', deviceClass: 'voltage' }],
  ['A', { unit: 'A', deviceClass: 'current' }],
  ['W', { unit: 'W', deviceClass: 'power' }],
  ['lx', { unit: 'lx', deviceClass: 'illuminance' }],
  ['Hz', { unit: 'Hz', deviceClass: 'frequency' }],
  ['dBm', { unit: 'dBm', deviceClass: 'signal_strength' }],
]);

/**
 * Discovery node and object ids may only hold [a-zA-Z0-9_-]. Readable ids (`accel.x` → `accel_x`) are what
 * users see as entity ids, so two names can meet (`a.b` and `a_b`): the formatter refuses the second rather
 * than announce it over the first.
 */
export function haId(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export interface HaConfig {
  name: string;
  unique_id: string;
  state_topic: string;
  value_template: string;
  device_class?: string;
  unit_of_measurement?: string;
  state_class?: string;
  expire_after?: number;
  device: { identifiers: string[]; name: string; model?: string; manufacturer?: string };
}

/** The measurement an entity stands for. */
interface EntityOwner {
  device: string;
  sensor: string;
  name: string;
}

function sameOwner(a: EntityOwner, b: EntityOwner): boolean {
  return a.device === b.device && a.sensor === b.sensor && a.name === b.name;
}

function describeOwner(e: EntityOwner): string {
  return `measurement ${quote(e.name)} of sensor ${quote(e.sensor)} on device ${quote(e.device)}`;
}

export class HomeAssistantFormatter implements Formatter {
  readonly name = 'homeassistant';
  private readonly announced = new Map<string, OutMessage>();
  /** unique_id → its measurement: a second measurement whose id meets the first (`a.b`, `a_b`) is refused. */
  private readonly owners = new Map<string, EntityOwner>();

  private constructor(
    private readonly o: FormatOptions,
    private readonly stateTemplate: TopicTemplate,
    private readonly prefix: string,
    private readonly statusTopic: string,
  ) {}

  static create(o: FormatOptions): Result<HomeAssistantFormatter> {
    const t = templateOrDefault(o, 'telemetry/{device}/{sensor}/state', ['device', 'sensor']);
    if (!t.ok) return t;
    const prefix = o.haPrefix?.trim() || HA_DEFAULT_PREFIX;
    if (checkPublishTopic(`${prefix}/x`)) return fail('BAD_OPTION', `discovery prefix "${prefix}" is not a valid topic prefix`, 'haPrefix');
    if (o.haExpireAfter !== undefined && !(Number.isInteger(o.haExpireAfter) && o.haExpireAfter >= 0)) {
      return fail('BAD_OPTION', 'expire_after must be a whole number of seconds', 'haExpireAfter');
    }
    return ok(new HomeAssistantFormatter(o, t.value, prefix, o.haStatusTopic?.trim() || HA_DEFAULT_STATUS_TOPIC));
  }

  private config(r: Reading, name: string, value: ReadingValue, stateTopic: string, device: string, sensor: string): { msg: OutMessage; uniqueId: string } {
    const component = typeof value === 'boolean' ? 'binary_sensor' : 'sensor';
    const objectId = `${haId(sensor)}_${haId(name)}`;
    const nodeId = haId(device);
    const uniqueId = `${nodeId}_${objectId}`;
    const cfg: HaConfig = {
      name,
      unique_id: uniqueId,
      state_topic: stateTopic,
      value_template: `{{ value_json[${JSON.stringify(name)}] }}`,
      device: { identifiers: [device], name: this.o.haDeviceName?.trim() || device, model: sensor },
    };
    const unit = r.units.get(name);
    if (component === 'sensor') {
      const mapped = unit === undefined ? undefined : UNITS.get(unit);
      if (mapped?.deviceClass) cfg.device_class = mapped.deviceClass;
      if (unit !== undefined) cfg.unit_of_measurement = mapped?.unit ?? unit;
      cfg.state_class = 'measurement';
    }
    if (this.o.haExpireAfter) cfg.expire_after = this.o.haExpireAfter;
    if (this.o.haManufacturer?.trim()) cfg.device.manufacturer = this.o.haManufacturer.trim();
    const msg: OutMessage = { topic: `${this.prefix}/${component}/${nodeId}/${objectId}/config`, payload: JSON.stringify(cfg), contentType: 'application/json', qos: this.o.qos ?? 1, retain: true };
    return { msg, uniqueId };
  }

  format(r: Reading): Result<OutMessage[]> {
    const device = deviceOf(r, this.o);
    if (device === undefined) return fail('MISSING_FIELD', 'Home Assistant discovery needs a device id: set msg.device or the node device', 'device');
    const sensor = sensorOf(r, this.o) ?? 'sensor';
    const stateTopic = renderTopic(this.stateTemplate, varsOf(r, this.o));
    if (!stateTopic.ok) return stateTopic;
    // Nothing is remembered until the whole reading passes: a refused reading must not mark configs as sent.
    const out: OutMessage[] = [];
    const claims = new Map<string, EntityOwner>();
    const state: Record<string, number | string> = {};
    for (const [name, value] of r.values) {
      const announced = this.config(r, name, value, stateTopic.value, device, sensor);
      const cfg = announced.msg;
      const uniqueId = announced.uniqueId;
      const bad = checkPublishTopic(cfg.topic);
      if (bad) return fail('INVALID_TOPIC', bad.message, 'topic');
      const owner: EntityOwner = { device, sensor, name };
      const taken = this.owners.get(uniqueId) ?? claims.get(uniqueId);
      if (taken !== undefined && !sameOwner(taken, owner)) {
        return fail('BAD_NAME', `${describeOwner(owner)} would get Home Assistant unique_id ${quote(uniqueId)}, already used by ${describeOwner(taken)}; rename one of them`, `payload.${name}`);
      }
      claims.set(uniqueId, owner);
      if (this.announced.get(cfg.topic)?.payload !== cfg.payload) out.push(cfg);
      Object.defineProperty(state, name, { value: typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : value, enumerable: true });
    }
    for (const [id, owner] of claims) this.owners.set(id, owner);
    for (const cfg of out) this.announced.set(cfg.topic, cfg);
    out.push({ topic: stateTopic.value, payload: JSON.stringify(state), contentType: 'application/json', qos: this.o.qos ?? 0, retain: false });
    return ok(out);
  }

  /** Home Assistant restarted (`online` on its status topic): it needs every config again. */
  control(topic: unknown, payload: unknown): Result<OutMessage[]> | undefined {
    if (topic !== this.statusTopic) return undefined;
    return ok(isOnline(payload) ? [...this.announced.values()] : []);
  }

  /** Retained empty configs that delete every announced entity from Home Assistant. */
  removal(): OutMessage[] {
    return [...this.announced.values()].map((m) => ({ topic: m.topic, payload: '', qos: m.qos ?? 1, retain: true }));
  }
}
