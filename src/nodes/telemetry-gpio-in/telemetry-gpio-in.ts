// GPIO in node: one message per edge (and optionally one with the level on deploy).
import { parseGpioInConfig } from '../../lib/hardware/gpio-config';
import type { TimerHandle } from '../../lib/hardware/timers';
import type { Bit, GpioLine } from '../../lib/hardware/types';
import { backendFor } from '../../lib/sensors/backends';
import { configProblem, nodeFault, STARTUP_DELAY_MS, type NodeFault } from '../shared/hardware-fault';
import { messages } from '../shared/messages';
import enUS from './locales/en-US/telemetry-gpio-in.json';
import type { NodeAPI, NodeDef, NodeInstance } from '../shared/node-red';

interface GpioInDef extends NodeDef {
  pin?: string;
  edge?: string;
  debounce?: string;
  activeLow?: boolean;
  readOnDeploy?: boolean;
  topic?: string;
  backend?: string;
}

type GpioInNode = NodeInstance;

const OPEN_RETRY_MIN_MS = 1000;
const OPEN_RETRY_MAX_MS = 60000;

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function TelemetryGpioIn(this: GpioInNode, def: GpioInDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const { config, problems } = parseGpioInConfig({ ...def });
    const backend = backendFor(def.backend, problems);
    if (!config || !backend || problems.length) {
      const fault = configProblem(t, 'telemetry-gpio-in', problems);
      node.status(fault.status);
      node.error(fault.error);
      return;
    }

    let line: GpioLine | undefined;
    let closed = false;
    let startup: TimerHandle | undefined;
    // A GPIO out node holding the pin: say so (the generic "busy" text blames a kernel driver or another program).
    const faultOf = (err: unknown): NodeFault => nodeFault(RED, t, 'telemetry-gpio-in', err);
    const report = (err: unknown): void => {
      if (closed) return;
      const fault = faultOf(err);
      node.status(fault.status);
      node.error(fault.error, { topic: config.topic, pin: config.pin });
    };
    const emit = (value: Bit, edge: 'rising' | 'falling' | 'initial'): void => {
      if (closed) return;
      node.status({ fill: value ? 'green' : 'grey', shape: 'dot', text: String(value) });
      node.send({ payload: value, topic: config.topic, pin: config.pin, edge, timestamp: backend.timers.now() });
    };

    // A pin another process holds (EBUSY) or an export not ready yet is retried with a growing delay; the same
    // error is reported once, not on every attempt.
    let retry: TimerHandle | undefined;
    let retryMs = OPEN_RETRY_MIN_MS;
    let lastFailure = '';
    const onOpened = (opened: GpioLine): void => {
      if (closed) {
        opened.release();
        return;
      }
      line = opened;
      // A later failure (none today: an open line is never reopened) starts from the first delay and is reported.
      retryMs = OPEN_RETRY_MIN_MS;
      lastFailure = '';
      opened.watch((err, value) => {
        try {
          if (err) report(err);
          else emit(value, value ? 'rising' : 'falling');
        } catch (e) {
          report(e);
        }
      });
      node.status({ fill: 'grey', shape: 'ring', text: t('telemetry-gpio-in.status.waiting') });
      if (!config.readOnDeploy) return;
      startup = backend.timers.setTimeout(() => {
        startup = undefined;
        opened.read().then((value) => emit(value, 'initial'), report);
      }, STARTUP_DELAY_MS);
    };
    const onOpenFailed = (err: unknown): void => {
      if (closed) return;
      const text = err instanceof Error ? err.message : String(err);
      if (text !== lastFailure) report(err);
      lastFailure = text;
      retry = backend.timers.setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, OPEN_RETRY_MAX_MS);
    };
    const open = (): void => {
      retry = undefined;
      backend
        .openGpio(config.pin, { direction: 'in', edge: config.edge, debounceMs: config.debounceMs, activeLow: config.activeLow })
        .then((opened) => {
          try {
            onOpened(opened);
          } catch (err) {
            report(err);
          }
        }, onOpenFailed);
    };
    open();

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (startup !== undefined) backend.timers.clearTimeout(startup);
      if (retry !== undefined) backend.timers.clearTimeout(retry);
      try {
        line?.release();
      } catch (err) {
        node.warn(err instanceof Error ? err.message : String(err));
      }
      line = undefined;
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('telemetry-gpio-in', TelemetryGpioIn as (this: never, def: never) => void);
};
