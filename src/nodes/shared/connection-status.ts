// How a connection's state looks on the status of every node that uses it.
import type { StateChange } from '../../lib/mqtt/connection';
import type { NodeStatus } from './node-red';

export function connectionStatus(change: StateChange, tlsUnverified: boolean): NodeStatus {
  switch (change.state) {
    case 'connected':
      return tlsUnverified
        ? { fill: 'yellow', shape: 'dot', text: 'connected, TLS unverified' }
        : { fill: 'green', shape: 'dot', text: 'connected' };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: change.reason ? `retrying: ${change.reason.text}` : 'connecting' };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: change.reason?.text ?? 'disconnected' };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: 'closed' };
    default:
      return {};
  }
}
