// Readings from different devices and sensors are reduced separately; this is the key that keeps them apart.
import type { Reading } from '../formats/reading';

export function groupKey(r: Pick<Reading, 'device' | 'sensor'>): string {
  // NUL cannot occur in a parsed device or sensor name, so keys cannot collide.
  return `${r.device ?? ''}\u0000${r.sensor ?? ''}`;
}
