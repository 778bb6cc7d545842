// The simulated surroundings the device models measure: realistic values that drift slowly (two slow
// sinusoids per quantity, phases from a seed), so simulated readings look like a real room, not noise.
import { realTimers, type Timers } from '../hardware/timers';

export interface Environment {
  temperature(): number; // degC
  humidity(): number; // %RH
  pressure(): number; // Pa
  illuminance(): number; // lx
  /** Voltage on ADC input 0..3, in V. */
  voltage(input: number): number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class DriftingEnvironment implements Environment {
  private readonly phases: number[];

  constructor(
    private readonly timers: Timers = realTimers,
    seed = 0x5eed,
  ) {
    const rnd = mulberry32(seed);
    this.phases = Array.from({ length: 16 }, () => rnd() * 2 * Math.PI);
  }

  private wave(index: number, periodMin: number, amplitude: number): number {
    const minutes = this.timers.now() / 60000;
    return amplitude * Math.sin((2 * Math.PI * minutes) / periodMin + this.phases[index]);
  }

  temperature(): number {
    return 21.5 + this.wave(0, 97, 1.8) + this.wave(1, 13, 0.3);
  }

  humidity(): number {
    return 45 + this.wave(2, 131, 8) + this.wave(3, 17, 1.5);
  }

  pressure(): number {
    return 101325 + this.wave(4, 353, 600) + this.wave(5, 41, 40);
  }

  illuminance(): number {
    return Math.max(0, 320 + this.wave(6, 59, 180) + this.wave(7, 7, 25));
  }

  voltage(input: number): number {
    const i = Math.max(0, Math.min(3, Math.trunc(input)));
    return 1.65 + this.wave(8 + i, 29 + 6 * i, 0.6) + this.wave(12 + i, 5, 0.02);
  }
}

/** Fixed values, for tests that need exact expectations. */
export class FixedEnvironment implements Environment {
  constructor(
    public values: { temperature: number; humidity: number; pressure: number; illuminance: number; voltages: number[] } = {
      temperature: 21,
      humidity: 45,
      pressure: 101325,
      illuminance: 300,
      voltages: [1, 2, 0.5, 3],
    },
  ) {}
  temperature(): number {
    return this.values.temperature;
  }
  humidity(): number {
    return this.values.humidity;
  }
  pressure(): number {
    return this.values.pressure;
  }
  illuminance(): number {
    return this.values.illuminance;
  }
  voltage(input: number): number {
    return this.values.voltages[input] ?? 0;
  }
}
