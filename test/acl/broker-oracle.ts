// Asks a running Mosquitto what it allows, for the differential tests.
// write: MQTT 5 QoS 1 publish; PUBACK 0x87 (MQTT.js error code 135) = denied, success = allowed.
// read: the identity subscribes (# and $…/# filters) before a privileged client publishes the probe; after the
// publisher has its PUBACKs, each subscriber makes one QoS 1 round trip of its own. Mosquitto queues the probe
// (when delivered) on the subscriber's socket before it answers that later request, so "not arrived by the
// answer" means "not delivered": the decision comes from ordering, not from a sleep.
import mqtt, { type MqttClient } from 'mqtt';
import type { Identity } from '../../src/lib/acl/types';

export interface ConnectedIdentity {
  identity: Identity;
  client: MqttClient;
  /** Probe ids (payload "r:<id>") seen so far. */
  received: Set<number>;
}

export async function connectIdentity(port: number, identity: Identity, password?: string): Promise<ConnectedIdentity> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    clientId: identity.clientId,
    username: identity.username,
    password,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const received = new Set<number>();
  client.on('message', (_topic, payload) => {
    const text = payload.toString();
    if (text.startsWith('r:')) received.add(Number(text.slice(2)));
  });
  return { identity, client, received };
}

/** true = the broker accepted the publish, false = PUBACK 0x87. Anything else throws. */
export async function brokerAllowsPublish(client: MqttClient, topic: string): Promise<boolean> {
  try {
    await client.publishAsync(topic, 'w', { qos: 1 });
    return true;
  } catch (err) {
    if (err instanceof Error && (err as Error & { code?: number }).code === 135) return false;
    throw err;
  }
}

/** Subscribes to '#' and '<first>/#' for each '$' first level among `topics` (the broker must grant them). */
export async function subscribeAll(c: ConnectedIdentity, topics: string[]): Promise<void> {
  const filters = new Set<string>(['#']);
  for (const t of topics) if (t.startsWith('$')) filters.add(`${t.split('/')[0]}/#`);
  await c.client.subscribeAsync([...filters], { qos: 0 });
}

/** One request/answer with the broker after which every earlier delivery to this client has arrived. */
export async function roundTrip(c: ConnectedIdentity): Promise<void> {
  await brokerAllowsPublish(c.client, 'zz-sync');
}

export async function closeAll(clients: Array<{ client: MqttClient }>): Promise<void> {
  await Promise.all(clients.map((c) => c.client.endAsync(true).catch(() => undefined)));
}

/** true = SUBACK granted the filter, false = refused (0x80/0x87). One filter per SUBSCRIBE. */
export async function brokerAllowsSubscribe(client: MqttClient, filter: string): Promise<boolean> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 0 });
    return granted.every((g) => g.qos < 128);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('Subscribe error')) return false;
    throw err;
  }
}
