// How a connection's state looks on the status of every node that uses it.
import type { StateChange } from '../../lib/mqtt/connection';
import type { FailureReason } from '../../lib/mqtt/failure-reasons';
import type { Translate } from './messages';
import type { NodeStatus } from './node-red';

/** A failure reason in the user's language; reasons that quote the error's own words stay as they are. */
export function reasonText(reason: FailureReason, t: Translate): string {
  const w = reason.words;
  if (!w) return reason.text;
  const k = (key: string): string => `secure-mqtt-broker.failure.${key}`;
  const hint = w.hint ? ` ${t(k(`hints.${w.hint}`))}` : '';
  return t(k(w.key), w.reason ? { reason: `${t(k(`reasons.${w.reason}`))}${hint}` } : {});
}

/** `t` is the broker node's catalogue. */
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
        text: change.reason ? t('secure-mqtt-broker.status.retrying', { reason: reasonText(change.reason, t) }) : t('secure-mqtt-broker.status.connecting'),
      };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: change.reason ? reasonText(change.reason, t) : t('secure-mqtt-broker.status.disconnected') };
    case 'closed':
      return { fill: 'grey', shape: 'ring', text: t('secure-mqtt-broker.status.closed') };
    default:
      return {};
  }
}
