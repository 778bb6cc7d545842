// One MQTT connection shared by every node of a broker config: reconnect with backoff, decoded failures,
// publishes that settle with the broker's answer, and subscriptions shared per filter by the nodes on it
// (subscriptions.ts decides what to send and who gets which message).
import { EventEmitter } from 'node:events';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import mqtt, {
  type IConnackPacket,
  type IDisconnectPacket,
  type IClientOptions,
  type IClientPublishOptions,
  type IClientSubscribeOptions,
  type IPublishPacket,
  type MqttClient,
  type MqttClientEventCallbacks,
  type Packet,
} from 'mqtt';
import { Backoff, DEFAULT_BACKOFF } from './backoff';
import { CLOSED_BY_BROKER, describeError, disconnectReason, REASON_CODES_V5, type FailureReason } from './failure-reasons';
import type { ConnectionSettings, LifecycleMessage } from './settings';
import { SparkplugWire } from '../publish/sparkplug-wire';
import { readSessionFile, SessionFile, sessionFilePath } from './session-file';
import { SubscriptionTable, type SessionMemory, type FilterGroup, type MessageHandler, type NoticeHandler, type QoS, type RequestKind, type SubscribeOptions, type SubscriptionEntry } from './subscriptions';

export type { MessageHandler, NoticeHandler, QoS, SubscribeOptions, SubscriptionNotice } from './subscriptions';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';
export type PublishProperties = NonNullable<IPublishPacket['properties']>;

export interface StateChange {
  state: ConnectionState;
  reason?: FailureReason;
}

export interface PublishRequest {
  topic: string;
  payload: string | Buffer;
  qos: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

export interface PublishOutcome {
  /** 0 on success, or the v5 success code the broker gave instead (0x10: no matching subscribers). */
  readonly reasonCode: number;
}

export type PublishErrorCode = 'NOT_CONNECTED' | 'CONNECTION_LOST' | 'BROKER_DENIED' | 'CLOSED' | 'PUBLISH_FAILED';

export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
    readonly reasonCode?: number,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

export class SubscribeError extends Error {
  constructor(
    message: string,
    readonly reasonCode?: number,
  ) {
    super(message);
    this.name = 'SubscribeError';
  }
}

export interface Subscription {
  readonly filter: string;
  /** Granted QoS of the last SUBACK, or undefined while not subscribed at the broker. */
  readonly granted: number | undefined;
  /**
   * Settles with the first SUBACK (at once when not connected): rejects with a SubscribeError when the broker
   * refuses. The subscription stays registered either way and is made again at every reconnect until unsubscribed.
   */
  readonly ready: Promise<void>;
  unsubscribe(): Promise<void>;
}

/** MQTT.js's callback for one publish; called with a PublishError when the connection is lost first. */
type PendingPublish = (err?: Error, packet?: unknown) => void;

export type PublishCallback = (err: PublishError | undefined, outcome?: PublishOutcome) => void;

export interface ConnectionEvents {
  state: [StateChange];
  /** Emitted once per distinct failure cause, not on every retry. */
  failure: [FailureReason];
  /** Emitted when a reconnect is scheduled, with the attempt number and the delay chosen. */
  retry: [{ attempt: number; delayMs: number }];
  /** Emitted when the broker refuses a subscription (SUBACK failure). */
  subscribeFailed: [string, SubscribeError];
}

export interface ConnectionHooks {
  /** Creates the MQTT.js client; replaced in tests of the connection's own logic. */
  connect?: (options: IClientOptions) => MqttClient;
  backoff?: Backoff;
}

export class MqttConnection extends EventEmitter<ConnectionEvents> {
  private client: MqttClient | undefined;
  private stateValue: ConnectionState = 'idle';
  private reasonValue: FailureReason | undefined;
  private loggedCause: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly pending = new Set<PendingPublish>();
  private readonly successCodes = new Map<number, number>();
  private readonly subscriptions: SubscriptionTable;
  /** Sparkplug B numbering and births on this connection, shared by every publisher on it. */
  readonly sparkplug = new SparkplugWire();
  private readonly connectFn: (options: IClientOptions) => MqttClient;
  private closing: Promise<void> | undefined;
  private serverReceiveMaximum: number | undefined;
  private serverMaximumPacketSize: number | undefined;
  private readonly unlisten = new WeakMap<MqttClient, () => void>();

  constructor(
    private readonly settings: ConnectionSettings,
    hooks: ConnectionHooks = {},
  ) {
    super();
    // Every node on this connection listens (and stops listening on close): ten nodes are no leak.
    this.setMaxListeners(0);
    this.backoff = hooks.backoff ?? new Backoff(settings.backoff ?? DEFAULT_BACKOFF);
    this.connectFn = hooks.connect ?? ((options) => mqtt.connect(options));
    this.subscriptions = new SubscriptionTable(settings.protocolVersion, sessionMemory(settings));
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Why the connection is not up, when it is not. */
  get reason(): FailureReason | undefined {
    return this.reasonValue;
  }

  get connected(): boolean {
    return this.stateValue === 'connected';
  }

  get protocolVersion(): 4 | 5 {
    return this.settings.protocolVersion;
  }

  get clientId(): string {
    return this.settings.clientId;
  }

  /** The Will the next (or current) CONNECT carries. */
  get will(): LifecycleMessage | undefined {
    return this.settings.will;
  }

  /** The broker's v5 Receive Maximum: how many QoS 1/2 publishes it accepts unacknowledged. */
  get receiveMaximum(): number | undefined {
    return this.serverReceiveMaximum;
  }

  /** The broker's v5 Maximum Packet Size from its CONNACK: a larger packet makes it close the connection. */
  get maximumPacketSize(): number | undefined {
    return this.serverMaximumPacketSize;
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.attempt();
  }

  /**
   * Sends a message. Settles when the broker has it as far as its QoS allows: QoS 0 when written,
   * QoS 1/2 when acknowledged. Rejects with a PublishError; never throws synchronously.
   */
  publish(req: PublishRequest): Promise<PublishOutcome> {
    return new Promise((resolve, reject) => this.send(req, (err, outcome) => (err ? reject(err) : resolve(outcome as PublishOutcome))));
  }

  /**
   * publish() without a promise per message, for the publisher's hot path. Calls back exactly once, possibly
   * before it returns (MQTT.js settles a QoS 0 write that fits the socket buffer at once); never throws.
   */
  send(req: PublishRequest, settle: PublishCallback): void {
    const client = this.client;
    if (!client || this.stateValue !== 'connected') {
      process.nextTick(settle, new PublishError('NOT_CONNECTED', 'not connected to the broker'));
      return;
    }
    const done: PendingPublish = (err, packet) => {
      if (!this.pending.delete(done)) return; // already settled by a connection loss
      if (err) {
        settle(err instanceof PublishError ? err : toPublishError(err));
        return;
      }
      const id = (packet as { messageId?: number } | undefined)?.messageId;
      const rc = req.qos === 1 && id !== undefined ? this.successCodes.get(id) : undefined;
      if (rc !== undefined) this.successCodes.delete(id as number);
      settle(undefined, rc === undefined ? DELIVERED : { reasonCode: rc });
    };
    this.pending.add(done);
    try {
      // MQTT.js copies the options it is given, so the common ones can be shared.
      const opts = req.properties && this.settings.protocolVersion === 5 ? { qos: req.qos, retain: req.retain ?? false, properties: req.properties } : PLAIN_OPTIONS[req.qos][req.retain ? 1 : 0];
      client.publish(req.topic, req.payload, opts, done);
    } catch (err) {
      // The caller may be a timer: a throw here would take Node-RED down.
      done(err as Error);
    }
  }

  /**
   * Registers a handler for a filter at once; the broker subscription is (re)made whenever the connection is up.
   * `onNotice` hears of what another node on the same filter keeps this one from getting (see SubscriptionTable).
   */
  subscribe(filter: string, options: SubscribeOptions, handler: MessageHandler, onNotice?: NoticeHandler): Subscription {
    const entry = this.subscriptions.add(filter, options, handler, onNotice);
    const ready = this.connected ? this.subscribeAtBroker(entry.group, 'join') : Promise.resolve();
    ready.catch(() => undefined); // a caller that does not wait must not leave an unhandled rejection
    return {
      filter,
      get granted() {
        return entry.group.entries.has(entry) ? entry.group.granted : undefined;
      },
      ready,
      unsubscribe: () => this.removeSubscription(entry),
    };
  }

  /**
   * Replaces the Will. The broker only learns a Will at CONNECT, so a live connection is closed cleanly (its old
   * Will is not published) and made again at once. Sparkplug B needs this: NDEATH's bdSeq must match the NBIRTH.
   * Returns false when the Will was already this one.
   */
  setWill(will: LifecycleMessage | undefined): boolean {
    const old = this.settings.will;
    const same =
      old === will ||
      (!!old && !!will && old.topic === will.topic && old.qos === will.qos && old.retain === will.retain &&
        Buffer.from(old.payload).equals(Buffer.from(will.payload)));
    if (same) return false;
    this.settings.will = will;
    const client = this.client;
    if (client && this.stateValue !== 'closed' && this.stateValue !== 'idle') {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.detach(client, 'CONNECTION_LOST');
      this.setState('connecting', this.reasonValue);
      // The new CONNECT waits until the broker has seen the old connection end: a takeover would make it publish
      // the old Will (for Sparkplug an NDEATH with the old bdSeq).
      void this.endClient(client, WILL_SWAP_GRACE_MS, false).then(() => {
        if (this.stateValue !== 'closed' && !this.client && !this.retryTimer) this.attempt();
      });
    }
    return true;
  }

  /** Ends the connection: close message, in-flight QoS 1/2 given `graceMs`, socket closed. */
  close(graceMs = 2000): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.doClose(graceMs);
    return this.closing;
  }

  private async doClose(graceMs: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    const wasConnected = this.connected;
    this.setState('closed');
    if (!client) return;
    if (wasConnected && this.settings.close) {
      await withTimeout(this.publishLifecycle(client, this.settings.close), graceMs);
    }
    await this.endClient(client, graceMs, true);
    this.detach(client, 'CLOSED');
  }

  /**
   * Ends a client and resolves when its socket is closed, or after `graceMs`. A connected client sends DISCONNECT
   * (so the broker drops its Will), after its in-flight QoS 1/2 settle when `waitForAcks`. A client still connecting
   * may have its CONNECT on the way already, and the broker would act on it: it is given `graceMs` to finish and
   * leave with DISCONNECT, so it neither takes over its successor's session later nor leaves its Will armed.
   */
  private endClient(client: MqttClient, graceMs: number, waitForAcks: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!client.connected) {
        const timer = setTimeout(() => {
          client.end(true);
          resolve();
        }, graceMs);
        const ended = (): void => {
          clearTimeout(timer);
          resolve();
        };
        client.once('connect', () => client.end(false, {}, ended));
        client.once('close', () => {
          if (!client.connected) ended();
        });
        return;
      }
      // MQTT.js holds DISCONNECT back until every acknowledgement has come; the publisher sends those again anyway.
      if (!waitForAcks) for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      const timer = setTimeout(() => {
        // MQTT.js ignores a second end() while the first still waits for acknowledgements, which may never come:
        // shut the socket ourselves.
        client.stream?.destroy();
        resolve();
      }, graceMs);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private attempt(): void {
    this.retryTimer = undefined;
    if (this.stateValue === 'closed') return;
    this.setState('connecting', this.reasonValue);
    let client: MqttClient;
    try {
      client = this.connectFn(this.clientOptions());
    } catch (err) {
      // Bad options (e.g. an unreadable key) fail synchronously; treat them like any failed attempt.
      this.noteFailure(describeError(err, this.settings.protocolVersion));
      this.scheduleRetry();
      return;
    }
    this.client = client;
    let failure: FailureReason | undefined;
    const onError = (err: Error): void => {
      failure = describeError(err, this.settings.protocolVersion, !!this.settings.username);
    };
    const onDisconnect = (packet: IDisconnectPacket): void => {
      const rc = packet.reasonCode ?? 0;
      if (rc >= 0x80) failure = disconnectReason(rc);
    };
    const onConnect = (connack: IConnackPacket): void => {
      // A client close() is waiting on: it connects only to leave with DISCONNECT (see endClient).
      if (this.stateValue === 'closed') return;
      failure = undefined;
      this.sparkplug.newConnection(this.settings.will?.topic);
      this.serverReceiveMaximum = connack.properties?.receiveMaximum;
      this.serverMaximumPacketSize = connack.properties?.maximumPacketSize;
      this.subscriptions.connected(connack.sessionPresent, connack.properties?.subscriptionIdentifiersAvailable !== false);
      this.loggedCause = undefined;
      this.backoff.connected();
      this.setState('connected');
      void this.onConnected(client);
    };
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => this.dispatch(topic, payload, packet);
    // MQTT.js settles a successful publish with the packet it sent, not the PUBACK: keep the one success code that
    // is not 0 (0x10, no matching subscribers) until the callback reads it.
    const onPacket = (packet: Packet): void => {
      if (packet.cmd === 'puback' && packet.reasonCode === 0x10 && packet.messageId !== undefined) this.successCodes.set(packet.messageId, 0x10);
    };
    const onClose = (): void => {
      if (this.client !== client) return;
      if (this.stateValue === 'closed') return;
      this.backoff.disconnected();
      this.detach(client, 'CONNECTION_LOST');
      client.end(true);
      const reason = failure ?? CLOSED_BY_BROKER;
      this.noteFailure(reason);
      this.scheduleRetry();
    };
    // Only our own listeners go at detach: MQTT.js's are what still sends a DISCONNECT while the client ends.
    const offs: Array<() => void> = [];
    const listen = <E extends keyof MqttClientEventCallbacks>(event: E, fn: MqttClientEventCallbacks[E], once = false): void => {
      if (once) client.once(event, fn);
      else client.on(event, fn);
      offs.push(() => client.off(event, fn));
    };
    listen('error', onError);
    listen('disconnect', onDisconnect);
    listen('connect', onConnect);
    listen('message', onMessage);
    listen('packetreceive', onPacket);
    listen('close', onClose, true);
    this.unlisten.set(client, () => offs.forEach((off) => off()));
  }

  /** Forgets a client: its pending publishes fail (the publisher sends them again) and its events are ignored. */
  private detach(client: MqttClient, code: PublishErrorCode): void {
    this.failPending(code, 'connection lost before the broker acknowledged');
    this.successCodes.clear();
    this.subscriptions.disconnected();
    this.unlisten.get(client)?.();
    this.unlisten.delete(client);
    client.on('error', () => undefined); // a late socket error must not become an uncaught exception
    if (this.client === client) this.client = undefined;
  }

  private noteFailure(reason: FailureReason): void {
    this.reasonValue = reason;
    this.setState('disconnected', reason);
    if (this.loggedCause !== reason.code) {
      this.loggedCause = reason.code;
      this.emit('failure', reason);
    }
  }

  private scheduleRetry(): void {
    if (this.stateValue === 'closed' || this.retryTimer) return;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => this.attempt(), delay);
    this.emit('retry', { attempt: this.backoff.attempts, delayMs: delay });
  }

  private async onConnected(client: MqttClient): Promise<void> {
    this.reasonValue = undefined;
    if (this.settings.birth) {
      this.publishLifecycle(client, this.settings.birth).catch(() => undefined);
    }
    // A kept session still holds the filters nodes removed while the connection was down (or an earlier connection
    // of this process had): without this they would deliver to nobody, and fill the session while offline.
    for (const filter of this.subscriptions.leftovers()) void this.unsubscribeAtBroker(client, filter);
    // All at once, not one round trip per filter: a flow with thousands of filters is subscribed again quickly.
    const all = this.subscriptions.filters().map((group) => this.subscribeAtBroker(group, 'connect').catch(() => undefined)); // refusals: subscribeFailed
    await Promise.all(all);
  }

  private publishLifecycle(client: MqttClient, msg: LifecycleMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const opts: IClientPublishOptions = { qos: msg.qos, retain: msg.retain };
      if (msg.properties && this.settings.protocolVersion === 5) opts.properties = msg.properties;
      client.publish(msg.topic, msg.payload, opts, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** SUBSCRIBEs of one filter go one after another: each one's retained messages then reach the right nodes. */
  private subscribeAtBroker(group: FilterGroup, kind: RequestKind): Promise<void> {
    const run = (): Promise<void> => this.sendSubscribe(group, kind);
    const result = group.queue.then(run, run);
    group.queue = result.catch(() => undefined);
    return result;
  }

  private sendSubscribe(group: FilterGroup, kind: RequestKind): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.resolve();
    const req = this.subscriptions.plan(group, kind);
    if (!req) {
      // A node that joined a request already answered shares its refusal.
      return kind === 'join' && !group.brokerOptions && group.refusal ? Promise.reject(group.refusal) : Promise.resolve();
    }
    const filter = group.filter;
    const opts: IClientSubscribeOptions = { qos: req.options.qos };
    if (this.settings.protocolVersion === 5) {
      Object.assign(opts, { nl: !!req.options.nl, rap: !!req.options.rap, rh: req.options.rh ?? 0 });
      // A broker may disconnect a client that sends identifiers it said it does not support (0xA1).
      if (req.id !== undefined) opts.properties = { subscriptionIdentifier: req.id };
    }
    // Written right before the SUBSCRIBE, so the gap in which a message could miss both is as short as it can be.
    if (req.replace) client.unsubscribe(filter, () => undefined);
    return new Promise((resolve, reject) => {
      client.subscribe(filter, opts, (err, granted) => {
        const grant = granted?.[0];
        const code = grant ? grant.qos : undefined;
        if (err || code === undefined || code >= 0x80) {
          // MQTT.js wraps a refusal in an error that keeps the SUBACK packet, not the code.
          const wrapped = err as { code?: number; packet?: { granted?: Array<number | { qos: number }> } } | null;
          // A SUBACK leaves a code or its packet's granted list; without one the broker never answered.
          const unanswered = err && wrapped?.code === undefined && wrapped?.packet?.granted === undefined;
          if (unanswered && this.connectionWent(err, client)) {
            // The connection went before any SUBACK: nothing was refused, and the next connect subscribes again, as
            // for a subscription made while disconnected.
            resolve();
            return;
          }
          const first = wrapped?.packet?.granted?.[0];
          const rc = code !== undefined && code >= 0x80 ? code : (wrapped?.code ?? (typeof first === 'number' ? first : first?.qos));
          const words =
            rc === 0x80 && this.settings.protocolVersion === 4
              ? 'failure (0x80)'
              : rc !== undefined
                ? (REASON_CODES_V5[rc] ?? `reason ${rc}`)
                : (err?.message ?? 'refused').replace(/^Subscribe error: /, '').toLowerCase();
          const failure = new SubscribeError(`subscription to "${filter}" refused: ${words}`, rc);
          this.subscriptions.refused(req, failure);
          this.emit('subscribeFailed', filter, failure);
          reject(failure);
          return;
        }
        this.subscriptions.granted(req, code);
        resolve();
      });
    });
  }

  private async removeSubscription(entry: SubscriptionEntry): Promise<void> {
    const group = entry.group;
    if (!this.subscriptions.remove(entry)) return; // not the last node on its filter (or removed already)
    const client = this.client;
    if (!client || !this.connected) return; // a kept session drops it after the next connect (leftovers)
    await this.unsubscribeAtBroker(client, group.filter);
  }

  /**
   * The session memory forgets the filter once the broker has answered: an UNSUBSCRIBE lost with the connection
   * leaves it in a kept session, to be unsubscribed after the next connect (leftovers).
   */
  private unsubscribeAtBroker(client: MqttClient, filter: string): Promise<void> {
    return new Promise((resolve) =>
      client.unsubscribe(filter, (err?: Error) => {
        if (!err || !this.connectionWent(err, client)) this.subscriptions.forget(filter);
        resolve();
      }),
    );
  }

  /**
   * Whether a failed callback means the broker never answered: MQTT.js fails the callbacks it holds when the
   * connection goes, still flagged connected.
   */
  private connectionWent(err: Error, client: MqttClient): boolean {
    return err.message === 'Connection closed' || client !== this.client || !client.connected;
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    for (const entry of this.subscriptions.match(topic, packet)) {
      try {
        entry.handler(topic, payload, packet);
      } catch {
        // A handler's failure must not stop delivery to the others; handlers report their own errors.
      }
    }
  }

  private failPending(code: PublishErrorCode, message: string): void {
    for (const p of [...this.pending]) p(new PublishError(code, message));
  }

  private setState(state: ConnectionState, reason?: FailureReason): void {
    if (this.stateValue === state && this.reasonValue?.code === reason?.code) return;
    this.stateValue = state;
    this.emit('state', reason ? { state, reason } : { state });
  }

  private clientOptions(): IClientOptions {
    const s = this.settings;
    const opts: IClientOptions = {
      protocol: s.transport,
      host: s.host,
      port: s.port,
      protocolVersion: s.protocolVersion,
      clientId: s.clientId,
      keepalive: s.keepalive,
      clean: s.clean,
      reconnectPeriod: 0, // reconnects are ours, with backoff
      connectTimeout: s.connectTimeoutMs ?? 10000,
      resubscribe: false, // subscriptions are ours too, made again on every connect
      queueQoSZero: false,
      // MQTT.js's client log prints whole packets, the CONNECT's password included, once DEBUG=mqttjs* is set (the
      // secrets test shows it); and asking `debug` whether it is on, at every step of every packet, took about 7% of
      // the runtime's CPU in the benchmark's QoS 1 bursts.
      log: silent,
    };
    if (s.transport === 'ws' || s.transport === 'wss') opts.path = s.path || '/mqtt';
    if (s.username) opts.username = s.username;
    // A Buffer, not a string: mqtt-packet logs every string field it writes (writeString) once DEBUG=mqtt-packet* or
    // DEBUG=* is set, and buffers it writes without a word.
    if (s.password) opts.password = Buffer.from(s.password, 'utf8');
    if (s.protocolVersion === 5 && s.sessionExpiry !== undefined) {
      opts.properties = { sessionExpiryInterval: s.sessionExpiry };
    }
    if (s.will) {
      opts.will = { topic: s.will.topic, payload: Buffer.from(s.will.payload), qos: s.will.qos, retain: s.will.retain };
      if (s.will.properties && s.protocolVersion === 5) opts.will.properties = s.will.properties;
    }
    if (s.transport === 'mqtts' || s.transport === 'wss') {
      // The name is checked against what the user configured, not what reaches tls.connect: through a SOCKS proxy
      // (MQTTJS_SOCKS_PROXY in the environment) MQTT.js leaves the host out, and Node then checks an IP-addressed
      // broker's certificate against "localhost".
      // An IPv6 host may be written in brackets, as in a URL; certificates name the bare address.
      const expected = (s.tls?.servername || s.host).replace(/^\[(.*)\]$/, '$1');
      const check = s.tls?.checkServerIdentity ?? checkServerIdentity;
      const tls = {
        ...(s.tls ?? {}),
        rejectUnauthorized: s.tls?.rejectUnauthorized !== false,
        checkServerIdentity: (_name: string, cert: PeerCertificate) => check(expected, cert),
      };
      Object.assign(opts, tls);
      // For wss MQTT.js passes on only the CA, certificate, key and passphrase; server name, ALPN and the minimum
      // TLS version would be dropped without wsOptions.
      if (s.transport === 'wss') opts.wsOptions = tls;
    }
    return opts;
  }
}

const DELIVERED: PublishOutcome = Object.freeze({ reasonCode: 0 });

/** What each client id's session at each broker holds, as far as this process knows; outlives connection objects. */
const sessions = new Map<string, SessionMemory>();

function sessionMemory(s: ConnectionSettings): SessionMemory {
  const key = `${s.transport}://${s.host}:${s.port}#${s.clientId}`;
  let memory = sessions.get(key);
  if (s.sessionDir && !(memory instanceof SessionFile)) {
    // What this process learnt, if anything, is newer than what the file says.
    const file = sessionFilePath(s.sessionDir, key);
    memory = new SessionFile(file, key, memory ?? readSessionFile(file, key), (err) =>
      process.emitWarning(`secure telemetry: the subscriptions of the kept session of ${s.clientId} cannot be kept on disk (${err.message}); after a restart, filters no node wants stay in the session until it expires`),
    );
  }
  memory ??= new Map<string, SubscribeOptions>();
  sessions.set(key, memory);
  return memory;
}

const silent = (): void => undefined;

/** How long a Will change waits for the old connection to end before connecting again. */
const WILL_SWAP_GRACE_MS = 2000;
const PLAIN_OPTIONS: Record<QoS, [IClientPublishOptions, IClientPublishOptions]> = {
  0: [Object.freeze({ qos: 0, retain: false }), Object.freeze({ qos: 0, retain: true })],
  1: [Object.freeze({ qos: 1, retain: false }), Object.freeze({ qos: 1, retain: true })],
  2: [Object.freeze({ qos: 2, retain: false }), Object.freeze({ qos: 2, retain: true })],
};

function toPublishError(err: Error): PublishError {
  const rc = (err as { code?: unknown }).code;
  if (typeof rc === 'number' && rc >= 0x80) {
    return new PublishError('BROKER_DENIED', `broker refused the message: ${REASON_CODES_V5[rc] ?? `reason ${rc}`}`, rc);
  }
  if (/connection closed|disconnecting/i.test(err.message)) return new PublishError('CONNECTION_LOST', err.message);
  return new PublishError('PUBLISH_FAILED', err.message);
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
