// Helpers shared by the formats: who the reading is from, topic per reading or per measurement, JSON encoding.
import { fail, ok, type Result } from './errors';
import type { Reading } from './reading';
import { compileTopicTemplate, renderTopic, type Placeholder, type TopicTemplate, type TopicVars } from './topic-template';
import type { FormatOptions, OutMessage } from './types';

export function deviceOf(r: Reading, o: FormatOptions): string | undefined {
  return r.device ?? (o.device || undefined);
}

export function sensorOf(r: Reading, o: FormatOptions): string | undefined {
  return r.sensor ?? (o.sensor || undefined);
}

export function varsOf(r: Reading, o: FormatOptions, measurement?: string): TopicVars {
  const vars: TopicVars = {};
  const device = deviceOf(r, o);
  const sensor = sensorOf(r, o);
  if (device !== undefined) vars.device = device;
  if (sensor !== undefined) vars.sensor = sensor;
  if (measurement !== undefined) vars.measurement = measurement;
  return vars;
}

export function templateOrDefault(o: FormatOptions, fallback: string, allowed?: readonly Placeholder[]): Result<TopicTemplate> {
  return compileTopicTemplate(o.topic && o.topic.trim() ? o.topic.trim() : fallback, allowed);
}

/** The same reading restricted to one measurement. */
export function only(r: Reading, name: string): Reading {
  const v = r.values.get(name) as number | boolean;
  const u = r.units.get(name);
  return { ...r, values: new Map([[name, v]]), units: u === undefined ? new Map() : new Map([[name, u]]) };
}

/**
 * One message per reading, or one per measurement when the template uses {measurement}: that is how a
 * user asks for a topic per measurement.
 */
export function splitByTemplate(
  r: Reading,
  o: FormatOptions,
  template: TopicTemplate,
  build: (part: Reading, topic: string) => Result<OutMessage>,
): Result<OutMessage[]> {
  const parts: Array<[Reading, string | undefined]> = template.uses.has('measurement')
    ? [...r.values.keys()].map((name) => [only(r, name), name])
    : [[r, undefined]];
  const out: OutMessage[] = [];
  for (const [part, measurement] of parts) {
    const topic = renderTopic(template, varsOf(r, o, measurement));
    if (!topic.ok) return topic;
    const msg = build(part, topic.value);
    if (!msg.ok) return msg;
    out.push(msg.value);
  }
  return ok(out);
}

/**
 * Epoch ms as a whole number, for formats whose time is an integer (the JSON envelope's epoch ms, ThingsBoard's
 * ts): a reading may carry a fraction of a millisecond. Dropped, not rounded, so it agrees with toISOString().
 */
export function wholeMs(ms: number): number {
  return Math.floor(ms);
}

export function byteLength(p: string | Buffer): number {
  return typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
}

export function checkPayloadSize(p: string | Buffer, max: number, platform: string): Result<true> {
  const n = byteLength(p);
  if (n > max) return fail('PLATFORM_LIMIT', `payload is ${n} bytes; ${platform} accepts at most ${max}`, 'payload');
  return ok(true);
}

export function isOnline(payload: unknown): boolean {
  const s = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  return typeof s === 'string' && s.trim() === 'online';
}
