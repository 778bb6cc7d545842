// One error type for everything the hardware layer reports: a code, an i18n key with its
// substitutions, and an English message for logs and for runtimes without the message catalogue.

export type FaultKey =
  | 'notInstalled'
  | 'noBus'
  | 'noPermission'
  | 'noDevice'
  | 'ioError'
  | 'busy'
  | 'invalidPin'
  | 'noGpioSysfs'
  | 'crc'
  | 'chipId'
  | 'timeout'
  | 'powerOn'
  | 'noOneWire'
  | 'badReading'
  | 'unknown';

export class HardwareError extends Error {
  readonly code: string;
  readonly key: FaultKey;
  readonly params: Record<string, string | number>;

  constructor(key: FaultKey, code: string, message: string, params: Record<string, string | number> = {}) {
    super(message);
    this.name = 'HardwareError';
    this.key = key;
    this.code = code;
    this.params = params;
  }
}

export function isHardwareError(err: unknown): err is HardwareError {
  return err instanceof HardwareError;
}
