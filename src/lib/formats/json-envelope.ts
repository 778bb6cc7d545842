// The pack's own JSON envelope: who measured what, when, in which unit. AWS and Azure carry it too.
import { ok, type Result } from './errors';
import { deviceOf, sensorOf, splitByTemplate, templateOrDefault, wholeMs } from './common';
import { toPlainObject, type Reading, type ReadingValue } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';

export interface Envelope {
  device?: string;
  sensor?: string;
  timestamp: string | number;
  values: Record<string, ReadingValue>;
  units: Record<string, string>;
  metadata?: Record<string, string | number | boolean>;
}

export function envelopeOf(r: Reading, o: FormatOptions): Envelope {
  const device = deviceOf(r, o);
  const sensor = sensorOf(r, o);
  // Key order is fixed so that payloads are byte-stable (golden tests, deduplication downstream).
  const env: Envelope = {
    ...(device !== undefined ? { device } : {}),
    ...(sensor !== undefined ? { sensor } : {}),
    timestamp: o.timestampStyle === 'ms' ? wholeMs(r.timestamp) : new Date(r.timestamp).toISOString(),
    values: toPlainObject(r.values),
    units: toPlainObject(r.units),
  };
  if (r.metadata.size > 0) env.metadata = toPlainObject(r.metadata);
  return env;
}

export function createJsonFormatter(o: FormatOptions): Result<Formatter> {
  const template = templateOrDefault(o, 'telemetry/{device}/{sensor}');
  if (!template.ok) return template;
  return ok({
    name: 'json',
    format(r: Reading): Result<OutMessage[]> {
      return splitByTemplate(r, o, template.value, (part, topic) =>
        ok({ topic, payload: JSON.stringify(envelopeOf(part, o)), contentType: 'application/json', ...(o.qos !== undefined ? { qos: o.qos } : {}) }),
      );
    },
  });
}
