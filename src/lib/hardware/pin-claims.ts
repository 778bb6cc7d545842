// Which pins the nodes of this process hold, and as what. A kernel GPIO is one resource however many nodes open
// it: the first opening exports and configures it, the last release unexports it, and a node asking for the
// other direction is refused rather than switching the pin under the node that holds it (an output turned into
// an input stops driving its relay; the holder's next write then fails with a misleading EPERM).
import { HardwareError, isHardwareError } from './hardware-error';
import type { GpioOptions } from './types';

export type PinRole = 'input' | 'output';

/** The code of the error for a pin another node holds in the other direction. */
export const PIN_IN_USE = 'EPININUSE';

export function roleOf(direction: GpioOptions['direction']): PinRole {
  return direction === 'in' ? 'input' : 'output';
}

/** Key 'busy' with `what` so every catalogue can word it; nodes that know the code say which node holds it. */
export function pinInUse(pin: number, held: PinRole): HardwareError {
  const wanted: PinRole = held === 'output' ? 'input' : 'output';
  return new HardwareError(
    'busy',
    PIN_IN_USE,
    `GPIO ${pin} is in use as an ${held} by another node: it cannot also be opened as an ${wanted} (use one node per pin and direction)`,
    { what: `GPIO ${pin}`, pin, held },
  );
}

export function isPinInUse(err: unknown): err is HardwareError {
  return isHardwareError(err) && err.code === PIN_IN_USE;
}

interface Claim<T> {
  role: PinRole;
  holders: number;
  shared: T;
}

/** Per-pin holder counts; `T` is what the holders of one pin share (the open onoff object on real hardware). */
export class PinClaims<T> {
  private readonly held = new Map<number, Claim<T>>();

  /**
   * One more holder of `key` (the kernel line). `create` runs for the first holder only; when it throws nothing
   * is recorded. `pin` is the BCM number the refusal names.
   */
  take(key: number, pin: number, role: PinRole, create: () => T): { shared: T; first: boolean } {
    const claim = this.held.get(key);
    if (claim) {
      if (claim.role !== role) throw pinInUse(pin, claim.role);
      claim.holders++;
      return { shared: claim.shared, first: false };
    }
    const shared = create();
    this.held.set(key, { role, holders: 1, shared });
    return { shared, first: true };
  }

  /** One holder fewer; true when it was the last (the pin may be unexported now). */
  drop(key: number): boolean {
    const claim = this.held.get(key);
    if (!claim) return false;
    if (--claim.holders > 0) return false;
    this.held.delete(key);
    return true;
  }
}
