// Azure IoT Hub device-to-cloud telemetry: `devices/{deviceId}/messages/events/` plus a property bag that
// declares the body as UTF-8 JSON (so routing queries can read it); QoS 2 makes the hub close the connection.
import { fail, ok, quote, type Result } from './errors';
import { checkPayloadSize, deviceOf } from './common';
import { envelopeOf } from './json-envelope';
import type { Reading } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';
import { checkPublishTopic } from '../mqtt/topic-rules';

export const AZURE_MAX_PAYLOAD_BYTES = 256 * 1024;
/** IoT Hub device ids: up to 128 ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ ' */
const AZURE_DEVICE_ID = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;
const PROPERTY_BAG = '$.ct=application%2Fjson&$.ce=utf-8';

export function azureTelemetryTopic(deviceId: string): Result<string> {
  if (!AZURE_DEVICE_ID.test(deviceId)) {
    return fail('BAD_FIELD', `device id ${quote(deviceId)} is not a valid IoT Hub device id (1-128 of A-Z a-z 0-9 - . % _ * ? ! ( ) , : = @ $ ')`, 'device');
  }
  const topic = `devices/${deviceId}/messages/events/${PROPERTY_BAG}`;
  const problem = checkPublishTopic(topic);
  return problem ? fail('INVALID_TOPIC', problem.message, 'topic') : ok(topic);
}

export function createAzureFormatter(o: FormatOptions): Result<Formatter> {
  if (o.qos === 2) return fail('BAD_OPTION', 'Azure IoT Hub closes the connection on QoS 2; use QoS 0 or 1', 'qos');
  if (o.topic && o.topic.trim()) return fail('BAD_OPTION', 'Azure IoT Hub fixes the telemetry topic; leave the topic empty', 'topic');
  return ok({
    name: 'azure',
    format(r: Reading): Result<OutMessage[]> {
      const device = deviceOf(r, o);
      if (device === undefined) return fail('MISSING_FIELD', 'Azure IoT Hub needs the device id: set msg.device or the node device', 'device');
      const topic = azureTelemetryTopic(device);
      if (!topic.ok) return topic;
      const payload = JSON.stringify(envelopeOf(r, o));
      const size = checkPayloadSize(payload, AZURE_MAX_PAYLOAD_BYTES, 'Azure IoT Hub');
      if (!size.ok) return size;
      return ok([{ topic: topic.value, payload, contentType: 'application/json', qos: o.qos ?? 1, retain: false }]);
    },
  });
}
