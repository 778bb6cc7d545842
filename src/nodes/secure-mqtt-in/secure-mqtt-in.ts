// Subscribe node: validated filters (shared subscriptions included), v5 options, payload decoding, a warning
// when the access rules do not let this identity read, SUBACK failures shown, and run-time (un)subscribe.
import type { QoS, SubscribeOptions, Subscription, SubscriptionNotice } from '../../lib/mqtt/connection';
import { checkSubscriptionFilter, shorten } from '../../lib/mqtt/topic-rules';
import { convertMessage, type PayloadMode } from '../../lib/subscribe/convert';
import type { BrokerNode } from '../shared/broker-node';
import type { DoneFn, NodeAPI, NodeDef, NodeInstance, NodeMessage, NodeStatus, SendFn } from '../shared/node-red';
import { backToFlow } from '../shared/back-to-flow';
import { messages } from '../shared/messages';
import enUS from './locales/en-US/secure-mqtt-in.json';

interface InDef extends NodeDef {
  broker: string;
  topic?: string;
  qos?: string;
  nl?: boolean;
  rap?: boolean;
  rh?: string;
  datatype?: string;
}

const MODES: PayloadMode[] = ['auto', 'json', 'string', 'buffer'];
const NOTICE_KEYS: Record<SubscriptionNotice['code'], string> = {
  NO_LOCAL_LOST: 'noLocalLost',
  RETAIN_FLAG_AS_PUBLISHED: 'retainAsPublished',
  SHARED_OVERLAP: 'sharedOverlap',
};
const CLOSE_WAIT_MS = 2000;

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function SecureMqttIn(this: NodeInstance, def: InDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const broker = RED.nodes.getNode(def.broker) as BrokerNode | null;
    const maybeConnection = broker?.connection;
    if (!broker || !maybeConnection) {
      node.status({ fill: 'red', shape: 'ring', text: t(broker ? 'secure-mqtt-in.status.notConfigured' : 'secure-mqtt-in.status.noBroker') });
      node.on('input', (_m: NodeMessage, _s: SendFn, done: DoneFn) => done(new Error(t('secure-mqtt-in.log.noConnection'))));
      return;
    }
    const connection = maybeConnection;
    const mode: PayloadMode = MODES.includes(def.datatype as PayloadMode) ? (def.datatype as PayloadMode) : 'auto';
    const baseOptions: SubscribeOptions = { qos: parseQos(def.qos) ?? 1 }; // the editor's default
    if (connection.protocolVersion === 5) {
      if (def.nl) baseOptions.nl = true;
      if (def.rap) baseOptions.rap = true;
      const rh = Number(def.rh);
      if (rh === 1 || rh === 2) baseOptions.rh = rh;
    }
    const subscriptions = new Map<string, Subscription>();
    /** Filters a run-time subscribe is waiting on: a refusal goes to that message's done(), not a second report. */
    const requested = new Set<string>();
    let closed = false;
    let problem: string | undefined;

    const showStatus = (s: NodeStatus): void => {
      node.status(problem && s.fill === 'green' ? { fill: 'yellow', shape: 'dot', text: problem } : s);
    };
    const user = { status: showStatus };
    broker.register(user);

    function warnIfUnreadable(filter: string): void {
      const rules = broker?.accessChecker?.();
      if (!rules || !broker) return;
      const inner = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
      let reason: string | undefined;
      if (rules.checkSubscribe) {
        const d = rules.checkSubscribe(broker.identity, filter);
        if (!d.allowed) reason = t('secure-mqtt-in.log.willRefuse', { reason: d.reason });
        else if (d.delivery === 'none') reason = t('secure-mqtt-in.log.nothingReadable', { reason: d.deliveryReason ?? '' });
      } else if (!/[+#]/.test(inner)) {
        const d = rules.check(broker.identity, inner, 'read');
        if (!d.allowed) reason = d.reason;
      }
      if (reason) {
        problem = t('secure-mqtt-in.status.mayNotRead', { topic: inner });
        node.warn(t('secure-mqtt-in.log.unreadable', { filter, reason }));
        showStatus(broker.currentStatus());
      }
    }

    /**
     * Subscribes a filter that validFilter() accepted. The node's own filter stays subscribed when the broker refuses
     * it (it is tried again at every reconnect, the rules may change); one asked for at run time is dropped again,
     * and the message that asked for it gets the error.
     */
    async function subscribe(filter: string, options: SubscribeOptions, atRunTime: boolean): Promise<void> {
      if (subscriptions.has(filter)) await unsubscribe(filter);
      warnIfUnreadable(filter);
      const sub = connection.subscribe(
        filter,
        options,
        (topic, payload, packet) => {
          const result = convertMessage(topic, payload, packet, mode);
          const msg: NodeMessage = { ...result.fields };
          backToFlow(
            () => (result.ok ? node.send(msg) : node.error(result.error, msg)),
            (message) => node.error(t('secure-mqtt-in.log.flowThrew', { topic: shorten(topic), message })),
          );
        },
        (notice) => node.warn(t(`secure-mqtt-in.log.${NOTICE_KEYS[notice.code]}`, { filter: notice.other, other: notice.other })),
      );
      subscriptions.set(filter, sub);
      if (atRunTime) requested.add(filter);
      try {
        await sub.ready;
      } catch (err) {
        if (atRunTime) await unsubscribe(filter);
        throw err;
      } finally {
        requested.delete(filter);
      }
    }

    async function unsubscribe(filter: string): Promise<void> {
      const sub = subscriptions.get(filter);
      if (!sub) return;
      subscriptions.delete(filter);
      await sub.unsubscribe();
    }

    const onRefused = (filter: string, err: Error): void => {
      if (!subscriptions.has(filter) || closed) return;
      problem = err.message.replace(/^subscription to "[^"]*" /, '');
      node.status({ fill: 'red', shape: 'ring', text: t('secure-mqtt-in.status.suback', { problem }) });
      if (!requested.has(filter)) node.error(err.message);
    };
    connection.on('subscribeFailed', onRefused);

    const staticFilter = (def.topic ?? '').trim();
    if (staticFilter) {
      Promise.resolve()
        .then(() => subscribe(validFilter(staticFilter), baseOptions, false))
        .catch((err: Error) => {
          // SUBACK refusals are reported by onRefused; anything else (an invalid filter) here.
          if (!err.name.startsWith('Subscribe')) {
            problem = t('secure-mqtt-in.status.invalidFilter');
            node.status({ fill: 'red', shape: 'ring', text: problem });
            node.error(err.message);
          }
        });
    }

    let queue: Promise<void> = Promise.resolve();
    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const action = msg.action;
      const rawTopic: unknown = msg.topic;
      const filters: unknown[] = Array.isArray(rawTopic) ? rawTopic : rawTopic === undefined ? [] : [rawTopic];
      const run = async (): Promise<void> => {
        if (action === 'subscribe') {
          const qos = parseQos(msg.qos);
          if (msg.qos !== undefined && msg.qos !== null && msg.qos !== '' && qos === undefined) throw new Error('msg.qos must be 0, 1 or 2');
          if (filters.length === 0) throw new Error('msg.topic must name the filter(s) to subscribe to');
          // Every filter is checked before any is subscribed: a refused message changes nothing.
          const checked = filters.map(validFilter);
          for (const f of checked) {
            if (closed) throw new Error(t('secure-mqtt-in.log.closed'));
            await subscribe(f, { ...baseOptions, qos: qos ?? baseOptions.qos }, true);
          }
        } else if (action === 'unsubscribe') {
          const all = rawTopic === true || rawTopic === undefined;
          const list = all ? [...subscriptions.keys()] : filters;
          for (const f of list) if (typeof f === 'string') await unsubscribe(f);
        } else if (action === 'getSubscriptions') {
          if (closed) throw new Error(t('secure-mqtt-in.log.closed'));
          send({ ...msg, action: 'getSubscriptions', payload: [...subscriptions.values()].map((s) => ({ topic: s.filter, granted: s.granted })) });
        } else {
          throw new Error('msg.action must be "subscribe", "unsubscribe" or "getSubscriptions"');
        }
      };
      // Actions run one after the other, in the order they arrived. The chain never rejects: a done() that throws
      // (a message the flow cannot clone) is reported, and the next action still runs.
      const report = (message: string): void => node.error(t('secure-mqtt-in.log.flowThrew', { topic: shorten(String(msg.topic)), message }));
      queue = queue.then(run).then(
        () => backToFlow(() => done(), report),
        (err: Error) => backToFlow(() => done(err), report),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      connection.off('subscribeFailed', onRefused);
      broker.deregister(user);
      // After the queued actions: a subscribe still waiting for its SUBACK would otherwise outlive the node.
      // Both steps together wait at most CLOSE_WAIT_MS: a broker that stopped answering (no SUBACK, no UNSUBACK)
      // must not hold the redeploy up. The handlers are gone at once either way; only the broker's answer is awaited.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      const unsubscribed = Promise.race([queue, deadline]).then(() => Promise.all([...subscriptions.keys()].map((f) => unsubscribe(f).catch(() => undefined))));
      void Promise.race([unsubscribed, deadline]).then(() => {
        clearTimeout(timer);
        done();
      });
    });
  }

  RED.nodes.registerType('secure-mqtt-in', SecureMqttIn as (this: never, def: never) => void);
};

/** The filter, or an error naming it (escaped and cut short) and what is wrong with it. */
function validFilter(filter: unknown): string {
  if (typeof filter !== 'string') throw new Error('msg.topic must be a string or an array of strings');
  const bad = checkSubscriptionFilter(filter);
  if (bad) throw new Error(`invalid topic filter ${quoted(filter)}: ${bad.message}`);
  return filter;
}

/** 0, 1 or 2 given as a number or a digit; anything else (absent, a Symbol, an object) is undefined. */
function parseQos(v: unknown): QoS | undefined {
  if (typeof v === 'number') return v === 0 || v === 1 || v === 2 ? v : undefined;
  if (typeof v === 'string' && /^\s*[012]\s*$/.test(v)) return Number(v) as QoS;
  return undefined;
}

/** A filter as it may appear in a log line: escaped (no raw newline or control character) and cut short. */
function quoted(filter: string): string {
  // JSON escapes C0 controls and lone surrogates; DEL, C1 controls and line separators are escaped here.
  return JSON.stringify(shorten(filter)).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
