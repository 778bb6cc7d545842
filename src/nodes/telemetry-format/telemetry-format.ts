// Turns a reading into the payload and topic a platform expects; the formats themselves live in lib/formats.
import { parseReading } from '../../lib/formats/reading';
import { createFormatter } from '../../lib/formats/registry';
import { SparkplugEdgeNode } from '../../lib/formats/sparkplug';
import type { TelemetryError } from '../../lib/formats/errors';
import type { FormatName, FormatOptions, Formatter, OutMessage } from '../../lib/formats/types';
import type { NodeAPI, NodeDef, NodeInstance, NodeMessage, NodeStatus } from '../shared/node-red';
import { invalidMessage, outgoing, type NodeContextStore } from '../shared/telemetry-messages';
import { backToFlow } from '../shared/back-to-flow';
import { onRebirthRequest } from '../shared/sparkplug-rebirth';

interface FormatDef extends NodeDef {
  format?: string;
  topic?: string;
  device?: string;
  /** 'str' (default) or 'env': the device name from an environment variable, as on a fleet of identical devices. */
  deviceType?: string;
  sensor?: string;
  timestampStyle?: string;
  qos?: string;
  senmlBaseName?: string;
  influxMeasurement?: string;
  influxIntegers?: string;
  haPrefix?: string;
  haStatusTopic?: string;
  haExpireAfter?: string;
  haDeviceName?: string;
  haManufacturer?: string;
  spGroup?: string;
  spEdgeNode?: string;
  spDevice?: string;
}

interface FormatNode extends NodeInstance {
  context(): NodeContextStore;
}

function optionsOf(def: FormatDef, bdSeq: number, device: string): FormatOptions {
  const qos = def.qos === '0' || def.qos === '1' || def.qos === '2' ? (Number(def.qos) as 0 | 1 | 2) : undefined;
  const expire = def.haExpireAfter && def.haExpireAfter.trim() ? Number(def.haExpireAfter) : undefined;
  return {
    format: (def.format ?? 'json') as FormatName,
    topic: def.topic ?? '',
    device,
    sensor: def.sensor?.trim() ?? '',
    timestampStyle: def.timestampStyle === 'ms' ? 'ms' : 'iso',
    qos,
    senmlBaseName: def.senmlBaseName ?? '',
    influxMeasurement: def.influxMeasurement ?? '',
    influxIntegers: def.influxIntegers === 'integer' ? 'integer' : 'float',
    haPrefix: def.haPrefix ?? '',
    haStatusTopic: def.haStatusTopic ?? '',
    haExpireAfter: expire,
    haDeviceName: def.haDeviceName ?? '',
    haManufacturer: def.haManufacturer ?? '',
    spGroup: def.spGroup ?? '',
    spEdgeNode: def.spEdgeNode ?? '',
    spDevice: def.spDevice ?? '',
    spBdSeq: bdSeq,
  };
}

/**
 * Sparkplug's bdSeq goes up by one per deploy or restart of this node. Node-RED deletes a node's context on
 * redeploy unless a context store is configured, so the last value is also kept in this module (it survives
 * redeploys); a configured persistent store makes it survive restarts too.
 */
function nextBdSeq(node: FormatNode, lastInProcess: Map<string, number>): number {
  let prev = lastInProcess.get(node.id);
  try {
    const stored = node.context().get('bdSeq');
    if (prev === undefined && typeof stored === 'number' && Number.isInteger(stored)) prev = stored;
  } catch {
    // no context available: the in-process value is all there is
  }
  const next = prev === undefined ? 0 : (prev + 1) % 256;
  lastInProcess.set(node.id, next);
  try {
    node.context().set('bdSeq', next);
  } catch {
    // as above
  }
  return next;
}

function deviceName(RED: NodeAPI, node: FormatNode, def: FormatDef): string {
  const value = def.device?.trim() ?? '';
  if (def.deviceType !== 'env' || !value) return value;
  const resolved = RED.util.evaluateNodeProperty(value, 'env', node);
  return typeof resolved === 'string' ? resolved.trim() : '';
}

export = function register(RED: NodeAPI): void {
  const lastBdSeq = new Map<string, number>();

  function TelemetryFormat(this: FormatNode, def: FormatDef): void {
    RED.nodes.createNode(this, def);
    const bdSeq = def.format === 'sparkplug' ? nextBdSeq(this, lastBdSeq) : 0;
    const created = createFormatter(optionsOf(def, bdSeq, deviceName(RED, this, def)));
    let formatter: Formatter | undefined;
    let configError: TelemetryError | undefined;
    if (created.ok) formatter = created.value;
    else {
      configError = created.error;
      this.error(RED._('telemetry-format.errors.config', { message: created.error.message }));
    }

    let shown = '';
    const show = (s: NodeStatus): void => {
      const key = `${s.fill ?? ''}${s.text ?? ''}`;
      if (key === shown) return;
      shown = key;
      this.status(s);
    };
    show(configError ? { fill: 'red', shape: 'ring', text: RED._('telemetry-format.status.config') } : {});

    // One NDEATH per bdSeq: a rebirth must not change the Will, or the shared connection reconnects to set it.
    let death: OutMessage | undefined;
    const toMessages = (msg: NodeMessage, list: OutMessage[]): NodeMessage[] => {
      return list.map((m, i) => {
        const out = outgoing(msg, m);
        if (formatter instanceof SparkplugEdgeNode && i === 0 && m.topic === formatter.topic('NBIRTH')) {
          // The NDEATH the connection's Will must carry, so its bdSeq matches this birth.
          death ??= formatter.death(Date.now());
          out.sparkplug = { bdSeq: formatter.bdSeq, death };
        }
        return out;
      });
    };

    if (formatter instanceof SparkplugEdgeNode) {
      // The connection came back after a loss (its NDEATH was published): a new session, a new bdSeq, births first.
      const sp = formatter;
      const stop = onRebirthRequest(sp.topic('NDEATH'), () =>
        backToFlow(
          () => {
            if (!sp.hasBorn) return; // the first reading makes the first birth
            const births = sp.newSession(nextBdSeq(this, lastBdSeq));
            if (!births.ok) {
              this.error(RED._('telemetry-format.errors.rebirth', { message: births.error.message }));
              return;
            }
            death = undefined;
            this.send([toMessages({}, births.value), null]);
          },
          (message) => this.error(RED._('telemetry-format.errors.rebirth', { message })),
        ),
      );
      this.on('close', stop);
    }

    this.on('input', (msg, send, done) => {
      const reject = (error: TelemetryError): void => {
        show({ fill: 'yellow', shape: 'ring', text: error.code });
        send([null, invalidMessage(msg, { ...error })]);
        done();
      };
      try {
        if (!formatter) return reject(configError as TelemetryError);
        const control = formatter.control?.(msg.topic, msg.payload);
        if (control) {
          if (!control.ok) return reject(control.error);
          if (control.value.length > 0) send([toMessages(msg, control.value), null]);
          done();
          return;
        }
        const reading = parseReading(msg);
        if (!reading.ok) return reject(reading.error);
        const result = formatter.format(reading.value);
        if (!result.ok) return reject(result.error);
        show({ fill: 'green', shape: 'dot', text: RED._('telemetry-format.status.ok') });
        send([toMessages(msg, result.value), null]);
        done();
      } catch (err) {
        // Nothing a message can do may escape into the runtime.
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  RED.nodes.registerType('telemetry-format', TelemetryFormat as (this: never, def: never) => void);
};
