// The size of the PUBLISH packet MQTT.js will write for a request, to compare with the broker's MQTT 5 Maximum
// Packet Size before sending: a broker that receives a larger packet closes the connection (MQTT 5 section 3.1.2.11.4).
import type { PublishProperties, PublishRequest } from '../mqtt/connection';

/** Bytes of a Variable Byte Integer (MQTT 5 section 1.5.5). */
function varIntBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Encoded length of the v5 properties this pack sends (identifier byte + value each), without the length prefix. */
function propertiesBytes(p: PublishProperties | undefined): number {
  if (!p) return 0;
  let n = 0;
  if (p.payloadFormatIndicator !== undefined) n += 2;
  if (p.messageExpiryInterval !== undefined) n += 5;
  if (p.topicAlias !== undefined) n += 3;
  if (p.contentType !== undefined) n += 3 + utf8(p.contentType);
  if (p.responseTopic !== undefined) n += 3 + utf8(p.responseTopic);
  if (p.correlationData !== undefined) n += 3 + p.correlationData.length;
  if (p.subscriptionIdentifier !== undefined) {
    for (const id of [p.subscriptionIdentifier].flat()) n += 1 + varIntBytes(id);
  }
  if (p.userProperties) {
    for (const [k, v] of Object.entries(p.userProperties)) {
      for (const value of [v].flat()) n += 5 + utf8(k) + utf8(value);
    }
  }
  return n;
}

/** Whole packet: fixed header, remaining length, topic, packet id (QoS 1/2), properties (v5) and payload. */
export function publishPacketSize(req: PublishRequest, protocolVersion: 4 | 5): number {
  let remaining = 2 + utf8(req.topic);
  if (req.qos > 0) remaining += 2;
  if (protocolVersion === 5) {
    const props = propertiesBytes(req.properties);
    remaining += varIntBytes(props) + props;
  }
  remaining += Buffer.isBuffer(req.payload) ? req.payload.length : utf8(req.payload);
  return 1 + varIntBytes(remaining) + remaining;
}
