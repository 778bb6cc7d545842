// Less data on the wire: report by exception (deadband + heartbeat), window aggregation, or batching.
// The logic lives in lib/reduce; this file wires it to messages, timers and the node's close.
import type { TelemetryError } from '../../lib/formats/errors';
import { parseReading, readingToFields, toPlainObject, type Reading } from '../../lib/formats/reading';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../lib/reduce/batch';
import { systemClock } from '../../lib/reduce/clock';
import { Deadband, DEFAULT_MAX_TRACKED } from '../../lib/reduce/deadband';
import { parseFunctions, WindowAggregator, type WindowResult } from '../../lib/reduce/window';
import { backToFlow } from '../shared/back-to-flow';
import { messages } from '../shared/messages';
import type { NodeAPI, NodeDef, NodeInstance, NodeMessage, SendFn } from '../shared/node-red';
import { invalidMessage } from '../shared/telemetry-messages';
import enUS from './locales/en-US/telemetry-reduce.json';

interface ReduceDef extends NodeDef {
  mode?: string;
  deadbandMode?: string;
  band?: string | number;
  heartbeat?: string | number;
  windowKind?: string;
  windowSize?: string | number;
  functions?: string;
  batchCount?: string | number;
  batchAge?: string | number;
  batchJoin?: string;
  gzip?: boolean;
  topic?: string;
  onClose?: string;
  maxTracked?: string | number;
}

interface Reducer {
  input(msg: NodeMessage): TelemetryError | undefined;
  close(flush: boolean): void;
}

/** A number from the flow: text as the editor saves it, or a number in a flow written by hand. */
function num(v: string | number | undefined, fallback: number): number {
  const n = v === undefined || String(v).trim() === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function TelemetryReduce(this: NodeInstance, def: ReduceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    // Measurements tracked by the deadband, or windows open at once.
    const limit = Math.max(1, Math.round(num(def.maxTracked, DEFAULT_MAX_TRACKED)));
    // Inside an input handler its own send is used (message tracing); timers and close use node.send.
    let inputSend: SendFn | undefined;
    const flowThrew = (message: string): void => node.error(t('telemetry-reduce.errors.flowThrew', { message }));
    // Windows, heartbeats and batches are also sent from timers, where an exception would end the process.
    const guarded = (fn: () => void): void => backToFlow(fn, flowThrew);
    const emit = (msg: NodeMessage): void =>
      guarded(() => {
        if (inputSend) inputSend([msg, null]);
        else node.send([msg, null]);
      });
    let warned = false;
    // The reducers keep the topic with their own state (bounded by the same limit): a separate map of topics would
    // need a limit of its own, and could forget the topic of a window still open.
    const fromReading = (r: Reading, topic: string | undefined, extra: Record<string, unknown>): NodeMessage => {
      // Metadata becomes tags downstream (Influx): an aggregate or heartbeat without it would be a different series
      // from the values that passed through.
      const metadata = r.metadata.size > 0 ? { metadata: toPlainObject(r.metadata) } : {};
      return { ...readingToFields(r), ...metadata, ...(topic !== undefined ? { topic } : {}), ...extra };
    };
    const topicOf = (msg: NodeMessage): string | undefined => (typeof msg.topic === 'string' ? msg.topic : undefined);

    let reducer: Reducer;
    const mode = def.mode === 'window' || def.mode === 'batch' ? def.mode : 'deadband';
    if (mode === 'deadband') {
      const heartbeatMs = num(def.heartbeat, 0) * 1000;
      const deadband = new Deadband(
        {
          mode: def.deadbandMode === 'percent' ? 'percent' : 'absolute',
          // Missing (a flow written by hand): the editor's default; cleared in the editor: every change passes, as before.
          band: num(def.band, def.band === undefined ? 0.5 : 0),
          heartbeatMs,
          maxTracked: limit,
          onLimit: (n) => node.warn(t('telemetry-reduce.log.deadbandLimit', { limit: n })),
        },
        systemClock,
        (r, topic) => guarded(() => emit(fromReading(r, topic, { heartbeat: true }))),
      );
      reducer = {
        input(msg) {
          const r = parseReading(msg);
          if (!r.ok) return r.error;
          const passed = deadband.offer(r.value, topicOf(msg));
          if (passed) emit({ ...msg, ...readingToFields(passed) });
          return undefined;
        },
        close: () => deadband.close(),
      };
    } else if (mode === 'window') {
      const kind = def.windowKind === 'count' ? 'count' : 'time';
      const size = kind === 'count' ? Math.max(1, Math.round(num(def.windowSize, 10))) : Math.max(1, num(def.windowSize, 60) * 1000);
      const windows = new WindowAggregator(
        {
          kind,
          size,
          functions: parseFunctions(def.functions),
          maxGroups: limit,
          onLimit: (n) => node.warn(t('telemetry-reduce.log.windowLimit', { limit: n })),
        },
        systemClock,
        (w: WindowResult) => guarded(() => emit(fromReading(w.reading, w.topic, { window: w.window }))),
      );
      reducer = {
        input(msg) {
          const r = parseReading(msg);
          if (!r.ok) return r.error;
          windows.offer(r.value, topicOf(msg));
          return undefined;
        },
        close: (flush) => (flush ? windows.flush() : windows.discard()),
      };
    } else {
      const join = def.batchJoin === 'lines' ? 'lines' : 'array';
      const gzip = def.gzip === true;
      const batcher = new Batcher(
        { maxCount: Math.max(1, Math.round(num(def.batchCount, 10))), maxAgeMs: num(def.batchAge, 0) * 1000, join, gzip, maxBytes: 256 * 1024 },
        systemClock,
        (items: BatchItem[], reason) =>
          guarded(() => {
            const b = encodeBatch(items, { join, gzip });
            const topic = def.topic && def.topic.trim() ? def.topic.trim() : items[0].topic;
            const msg: NodeMessage = { payload: b.payload, contentType: b.contentType, batch: { count: b.count, reason } };
            if (topic !== undefined) msg.topic = topic;
            if (b.userProperties) msg.userProperties = b.userProperties;
            emit(msg);
          }),
      );
      reducer = {
        input(msg) {
          const e = batchEntry(msg.payload, join);
          if (!e.ok) return e.error;
          const item: BatchItem = { entry: e.value.entry, size: e.value.size };
          if (typeof msg.topic === 'string') item.topic = msg.topic;
          batcher.offer(item);
          return undefined;
        },
        close: (flush) => (flush ? batcher.flush('flush') : batcher.discard()),
      };
    }

    this.on('input', (msg, send, done) => {
      inputSend = send;
      try {
        const problem = reducer.input(msg);
        if (problem) {
          warned = true;
          node.status({ fill: 'yellow', shape: 'ring', text: problem.code });
          send([null, invalidMessage(msg, { ...problem })]);
        } else if (warned) {
          warned = false;
          node.status({});
        }
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      } finally {
        inputSend = undefined;
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      try {
        // Pending windows and batches are sent on close unless the node is set to drop them.
        reducer.close(def.onClose !== 'drop');
      } catch (err) {
        node.error(err);
      }
      done();
    });
  }

  RED.nodes.registerType('telemetry-reduce', TelemetryReduce as (this: never, def: never) => void);
};
