// The backends a node can select by name. 'hardware' and 'simulated' always exist (created on first use,
// one per process, so a simulated GPIO output is seen by a simulated GPIO input on the same pin).
// Test hook: registerBackend('some-name', createSimulatedBackend({ faults, timers })) and set a node's
// `backend` field to that name to run it against fault-injecting simulators and a manual clock.
import type { HardwareBackend } from '../hardware/backend';
import { createHardwareBackend } from '../hardware/real-backend';
import { createSimulatedBackend } from './simulated-backend';

const registered = new Map<string, HardwareBackend>();

/** The backend a node's `backend` field names (blank means real hardware); an unknown name is added to `problems`. */
export function backendFor(field: string | undefined, problems: string[]): HardwareBackend | undefined {
  const name = (field ?? '').trim() || 'hardware';
  const backend = getBackend(name);
  if (!backend) problems.push(`unknown backend "${name}"`);
  return backend;
}

export function getBackend(name: string): HardwareBackend | undefined {
  let backend = registered.get(name);
  if (!backend && name === 'hardware') registered.set(name, (backend = createHardwareBackend()));
  if (!backend && name === 'simulated') registered.set(name, (backend = createSimulatedBackend()));
  return backend;
}

export function registerBackend(name: string, backend: HardwareBackend): void {
  registered.set(name, backend);
}

export function unregisterBackend(name: string): void {
  registered.delete(name);
}
