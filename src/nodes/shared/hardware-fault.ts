// A hardware failure as a node shows it: translated error text (English from the lib when the catalogue has
// no entry) and a short red status.
import { HardwareError, isHardwareError, type FaultKey } from '../../lib/hardware/hardware-error';
import { isPinInUse } from '../../lib/hardware/pin-claims';
import { translate, type Translate } from './messages';
import type { NodeAPI, NodeStatus } from './node-red';

/**
 * Messages sent while the flow is still starting are lost (later nodes do not exist yet), so a node's first
 * message waits this long, as the inject node's "once after 0.1 s" does.
 */
export const STARTUP_DELAY_MS = 100;

const SHORT: Record<FaultKey, string> = {
  notInstalled: 'module missing',
  noBus: 'no I2C bus',
  noPermission: 'no permission',
  noDevice: 'no device',
  ioError: 'I/O error',
  busy: 'busy',
  invalidPin: 'invalid pin',
  noGpioSysfs: 'no GPIO sysfs',
  crc: 'CRC error',
  chipId: 'wrong chip id',
  timeout: 'timeout',
  powerOn: '85 °C power-on',
  noOneWire: 'not found',
  badReading: 'bad reading',
  unknown: 'error',
};

export interface NodeFault {
  error: HardwareError;
  status: NodeStatus;
}

/** `t` is the node's catalogue (with its en-US fallback), for the texts every such node has. */
export function nodeFault(RED: NodeAPI, t: Translate, type: string, err: unknown): NodeFault {
  // A pin another node holds is 'busy' to the lib; each node's catalogue words it as pinInUse.
  if (isPinInUse(err)) {
    return {
      error: new HardwareError('busy', err.code, t(`${type}.errors.pinInUse`, err.params), err.params),
      status: { fill: 'red', shape: 'ring', text: t(`${type}.status.pinInUse`) },
    };
  }
  const hw = isHardwareError(err) ? err : new HardwareError('unknown', 'UNKNOWN', err instanceof Error ? err.message : String(err));
  // 'unknown' carries the original text, which no catalogue entry could say better.
  const message = hw.key === 'unknown' ? hw.message : translate(RED, `${type}.errors.${hw.key}`, hw.params, hw.message);
  const shortFallback = hw.key === 'noDevice' && hw.params.address ? `no device ${hw.params.address}` : SHORT[hw.key];
  const text = translate(RED, `${type}.status.${hw.key}`, hw.params, shortFallback);
  return { error: new HardwareError(hw.key, hw.code, message, hw.params), status: { fill: 'red', shape: 'ring', text } };
}

/** `t` is the node's catalogue, whose errors.invalidConfig and status.invalidConfig say what is wrong. */
export function configProblem(t: Translate, type: string, problems: string[]): NodeFault {
  const message = `${t(`${type}.errors.invalidConfig`)}: ${problems.join('; ')}`;
  return {
    error: new HardwareError('unknown', 'ECONFIG', message),
    status: { fill: 'red', shape: 'ring', text: t(`${type}.status.invalidConfig`) },
  };
}
