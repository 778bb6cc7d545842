// Sensor node: reads one sensor on an interval and/or on each message; one message per reading.
import { HardwareError, isHardwareError } from '../../lib/hardware/hardware-error';
import { backendFor } from '../../lib/sensors/backends';
import { ReadScheduler } from '../../lib/sensors/read-scheduler';
import { readingMessage, readingSummary, type ReadingMessage } from '../../lib/sensors/reading-message';
import { parseSensorConfig, type SensorFields } from '../../lib/sensors/sensor-config';
import { createSensorReader } from '../../lib/sensors/sensor-reader';
import { backToFlow, shortMessage } from '../shared/back-to-flow';
import { configProblem, nodeFault, STARTUP_DELAY_MS, type NodeFault } from '../shared/hardware-fault';
import { messages } from '../shared/messages';
import enUS from './locales/en-US/telemetry-sensor.json';
import type { DoneFn, NodeAPI, NodeDef, NodeInstance, NodeMessage, SendFn } from '../shared/node-red';

interface SensorDef extends NodeDef, SensorFields {
  /** 'hardware' | 'simulated' (or a backend registered by a test, see lib/sensors/backends.ts). */
  backend?: string;
}

type SensorNode = NodeInstance;

/** Real milliseconds close waits for a reading in progress. */
const CLOSE_WAIT_MS = 1000;

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function TelemetrySensor(this: SensorNode, def: SensorDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const { config, problems } = parseSensorConfig(def);
    const backend = backendFor(def.backend, problems);

    if (!config || !backend || problems.length) {
      const fault = configProblem(t, 'telemetry-sensor', problems);
      node.status(fault.status);
      node.error(fault.error);
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(fault.error));
      return;
    }

    const cfg = config;
    const timers = backend.timers;
    const reader = createSensorReader(config, backend);
    let closing = false;
    // Polls report a repeated failure once (status stays red), so a missing sensor does not flood the log.
    let lastPollError: string | undefined;
    // A GPIO out node holding the pin: say so (the generic "busy" text blames a kernel driver or another program).
    const faultOf = (err: unknown): NodeFault => nodeFault(RED, t, 'telemetry-sensor', err);

    async function readOnce(): Promise<ReadingMessage> {
      const reading = await reader.read();
      if (!closing) node.status({ fill: 'green', shape: 'dot', text: readingSummary(reading) });
      return readingMessage(reading, cfg, timers.now());
    }

    const scheduler = new ReadScheduler(backend.timers, async () => {
      if (closing) return;
      try {
        const msg = await readOnce();
        lastPollError = undefined;
        if (!closing) node.send({ ...msg });
      } catch (err) {
        if (closing) return;
        const fault = faultOf(err);
        node.status(fault.status);
        if (fault.error.message !== lastPollError) {
          lastPollError = fault.error.message;
          node.error(fault.error, { topic: config.topic, payload: undefined });
        }
      }
    });

    const idle = (def.backend ?? '').trim() === 'simulated' ? 'simulated' : 'waiting';
    node.status({ fill: 'grey', shape: 'ring', text: t(`telemetry-sensor.status.${idle}`) });
    scheduler.start(config.intervalMs, STARTUP_DELAY_MS);

    // A message ends with exactly one done(). Node-RED clones the message for a second wire and for Complete and
    // Catch nodes; a message nested deeper than the stack makes send or done throw, which is reported here
    // (without the message, which could not be cloned either) instead of calling done a second time.
    const flowThrew = (message: string): void => node.error(t('telemetry-sensor.errors.flowThrew', { message }));
    const closedError = (): HardwareError => new HardwareError('unknown', 'ECLOSED', t('telemetry-sensor.errors.closed'));

    async function readFor(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
      // Close has begun: open nothing (the bus or pin would never be released), but end the message visibly.
      if (closing) {
        backToFlow(() => done(closedError()), flowThrew);
        return;
      }
      let failure: Error | undefined;
      try {
        const out = await readOnce();
        lastPollError = undefined;
        if (closing) {
          // Finished while the node closes: the flow is going away, so nothing is sent and the message ends visibly.
          failure = new HardwareError('unknown', 'ECLOSED', t('telemetry-sensor.errors.closedWhileReading'));
        } else {
          try {
            send(Object.assign(msg, out));
          } catch (err) {
            failure = new Error(t('telemetry-sensor.errors.flowThrew', { message: shortMessage(err) }));
          }
        }
      } catch (err) {
        const fault = faultOf(err);
        if (!closing) node.status(fault.status);
        failure = isHardwareError(err) && err.code === 'ECLOSED' ? closedError() : fault.error;
      }
      backToFlow(() => (failure ? done(failure) : done()), flowThrew);
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (!config.readOnInput) {
        backToFlow(() => done(), flowThrew);
        return;
      }
      void scheduler.run(() => readFor(msg, send, done));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      // Give a reading in progress a moment to finish before its bus is closed, but never hold up a redeploy.
      let bound: ReturnType<typeof setTimeout> | undefined;
      const patience = new Promise<void>((resolve) => (bound = setTimeout(resolve, CLOSE_WAIT_MS)));
      // The reader closes its bus once a measurement in progress is over; the node does not wait past its patience.
      Promise.race([scheduler.stop().then(() => reader.close()), patience.then(() => void reader.close().catch(() => undefined))])
        .then(() => clearTimeout(bound))
        .catch((err: unknown) => node.warn(err instanceof Error ? err.message : String(err)))
        .finally(() => {
          node.status({});
          done();
        });
    });
  }

  RED.nodes.registerType('telemetry-sensor', TelemetrySensor as (this: never, def: never) => void);
};
