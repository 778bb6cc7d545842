// How a connection's state looks on the status of every node that uses it.
import type { StateChange } from '../../lib/mqtt/connection';
import type { Translate } from './messages';
import type { NodeStatus } from './node-red';

/** `t` is the broker node's catalogue; the failure reasons themselves are the connection's plain English words. */
export function connectionStatus(change: StateChange, tlsUnverified: boolean, t: Translate): NodeStatus {
  switch (change.state) {
    case 'connected':
      return tlsUnverified
        ? { fill: 'yellow', shape: 'dot', text: t('secure-mqtt-broker.status.connectedUnverified') }
        : { fill: 'green', shape: 'dot', text: t('secure-mqtt-broker.status.connected') };
    case 'connecting':
      return {
        fill: 'yellow',
        shape: 'ring',
        text: change.reason ? t('secure-mqtt-broker.status.retrying', { reason: change.reason.text }) : t('secure-mqtt-broker.status.connecting'),
      };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: change.reason?.text ?? t('secure-mqtt-broker.status.disconnected') };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: t('secure-mqtt-broker.status.closed') };
    default:
      return {};
  }
}
