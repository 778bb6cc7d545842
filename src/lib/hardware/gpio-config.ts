// The GPIO nodes' fields checked and typed, and the values an output accepts.
import type { Bit, Edge } from './types';

export interface GpioInConfig {
  pin: number;
  edge: Exclude<Edge, 'none'>;
  debounceMs: number;
  activeLow: boolean;
  readOnDeploy: boolean;
  topic: string;
}

export interface GpioOutConfig {
  pin: number;
  /** 'keep': leave an already configured output as it is (no toggle on redeploy). */
  initial: 'keep' | Bit;
  activeLow: boolean;
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v).trim());
const flag = (v: unknown): boolean => v === true || v === 'true';

function parsePin(v: unknown, problems: string[]): number {
  const s = text(v);
  const pin = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(pin >= 0 && pin <= 53)) problems.push('pin must be a BCM GPIO number 0..53');
  return pin;
}

export function parseGpioInConfig(f: Record<string, unknown>): { config?: GpioInConfig; problems: string[] } {
  const problems: string[] = [];
  const pin = parsePin(f.pin, problems);
  const edgeText = text(f.edge) || 'both';
  if (!['rising', 'falling', 'both'].includes(edgeText)) problems.push('edge must be rising, falling or both');
  const debounceText = text(f.debounce) || '0';
  const debounceMs = Number(debounceText);
  if (!/^\d+$/.test(debounceText) || debounceMs > 10000) problems.push('debounce must be 0..10000 ms');
  if (problems.length) return { problems };
  return {
    problems,
    config: {
      pin,
      edge: edgeText as GpioInConfig['edge'],
      debounceMs,
      activeLow: flag(f.activeLow),
      readOnDeploy: f.readOnDeploy === undefined ? true : flag(f.readOnDeploy),
      topic: text(f.topic) || `gpio/${pin}`,
    },
  };
}

export function parseGpioOutConfig(f: Record<string, unknown>): { config?: GpioOutConfig; problems: string[] } {
  const problems: string[] = [];
  const pin = parsePin(f.pin, problems);
  const initialText = text(f.initial) || 'keep';
  if (!['keep', '0', '1'].includes(initialText)) problems.push('initial level must be keep, 0 or 1');
  if (problems.length) return { problems };
  return { problems, config: { pin, initial: initialText === 'keep' ? 'keep' : (Number(initialText) as Bit), activeLow: flag(f.activeLow) } };
}

/** 0/1, true/false and "on"/"off" (also "0"/"1"/"true"/"false", any case); anything else is undefined. */
export function parseBit(v: unknown): Bit | undefined {
  if (v === 0 || v === 1) return v;
  if (v === true || v === false) return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === '1' || s === 'on' || s === 'true') return 1;
    if (s === '0' || s === 'off' || s === 'false') return 0;
  }
  return undefined;
}

/**
 * The direction to open an output with. The kernel's "high"/"low" set the raw level, so with active low the
 * wanted logical level is inverted here: the pin comes up at the right level without a glitch. 'keep' is opened
 * without reconfiguring the direction, so these matter only for a pin that is not an output yet: it comes up
 * off, which with active low is physically high ("out" would drive it low and switch an active-low relay on).
 */
export function outputDirection(initial: GpioOutConfig['initial'], activeLow: boolean): 'out' | 'high' | 'low' {
  if (initial === 'keep') return activeLow ? 'high' : 'out';
  const raw = activeLow ? 1 - initial : initial;
  return raw ? 'high' : 'low';
}
