// Publish node: validates, checks the broker's access rules, queues across outages, and settles each message
// with the broker's answer. Refused messages leave on the second output with msg.error.
import type { PublishOutcome, PublishRequest, QoS } from '../../lib/mqtt/connection';
import { intInRange, numberInRange, type LifecycleMessage } from '../../lib/mqtt/settings';
import { checkPublishTopic, shorten } from '../../lib/mqtt/topic-rules';
import { deathTopicOf } from '../../lib/formats/sparkplug';
import { preparePublish, type PublishDefaults } from '../../lib/publish/prepare';
import { inFlightLimit, Publisher } from '../../lib/publish/publisher';
import type { NotSent } from '../../lib/publish/types';
import type { OverflowPolicy } from '../../lib/queue/outbox';
import { DiskSpool } from '../../lib/queue/spool';
import { spoolDirFor } from '../../lib/queue/spool-dir';
import type { BrokerNode } from '../shared/broker-node';
import type { DoneFn, NodeAPI, NodeDef, NodeInstance, NodeMessage, NodeStatus, SendFn } from '../shared/node-red';
import { throttle } from '../shared/throttle';
import { backToFlow } from '../shared/back-to-flow';
import { messages } from '../shared/messages';
import { requestRebirth } from '../shared/sparkplug-rebirth';
import enUS from './locales/en-US/secure-mqtt-out.json';

interface OutDef extends NodeDef {
  broker: string;
  topic?: string;
  qos?: string;
  retain?: string;
  contentType?: string;
  messageExpiry?: string;
  queueMax?: string | number;
  queueMegabytes?: string | number;
  overflow?: string;
  spool?: boolean;
  /** Lost connections with the same message alone in flight before it is refused; 0: never. */
  giveUpAfter?: string | number;
}

/**
 * How long a closing node waits for the acknowledgements of messages in flight. Longer than the connection's own
 * 2 s grace at close, so on a full redeploy every one has settled (acknowledged, or CLOSED with the connection)
 * before this ends; well inside Node-RED's 15 s for a close.
 */
/** Discarded messages that end with an error at close; the rest end without one (see the close handler). */
const DISCARD_ERRORS = 10;
const CLOSE_WAIT_MS = 3000;

interface Pending {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
}

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);
  const short = (code: NotSent['code']): string => t(`secure-mqtt-out.refusal.${code}`);

  function SecureMqttOut(this: NodeInstance, def: OutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const broker = RED.nodes.getNode(def.broker) as BrokerNode | null;
    const connection = broker?.connection;
    if (!broker || !connection) {
      node.status({ fill: 'red', shape: 'ring', text: t(broker ? 'secure-mqtt-out.status.notConfigured' : 'secure-mqtt-out.status.noBroker') });
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(new Error(t('secure-mqtt-out.log.noConnection'))));
      return;
    }

    const qos = def.qos === '0' || def.qos === '1' || def.qos === '2' ? (Number(def.qos) as QoS) : undefined;
    const defaults: PublishDefaults = {
      topic: (def.topic ?? '').trim(),
      qos,
      retain: def.retain === 'true' ? true : def.retain === 'false' ? false : undefined,
      protocolVersion: connection.protocolVersion,
    };
    if (def.contentType) defaults.contentType = def.contentType;
    if (def.messageExpiry !== undefined && def.messageExpiry !== '') defaults.messageExpiry = Number(def.messageExpiry);
    const overflow: OverflowPolicy = def.overflow === 'drop-newest' || def.overflow === 'reject' ? def.overflow : 'drop-oldest';
    const limits = {
      maxCount: intInRange(def.queueMax, 1, 10_000_000, 100_000),
      maxBytes: Math.round(numberInRange(def.queueMegabytes, 0.001, 4096, 64) * 1024 * 1024),
      policy: overflow,
    };

    let spoolFailed = false;
    let started = false;
    let spool: DiskSpool | undefined;
    if (def.spool) {
      const base = RED.settings.userDir ?? process.cwd();
      spool = new DiskSpool(spoolDirFor(base, node.id), {
        // Once per spool: from now on new messages are kept in memory only, and those on disk may come again.
        onFailure: (err) => {
          spoolFailed = true;
          node.warn(t('secure-mqtt-out.log.spoolFailed', { message: err.message }));
          // A failure at load() comes while the publisher is being built: the first status shows it.
          if (started) status.request();
        },
      });
    }
    const giveUpAfterLosses = intInRange(def.giveUpAfter, 0, 1000, 3);

    let lastRefusal: NotSent['code'] | undefined;
    let refused = 0;
    const refusedBy = new Map<NotSent['code'], number>();
    let publisher: Publisher<Pending>;
    const status = throttle(() => node.status(statusFor()), 250);

    function statusFor(): NodeStatus {
      const conn = broker?.currentStatus() ?? {};
      const s = publisher.stats;
      const parts: string[] = [];
      parts.push(connection?.connected ? t('secure-mqtt-out.status.sent', { count: s.sent }) : (conn.text ?? t('secure-mqtt-out.status.disconnected')));
      if (s.queued > 0) parts.push(t('secure-mqtt-out.status.queued', { count: s.queued }));
      if (spoolFailed) parts.push(t('secure-mqtt-out.status.spoolFailed'));
      if (lastRefusal) {
        const same = refusedBy.get(lastRefusal) ?? 0;
        const all = refused > same ? ` ${t('secure-mqtt-out.status.refusedInAll', { count: refused })}` : '';
        parts.push(`${t('secure-mqtt-out.status.refused', { reason: short(lastRefusal), count: same })}${all}`);
      }
      const fill = conn.fill === 'green' && lastRefusal ? 'yellow' : conn.fill;
      return { fill: fill ?? 'grey', shape: conn.shape ?? 'ring', text: parts.join(' · ') };
    }

    // Messages restored from the spool have no flow message: their refusals are logged, gathered for a second into a
    // line per reason (a long outage then a restart can expire thousands at once).
    const unroutable = new Map<string, { count: number; topic: string; message: string }>();
    const flushUnroutable = (): void => {
      for (const [code, u] of unroutable) {
        node.warn(u.count === 1 ? t('secure-mqtt-out.log.spooledNotSent', { topic: u.topic, message: u.message }) : t('secure-mqtt-out.log.spooledManyNotSent', { count: u.count, code, topic: u.topic, message: u.message }));
      }
      unroutable.clear();
    };
    let unroutableTimer: NodeJS.Timeout | undefined;
    const reportUnroutable = (): void => {
      unroutableTimer ??= setTimeout(() => {
        unroutableTimer = undefined;
        flushUnroutable();
      }, 1000);
    };

    function refuse(p: Pending | undefined, error: NotSent, request?: PublishRequest): void {
      refused++;
      refusedBy.set(error.code, (refusedBy.get(error.code) ?? 0) + 1);
      lastRefusal = error.code;
      status.request();
      if (!p) {
        const u = unroutable.get(error.code) ?? { count: 0, topic: shorten(request?.topic ?? '?'), message: error.message };
        u.count++;
        unroutable.set(error.code, u);
        reportUnroutable();
        return;
      }
      p.msg.error = { ...error };
      backToFlow(() => {
        p.send([null, p.msg]);
        // A drop the overflow policy chose, or a lifetime the message itself set, is no failure of the flow.
        if ((error.code === 'QUEUE_FULL' && overflow !== 'reject') || error.code === 'EXPIRED') p.done();
        else p.done(new Error(`${short(error.code)}: ${error.message}${error.rule ? ` (${error.rule})` : ''}`));
      }, flowThrew);
    }

    function flowThrew(message: string): void {
      node.error(t('secure-mqtt-out.log.flowThrew', { message }));
    }

    try {
      publisher = new Publisher<Pending>(
        connection,
        limits,
        {
          sent(p: Pending | undefined, _outcome: PublishOutcome) {
            if (!p) return;
            backToFlow(() => {
              p.send([p.msg, null]);
              p.done();
            }, flowThrew);
          },
          notSent: refuse,
          kept: (p: Pending | undefined) => {
            if (p) backToFlow(() => p.done(), flowThrew); // see the close handler
          },
          changed: () => status.request(),
          waiting: (key: string) => node.log(t('secure-mqtt-out.log.sparkplugWaiting', { key })),
        },
        spool,
        (qos) => inFlightLimit(qos, connection.receiveMaximum),
        { giveUpAfterLosses },
      );
    } catch (err) {
      node.error(t('secure-mqtt-out.log.spoolUnusable', { message: (err as Error).message }));
      node.status({ fill: 'red', shape: 'ring', text: t('secure-mqtt-out.status.spoolUnusable') });
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(new Error(t('secure-mqtt-out.status.spoolUnusable'))));
      return;
    }
    started = true;
    if (spool && spool.skipped > 0) node.warn(t('secure-mqtt-out.log.spoolSkipped', { count: spool.skipped }));
    if (publisher.queued > 0) node.log(t('secure-mqtt-out.log.restored', { count: publisher.queued }));

    const user = {
      status: (s: NodeStatus): void => {
        void s;
        if (connection.connected) publisher.pump();
        status.request();
      },
    };
    broker.register(user);

    /** Edge nodes asked for a birth because their data came through a connection without their NDEATH Will. */
    const unborn = new Set<string>();
    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const will = sparkplugDeath(msg);
      if (will && connection.setWill(will)) node.log(t('secure-mqtt-out.log.willSet', { topic: will.topic }));
      if (!will && typeof msg.topic === 'string') {
        // A connection made after the births (its config node redeployed alone) has no session for this edge node:
        // no Will, and the host saw no NBIRTH on it. The format node of that edge node starts one.
        const death = deathTopicOf(msg.topic);
        if (death && connection.will?.topic !== death && !unborn.has(death)) {
          unborn.add(death);
          node.log(t('secure-mqtt-out.log.sparkplugUnborn', { topic: death }));
          requestRebirth(death);
        }
      }
      const acl = broker.accessChecker?.();
      const prepared = preparePublish(msg, defaults, acl ? { checker: acl, identity: broker.identity } : undefined);
      if (!prepared.ok) {
        refuse({ msg, send, done }, prepared.error);
        return;
      }
      publisher.submit(prepared.request, prepared.bytes, { msg, send, done });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      broker.deregister(user);
      status.cancel();
      clearTimeout(unroutableTimer);
      unroutableTimer = undefined;
      flushUnroutable();
      const { kept, discarded } = publisher.close();
      if (kept.length > 0) {
        node.log(t('secure-mqtt-out.log.kept', { count: kept.length }));
        // Kept in the disk spool, a message is this node's to deliver at the next start: its flow message is done
        // (no error: a Catch flow that resent it would send it twice). Messages that restarted from the spool have
        // no flow message.
        for (const p of kept) if (p) backToFlow(() => p.done(), flowThrew);
      }
      if (discarded.length > 0) {
        node.warn(t('secure-mqtt-out.log.discarded', { count: discarded.length }));
        // Each done(err) is an error line in the log and the debug sidebar: a redeploy during an outage with a full
        // queue wrote 100,000 of them. The first few end with the error (a Catch node sees them), the rest quietly;
        // the warning above counts them all.
        discarded.forEach((p, i) => p?.done(i < DISCARD_ERRORS ? new Error(t('secure-mqtt-out.log.discardedError')) : undefined));
      }
      if (!spool) {
        done(); // messages in flight end later as before; nothing on disk can be sent twice
        return;
      }
      // The node that replaces this one on a redeploy loads the spool once this close is done: a message still in
      // flight here would be sent again by it if its acknowledgement came later. So wait for them, a while.
      void publisher.settled(CLOSE_WAIT_MS).then((left) => {
        if (left > 0) node.log(t('secure-mqtt-out.log.unsettledAtClose', { count: left }));
        done();
      });
    });
  }

  RED.nodes.registerType('secure-mqtt-out', SecureMqttOut as (this: never, def: never) => void);
};

/** The NDEATH a Sparkplug NBIRTH from the format node carries in `msg.sparkplug.death`, as a Will. */
function sparkplugDeath(msg: NodeMessage): LifecycleMessage | undefined {
  const sp = msg.sparkplug as { death?: { topic?: unknown; payload?: unknown; qos?: unknown } } | undefined;
  const d = sp?.death;
  if (!d || typeof d.topic !== 'string' || !Buffer.isBuffer(d.payload) || checkPublishTopic(d.topic)) return undefined;
  return { topic: d.topic, payload: d.payload, qos: d.qos === 0 ? 0 : 1, retain: false };
}
