// The three small hardware interfaces every driver and node is written against; real and simulated
// implementations both satisfy them.

export type Bit = 0 | 1;
export type Edge = 'none' | 'rising' | 'falling' | 'both';

export interface GpioOptions {
  /**
   * 'high'/'low' set the level while configuring the pin as an output. A pin another line of this process holds
   * in the other direction is refused (pin-claims.ts); one it holds in the same direction is shared as it is.
   */
  direction: 'in' | 'out' | 'high' | 'low';
  /** The edges watch() reports; undefined or 'none' for a plain read. */
  edge?: Edge;
  /** A level is reported once it has been stable this long (edge-debounce.ts). */
  debounceMs?: number;
  activeLow?: boolean;
  /** false: an already exported output keeps its direction and level (no glitch on redeploy). */
  reconfigureDirection?: boolean;
}

export type WatchCallback = (err: Error | null | undefined, value: Bit) => void;

export interface GpioLine {
  /** The BCM number the user gave. */
  readonly pin: number;
  read(): Promise<Bit>;
  write(value: Bit): Promise<void>;
  watch(cb: WatchCallback): void;
  /** Stops watching (and any debounce under way); unexports the pin when no other line holds it. Safe to call twice. */
  release(): void;
}

/** Plain I2C transfers plus the register-style block read/write, as i2c-bus offers them. */
export interface I2cBus {
  readonly busNumber: number;
  write(address: number, bytes: readonly number[]): Promise<void>;
  read(address: number, length: number): Promise<Uint8Array>;
  /** Register read with a repeated start (SMBus block read). */
  readRegisters(address: number, register: number, length: number): Promise<Uint8Array>;
  writeRegister(address: number, register: number, value: number): Promise<void>;
  close(): Promise<void>;
}

/** A 1-Wire device through the Linux w1 driver: the text of its w1_slave file. */
export interface OneWireDevice {
  readonly id: string;
  readSlave(): Promise<string>;
}
