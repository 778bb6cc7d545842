// GPIO out node: sets a pin from 0/1, true/false or "on"/"off"; anything else is an error and the pin stays.
import { describePayload } from '../../lib/hardware/describe-payload';
import { outputDirection, parseBit, parseGpioOutConfig } from '../../lib/hardware/gpio-config';
import { HardwareError } from '../../lib/hardware/hardware-error';
import type { Bit, GpioLine } from '../../lib/hardware/types';
import { backendFor } from '../../lib/sensors/backends';
import { backToFlow } from '../shared/back-to-flow';
import { configProblem, nodeFault, type NodeFault } from '../shared/hardware-fault';
import { messages } from '../shared/messages';
import enUS from './locales/en-US/telemetry-gpio-out.json';
import type { DoneFn, NodeAPI, NodeDef, NodeInstance, NodeMessage, SendFn } from '../shared/node-red';

interface GpioOutDef extends NodeDef {
  pin?: string;
  initial?: string;
  activeLow?: boolean;
  backend?: string;
}

type GpioOutNode = NodeInstance;

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function TelemetryGpioOut(this: GpioOutNode, def: GpioOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const { config, problems } = parseGpioOutConfig({ ...def });
    const backend = backendFor(def.backend, problems);
    // A message ends with exactly one done(). Node-RED clones the message for Complete and Catch nodes; a message
    // nested deeper than the stack makes done throw, which is reported here instead of calling done a second time.
    const flowThrew = (message: string): void => node.error(t('telemetry-gpio-out.errors.flowThrew', { message }));
    if (!config || !backend || problems.length) {
      const fault = configProblem(t, 'telemetry-gpio-out', problems);
      node.status(fault.status);
      node.error(fault.error);
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => backToFlow(() => done(fault.error), flowThrew));
      return;
    }

    const cfg = config;
    const hardware = backend;
    let line: GpioLine | undefined;
    let closed = false;
    // Opening and writing one after another: a message arriving while the pin opens waits for it. A job that
    // throws anyway is logged: a rejected queue would be an unhandled rejection, which ends the process.
    let queue: Promise<void> = Promise.resolve();
    const serial = (job: () => Promise<void>): void => {
      queue = queue.then(job).catch((err: unknown) => node.error(err instanceof Error ? err.message : String(err)));
    };
    // An input node holding the pin: say so (the generic "busy" text blames a kernel driver or another program).
    const faultOf = (err: unknown): NodeFault => nodeFault(RED, t, 'telemetry-gpio-out', err);
    const showLevel = (value: Bit): void => {
      const word = value ? 'on' : 'off';
      if (!closed) node.status({ fill: value ? 'green' : 'grey', shape: 'dot', text: t(`telemetry-gpio-out.status.${word}`) });
    };

    async function open(): Promise<GpioLine> {
      if (line) return line;
      // reconfigureDirection false: an output that is already set keeps its level across redeploys.
      const opened = await hardware.openGpio(cfg.pin, {
        direction: outputDirection(cfg.initial, cfg.activeLow),
        activeLow: cfg.activeLow,
        reconfigureDirection: false,
      });
      if (closed) {
        opened.release();
        throw new Error('closed');
      }
      // An output configured before keeps its level unless the user asked for an initial one.
      if (cfg.initial !== 'keep') {
        try {
          await opened.write(cfg.initial);
        } catch (err) {
          // Not kept as `line`, so release it here: a line left exported makes the next opening fail (EBUSY).
          try {
            opened.release();
          } catch {
            // The write's error is the one to report.
          }
          throw err;
        }
      }
      line = opened;
      showLevel(await opened.read());
      return opened;
    }

    serial(async () => {
      try {
        await open();
      } catch (err) {
        if (closed) return;
        const fault = faultOf(err);
        node.status(fault.status);
        node.error(fault.error, { pin: config.pin });
      }
    });

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const value = parseBit(msg.payload);
      if (value === undefined) {
        // Short and safe for any payload (circular, BigInt, megabytes): its type and a preview, never all of it.
        const shown = describePayload(msg.payload);
        const text = t('telemetry-gpio-out.errors.invalidPayload', { value: shown });
        node.status({ fill: 'red', shape: 'ring', text: t('telemetry-gpio-out.status.invalidPayload') });
        backToFlow(() => done(new HardwareError('badReading', 'EINVAL', text, { value: shown })), flowThrew);
        return;
      }
      serial(async () => {
        let failure: Error | undefined;
        try {
          const l = await open();
          await l.write(value);
          showLevel(value);
        } catch (err) {
          const fault = faultOf(err);
          if (!closed) node.status(fault.status);
          failure = fault.error;
        }
        // Outside the try: a done() that throws must not be followed by a second done(err).
        backToFlow(() => (failure ? done(failure) : done()), flowThrew);
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      const finish = (): void => {
        try {
          line?.release();
        } catch (err) {
          node.warn(err instanceof Error ? err.message : String(err));
        }
        line = undefined;
        node.status({});
        done();
      };
      queue.then(finish, finish);
    });
  }

  RED.nodes.registerType('telemetry-gpio-out', TelemetryGpioOut as (this: never, def: never) => void);
};
