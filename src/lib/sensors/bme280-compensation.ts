// The datasheet's integer compensation for BME280/BMP280 (Bosch BST-BME280-DS002 §4.2.3, BMP280 §3.11.3),
// computed in BigInt so the 64-bit pressure path is exact.

export interface Bme280Calibration {
  T1: number; T2: number; T3: number;
  P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
  /** Humidity coefficients: BME280 only. */
  H?: { H1: number; H2: number; H3: number; H4: number; H5: number; H6: number };
}

const B = BigInt;

/** t_fine and the temperature in 0.01 degC. */
export function compensateTemperature(adcT: number, c: Bme280Calibration): { tFine: number; centiDeg: number } {
  const T = B(adcT);
  const v1 = (((T >> 3n) - (B(c.T1) << 1n)) * B(c.T2)) >> 11n;
  const d = (T >> 4n) - B(c.T1);
  const v2 = (((d * d) >> 12n) * B(c.T3)) >> 14n;
  const tFine = v1 + v2;
  return { tFine: Number(tFine), centiDeg: Number((tFine * 5n + 128n) >> 8n) };
}

/** Pressure in Pa * 256 (Q24.8); 0 when the calibration would divide by zero. */
export function compensatePressure(adcP: number, tFine: number, c: Bme280Calibration): number {
  let a = B(tFine) - 128000n;
  let b = a * a * B(c.P6);
  b += (a * B(c.P5)) << 17n;
  b += B(c.P4) << 35n;
  a = ((a * a * B(c.P3)) >> 8n) + ((a * B(c.P2)) << 12n);
  a = (((1n << 47n) + a) * B(c.P1)) >> 33n;
  if (a === 0n) return 0;
  let p = 1048576n - B(adcP);
  p = (((p << 31n) - b) * 3125n) / a;
  const v1 = (B(c.P9) * (p >> 13n) * (p >> 13n)) >> 25n;
  const v2 = (B(c.P8) * p) >> 19n;
  p = ((p + v1 + v2) >> 8n) + (B(c.P7) << 4n);
  return Number(p);
}

/** Relative humidity in %RH * 1024 (Q22.10). */
export function compensateHumidity(adcH: number, tFine: number, c: Bme280Calibration): number {
  const h = c.H;
  if (!h) return 0;
  let x = B(tFine) - 76800n;
  const first = ((B(adcH) << 14n) - (B(h.H4) << 20n) - B(h.H5) * x + 16384n) >> 15n;
  const second = (((((x * B(h.H6)) >> 10n) * (((x * B(h.H3)) >> 11n) + 32768n)) >> 10n) + 2097152n) * B(h.H2) + 8192n;
  x = first * (second >> 14n);
  x -= (((x >> 15n) * (x >> 15n)) >> 7n) * B(h.H1) >> 4n;
  if (x < 0n) x = 0n;
  if (x > 419430400n) x = 419430400n;
  return Number(x >> 12n);
}

const u16 = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
const s16 = (b: Uint8Array, i: number): number => (u16(b, i) << 16) >> 16;
const s8 = (v: number): number => (v << 24) >> 24;

/** Parses 0x88..0xA1 (26 bytes) and, for the BME280, 0xE1..0xE7 (7 bytes). */
export function parseCalibration(tp: Uint8Array, hum?: Uint8Array): Bme280Calibration {
  const c: Bme280Calibration = {
    T1: u16(tp, 0), T2: s16(tp, 2), T3: s16(tp, 4),
    P1: u16(tp, 6), P2: s16(tp, 8), P3: s16(tp, 10), P4: s16(tp, 12), P5: s16(tp, 14),
    P6: s16(tp, 16), P7: s16(tp, 18), P8: s16(tp, 20), P9: s16(tp, 22),
  };
  if (hum) {
    c.H = {
      H1: tp[25],
      H2: s16(hum, 0),
      H3: hum[2],
      H4: (s8(hum[3]) << 4) | (hum[4] & 0x0f),
      H5: (s8(hum[5]) << 4) | (hum[4] >> 4),
      H6: s8(hum[6]),
    };
  }
  return c;
}

/** The inverse of parseCalibration, for the simulator. */
export function encodeCalibration(c: Bme280Calibration): { tp: Uint8Array; hum: Uint8Array } {
  const tp = new Uint8Array(26);
  const words = [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9];
  words.forEach((w, i) => {
    tp[2 * i] = w & 0xff;
    tp[2 * i + 1] = (w >> 8) & 0xff;
  });
  const hum = new Uint8Array(7);
  if (c.H) {
    tp[25] = c.H.H1 & 0xff;
    hum[0] = c.H.H2 & 0xff;
    hum[1] = (c.H.H2 >> 8) & 0xff;
    hum[2] = c.H.H3 & 0xff;
    hum[3] = (c.H.H4 >> 4) & 0xff;
    hum[4] = (c.H.H4 & 0x0f) | ((c.H.H5 & 0x0f) << 4);
    hum[5] = (c.H.H5 >> 4) & 0xff;
    hum[6] = c.H.H6 & 0xff;
  }
  return { tp, hum };
}
