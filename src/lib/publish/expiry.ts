// MQTT 5 Message Expiry while a message waits on our side: the broker counts the interval from when it receives the
// message, so one held in the queue through an outage goes out with what is left of it, or not at all.
import type { PublishRequest } from '../mqtt/connection';

/** The request to send `now` for one accepted at `acceptedAt` (ms), or undefined when its lifetime has passed. */
export function agedRequest(request: PublishRequest, acceptedAt: number, now: number): PublishRequest | undefined {
  const interval = request.properties?.messageExpiryInterval;
  // 0 is no lifetime at all to Mosquitto ("never expires"), not "already expired".
  if (interval === undefined || interval === 0) return request;
  const waited = Math.floor(Math.max(0, now - acceptedAt) / 1000);
  if (waited === 0) return request;
  if (waited >= interval) return undefined;
  return { ...request, properties: { ...request.properties, messageExpiryInterval: interval - waited } };
}

/** The request with no Message Expiry: one that must go whatever its age. */
export function withoutExpiry(request: PublishRequest): PublishRequest {
  if (!request.properties?.messageExpiryInterval) return request;
  const properties = { ...request.properties };
  delete properties.messageExpiryInterval;
  return { ...request, properties };
}
