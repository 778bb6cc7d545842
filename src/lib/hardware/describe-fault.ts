// Raw errno-style errors from onoff, i2c-bus and the w1 sysfs files, turned into plain words with a hint.
import { HardwareError } from './hardware-error';

export type FaultContext =
  | { kind: 'i2c'; bus: number; address?: number }
  | { kind: 'gpio'; pin: number; line?: number }
  | { kind: 'w1'; device: string };

export function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

function errnoCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, errno } = err as { code?: unknown; errno?: unknown };
    if (typeof code === 'string') return code;
    if (errno === 121 || errno === -121) return 'EREMOTEIO';
  }
  return 'UNKNOWN';
}

function where(ctx: FaultContext): string {
  switch (ctx.kind) {
    case 'i2c':
      return `/dev/i2c-${ctx.bus}`;
    case 'gpio':
      return `GPIO ${ctx.pin}`;
    case 'w1':
      return `1-Wire device ${ctx.device}`;
  }
}

/** Maps any error to a HardwareError; HardwareErrors pass through unchanged. */
export function describeFault(err: unknown, ctx: FaultContext): HardwareError {
  if (err instanceof HardwareError) return err;
  const code = errnoCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const at = where(ctx);
  const address = ctx.kind === 'i2c' && ctx.address !== undefined ? hex(ctx.address) : '';
  switch (code) {
    case 'ENOENT':
      if (ctx.kind === 'i2c') {
        return new HardwareError('noBus', code, `I2C bus ${ctx.bus} not found (${at}): enable I2C (raspi-config, or dtparam=i2c_arm=on)`, { bus: ctx.bus });
      }
      if (ctx.kind === 'gpio') {
        return new HardwareError('noGpioSysfs', code, 'GPIO sysfs (/sys/class/gpio) not found: this system has no GPIO sysfs interface', { pin: ctx.pin });
      }
      return new HardwareError('noOneWire', code, `${at} not found: enable 1-Wire (dtoverlay=w1-gpio) and check the wiring and pull-up`, { device: ctx.device });
    case 'EACCES':
    case 'EPERM': {
      const group = ctx.kind === 'i2c' ? 'i2c' : 'gpio';
      return new HardwareError('noPermission', code, `no permission for ${at}: add the Node-RED user to the ${group} group (sudo adduser $USER ${group}) and restart Node-RED`, { what: at, group });
    }
    case 'EREMOTEIO':
    case 'ENXIO':
      if (ctx.kind === 'i2c') {
        return new HardwareError('noDevice', code, `no device at ${address || 'the address'} on bus ${ctx.bus} (check wiring and address)`, { address, bus: ctx.bus });
      }
      return new HardwareError('ioError', code, `${at}: ${detail}`, { what: at, detail });
    case 'EBUSY':
      return new HardwareError('busy', code, `${at} is busy: another program or a kernel driver (an overlay such as w1-gpio, spi or i2c) uses it`, { what: at });
    case 'EINVAL':
      if (ctx.kind === 'gpio') {
        const line = ctx.line !== undefined && ctx.line !== ctx.pin ? ` (sysfs ${ctx.line})` : '';
        return new HardwareError('invalidPin', code, `GPIO ${ctx.pin}${line} was rejected by the kernel: not a valid GPIO number here`, { pin: ctx.pin });
      }
      return new HardwareError('ioError', code, `${at}: invalid argument`, { what: at, detail });
    case 'EIO':
    case 'EAGAIN':
    case 'ETIMEDOUT':
      return new HardwareError('ioError', code, `${at}${address ? ` ${address}` : ''}: I/O error (${code}), check wiring and pull-ups`, { what: at, detail: code });
    default:
      return new HardwareError('unknown', code, `${at}: ${detail}`, { what: at, detail });
  }
}
