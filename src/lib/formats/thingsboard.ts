// ThingsBoard device telemetry: `v1/devices/me/telemetry` with `{ "ts": <epoch ms>, "values": {...} }`.
import { ok, type Result } from './errors';
import { splitByTemplate, templateOrDefault, wholeMs } from './common';
import { toPlainObject, type Reading } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';

export const THINGSBOARD_TOPIC = 'v1/devices/me/telemetry';

export function createThingsBoardFormatter(o: FormatOptions): Result<Formatter> {
  const template = templateOrDefault(o, THINGSBOARD_TOPIC);
  if (!template.ok) return template;
  return ok({
    name: 'thingsboard',
    format(r: Reading): Result<OutMessage[]> {
      return splitByTemplate(r, o, template.value, (part, topic) =>
        ok({ topic, payload: JSON.stringify({ ts: wholeMs(part.timestamp), values: toPlainObject(part.values) }), contentType: 'application/json', qos: o.qos ?? 1 }),
      );
    },
  });
}
