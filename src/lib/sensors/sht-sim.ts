// Register-level SHT3x and SHT4x models: command in, 6-byte reply out; reading before a measurement was
// started is not acknowledged, as on the real chips.
import { nack, type I2cDeviceModel } from '../hardware/sim-i2c';
import type { Environment } from './sim-environment';
import type { SimFaults } from './sim-faults';
import { wordWithCrc } from './sensirion-words';

const SHT3X_MEASURE = new Set([0x2400, 0x240b, 0x2416, 0x2c06, 0x2c0d, 0x2c10]);
const SHT3X_OTHER = new Set([0x30a2, 0x306d, 0x3066, 0xf32d, 0x3041]);
const SHT4X_MEASURE = new Set([0xfd, 0xf6, 0xe0]);

abstract class ShtSim implements I2cDeviceModel {
  protected reply?: number[];
  /** Raw words to send instead of values derived from the environment. */
  raw?: { t: number; rh: number };
  measurements = 0;

  constructor(
    protected readonly env: Environment,
    protected readonly faults: SimFaults = {},
  ) {}

  protected abstract words(): { t: number; rh: number };
  protected abstract isMeasure(bytes: Uint8Array): boolean;
  protected abstract isKnown(bytes: Uint8Array): boolean;

  write(bytes: Uint8Array): void {
    if (this.faults.nack) throw nack();
    if (this.isMeasure(bytes)) {
      const { t, rh } = this.raw ?? this.words();
      const reply = [...wordWithCrc(t), ...wordWithCrc(rh)];
      if (this.faults.corruptCrc) reply[2] ^= 0x01;
      this.reply = reply;
      this.measurements++;
    } else if (!this.isKnown(bytes)) {
      throw nack();
    }
  }

  read(length: number): Uint8Array {
    if (this.faults.nack || !this.reply) throw nack();
    const out = Uint8Array.from(this.reply.slice(0, length));
    this.reply = undefined;
    return out;
  }
}

const clampWord = (v: number): number => Math.max(0, Math.min(65535, Math.round(v)));

export class Sht3xSim extends ShtSim {
  protected words(): { t: number; rh: number } {
    return { t: clampWord(((this.env.temperature() + 45) * 65535) / 175), rh: clampWord((this.env.humidity() * 65535) / 100) };
  }
  protected isMeasure(b: Uint8Array): boolean {
    return b.length === 2 && SHT3X_MEASURE.has((b[0] << 8) | b[1]);
  }
  protected isKnown(b: Uint8Array): boolean {
    return b.length === 2 && SHT3X_OTHER.has((b[0] << 8) | b[1]);
  }
}

export class Sht4xSim extends ShtSim {
  protected words(): { t: number; rh: number } {
    return { t: clampWord(((this.env.temperature() + 45) * 65535) / 175), rh: clampWord(((this.env.humidity() + 6) * 65535) / 125) };
  }
  protected isMeasure(b: Uint8Array): boolean {
    return b.length === 1 && SHT4X_MEASURE.has(b[0]);
  }
  protected isKnown(b: Uint8Array): boolean {
    return b.length === 1 && (b[0] === 0x94 || b[0] === 0x89);
  }
}
