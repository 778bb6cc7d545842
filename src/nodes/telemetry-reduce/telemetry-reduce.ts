// Less data on the wire: report by exception (deadband + heartbeat), window aggregation, or batching.
// The logic lives in lib/reduce; this file wires it to messages, timers and the node's close.
import type { TelemetryError } from '../../lib/formats/errors';
import { parseReading, readingToFields, type Reading } from '../../lib/formats/reading';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../lib/reduce/batch';
import { systemClock } from '../../lib/reduce/clock';
import { Deadband } from '../../lib/reduce/deadband';
import { groupKey } from '../../lib/reduce/group-key';
import { parseFunctions, WindowAggregator, type WindowResult } from '../../lib/reduce/window';
import type { NodeAPI, NodeDef, NodeInstance, NodeMessage, SendFn } from '../shared/node-red';
import { invalidMessage } from '../shared/telemetry-messages';

interface ReduceDef extends NodeDef {
  mode?: string;
  deadbandMode?: string;
  band?: string;
  heartbeat?: string;
  windowKind?: string;
  windowSize?: string;
  functions?: string;
  batchCount?: string;
  batchAge?: string;
  batchJoin?: string;
  gzip?: boolean;
  topic?: string;
  onClose?: string;
}

interface Reducer {
  input(msg: NodeMessage): TelemetryError | undefined;
  close(flush: boolean): void;
}

function num(v: string | undefined, fallback: number): number {
  const n = v === undefined || v.trim() === '' ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export = function register(RED: NodeAPI): void {
  function TelemetryReduce(this: NodeInstance, def: ReduceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const topics = new Map<string, string>();
    // Inside an input handler its own send is used (message tracing); timers and close use node.send.
    let inputSend: SendFn | undefined;
    const emit = (msg: NodeMessage): void => {
      try {
        if (inputSend) inputSend([msg, null]);
        else node.send([msg, null]);
      } catch (err) {
        node.error(err);
      }
    };
    let warned = false;
    const fromReading = (r: Reading, extra: Record<string, unknown>): NodeMessage => {
      const topic = topics.get(groupKey(r));
      return { ...readingToFields(r), ...(topic !== undefined ? { topic } : {}), ...extra };
    };
    const remember = (msg: NodeMessage, r: Reading): void => {
      if (typeof msg.topic === 'string') topics.set(groupKey(r), msg.topic);
      if (topics.size > 10000) topics.delete(topics.keys().next().value as string);
    };

    let reducer: Reducer;
    const mode = def.mode === 'window' || def.mode === 'batch' ? def.mode : 'deadband';
    if (mode === 'deadband') {
      const heartbeatMs = num(def.heartbeat, 0) * 1000;
      const deadband = new Deadband({ mode: def.deadbandMode === 'percent' ? 'percent' : 'absolute', band: num(def.band, 0), heartbeatMs }, systemClock, (r) =>
        emit(fromReading(r, { heartbeat: true })),
      );
      reducer = {
        input(msg) {
          const r = parseReading(msg);
          if (!r.ok) return r.error;
          remember(msg, r.value);
          const passed = deadband.offer(r.value);
          if (passed) emit({ ...msg, ...readingToFields(passed) });
          return undefined;
        },
        close: () => deadband.close(),
      };
    } else if (mode === 'window') {
      const kind = def.windowKind === 'count' ? 'count' : 'time';
      const size = kind === 'count' ? Math.max(1, Math.round(num(def.windowSize, 10))) : Math.max(1, num(def.windowSize, 60) * 1000);
      const windows = new WindowAggregator({ kind, size, functions: parseFunctions(def.functions) }, systemClock, (w: WindowResult) =>
        emit(fromReading(w.reading, { window: w.window })),
      );
      reducer = {
        input(msg) {
          const r = parseReading(msg);
          if (!r.ok) return r.error;
          remember(msg, r.value);
          windows.offer(r.value);
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
        (items: BatchItem[], reason) => {
          const b = encodeBatch(items, { join, gzip });
          const topic = def.topic && def.topic.trim() ? def.topic.trim() : items[0].topic;
          const msg: NodeMessage = { payload: b.payload, contentType: b.contentType, batch: { count: b.count, reason } };
          if (topic !== undefined) msg.topic = topic;
          if (b.userProperties) msg.userProperties = b.userProperties;
          emit(msg);
        },
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
