// The broker config node as the pack's other nodes see it.
import type { MqttConnection } from '../../lib/mqtt/connection';
import type { WriteChecker } from '../../lib/publish/types';
import type { NodeInstance, NodeStatus } from './node-red';

export interface BrokerCreds {
  user: string;
  password: string;
}

export interface BrokerUser {
  status(status: NodeStatus): void;
}

export interface BrokerNode extends NodeInstance<BrokerCreds> {
  connection: MqttConnection | undefined;
  /** The identity the broker sees, for access-control decisions. */
  identity: { username?: string; clientId: string };
  /** Human-readable endpoint without credentials, for logs. */
  endpoint: string;
  register(user: BrokerUser): void;
  deregister(user: BrokerUser): void;
  currentStatus(): NodeStatus;
  /** The broker's access rules as currently loaded, when the connection has any. */
  accessChecker?(): WriteChecker | undefined;
}
