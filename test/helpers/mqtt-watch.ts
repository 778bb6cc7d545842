// A plain MQTT.js client that records what a broker delivers, for asserting on real outcomes.
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: Buffer;
  packet: IPublishPacket;
}

export interface Watcher {
  client: MqttClient;
  received: Received[];
  close(): Promise<void>;
}

export async function watch(port: number, filter: string | string[], opts: IClientOptions = {}): Promise<Watcher> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 100, ...opts });
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload, packet }));
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    received,
    close: () => client.endAsync(true),
  };
}
