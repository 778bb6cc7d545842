// Finds the raw ADC value a monotonic compensation maps closest to a target: lets the simulators produce the
// raw registers a real chip would for a given temperature, pressure or humidity.
export function invertMonotonic(f: (raw: number) => number, lo: number, hi: number, target: number): number {
  const increasing = f(hi) >= f(lo);
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (f(mid) < target === increasing) a = mid;
    else b = mid;
  }
  return Math.abs(f(a) - target) <= Math.abs(f(b) - target) ? a : b;
}
