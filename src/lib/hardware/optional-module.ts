// onoff and i2c-bus are native optional dependencies: loaded only when real hardware is used, so the pack
// installs, and its simulated mode runs, where they could not be built.
import { HardwareError } from './hardware-error';

export type RequireFn = (id: string) => unknown;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeRequire: RequireFn = (id) => require(id) as unknown;

export function loadOptional<T>(name: string, purpose: string, isUsable: (m: unknown) => m is T, load: RequireFn = nodeRequire): T {
  let mod: unknown;
  try {
    mod = load(name);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'MODULE_NOT_FOUND' ? 'is not installed' : 'could not be loaded (its native build failed?)';
    throw new HardwareError(
      'notInstalled',
      'ENOMODULE',
      `${name} ${why} (${purpose} needs it; simulated mode works without)`,
      { module: name, purpose },
    );
  }
  if (!isUsable(mod)) {
    throw new HardwareError('notInstalled', 'ENOMODULE', `${name} does not have the expected API (${purpose} needs it)`, { module: name, purpose });
  }
  return mod;
}
