// AWS IoT Core telemetry: the JSON envelope on a user topic, within the service's limits (no retain,
// QoS 0 or 1, topic at most 256 bytes and 7 slashes, payload at most 128 KB).
import { fail, ok, type Result } from './errors';
import { byteLength, checkPayloadSize, splitByTemplate, templateOrDefault } from './common';
import { envelopeOf } from './json-envelope';
import type { Reading } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';

export const AWS_MAX_TOPIC_BYTES = 256;
export const AWS_MAX_SLASHES = 7;
export const AWS_MAX_PAYLOAD_BYTES = 128 * 1024;

export function checkAwsTopic(topic: string): Result<true> {
  if (topic.startsWith('$')) return fail('PLATFORM_LIMIT', `topic "${topic}" starts with '$', which AWS IoT reserves`, 'topic');
  const bytes = byteLength(topic);
  if (bytes > AWS_MAX_TOPIC_BYTES) return fail('PLATFORM_LIMIT', `topic is ${bytes} bytes; AWS IoT accepts at most ${AWS_MAX_TOPIC_BYTES}`, 'topic');
  const slashes = topic.split('/').length - 1;
  if (slashes > AWS_MAX_SLASHES) return fail('PLATFORM_LIMIT', `topic has ${slashes} slashes; AWS IoT accepts at most ${AWS_MAX_SLASHES}`, 'topic');
  return ok(true);
}

export function createAwsFormatter(o: FormatOptions): Result<Formatter> {
  if (o.qos === 2) return fail('BAD_OPTION', 'AWS IoT Core supports QoS 0 and 1 only', 'qos');
  const template = templateOrDefault(o, 'dt/telemetry/{device}/{sensor}');
  if (!template.ok) return template;
  return ok({
    name: 'aws',
    format(r: Reading): Result<OutMessage[]> {
      return splitByTemplate(r, o, template.value, (part, topic) => {
        const t = checkAwsTopic(topic);
        if (!t.ok) return t;
        const payload = JSON.stringify(envelopeOf(part, o));
        const size = checkPayloadSize(payload, AWS_MAX_PAYLOAD_BYTES, 'AWS IoT Core');
        if (!size.ok) return size;
        return ok({ topic, payload, contentType: 'application/json', qos: o.qos ?? 1, retain: false });
      });
    },
  });
}
