// BCM pin numbers → kernel GPIO numbers. Since Linux 6.6 (and on the Pi 5) the header's lines start at the base of
// the SoC pin controller's gpiochip (512 on a Pi 4, 571 on a Pi 5), so a plain BCM number is rejected with EINVAL.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeFault } from './describe-fault';

/** Labels of the controllers that drive the 40-pin header, most specific first. */
export const HEADER_CONTROLLER_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpioChip {
  name: string;
  label: string;
  base: number;
  ngpio?: number;
}

export async function listGpioChips(sysfsRoot = '/'): Promise<GpioChip[]> {
  const dir = path.join(sysfsRoot, 'sys', 'class', 'gpio');
  const names = (await readdir(dir)).filter((n) => /^gpiochip\d+$/.test(n));
  const chips: GpioChip[] = [];
  for (const name of names) {
    try {
      const label = (await readFile(path.join(dir, name, 'label'), 'utf8')).trim();
      const base = Number((await readFile(path.join(dir, name, 'base'), 'utf8')).trim());
      const ngpioText = await readFile(path.join(dir, name, 'ngpio'), 'utf8').catch(() => '');
      const ngpio = ngpioText.trim() === '' ? undefined : Number(ngpioText.trim());
      if (Number.isInteger(base)) chips.push({ name, label, base, ngpio });
    } catch {
      // A chip whose files cannot be read cannot be the one we are looking for.
    }
  }
  return chips;
}

/** The chip whose lines are the header's BCM pins, or undefined when none is recognised. */
export function headerChip(chips: readonly GpioChip[]): GpioChip | undefined {
  for (const label of HEADER_CONTROLLER_LABELS) {
    const found = chips.find((c) => c.label === label);
    if (found) return found;
  }
  return undefined;
}

/**
 * The sysfs GPIO number for BCM `pin`. Without a recognised SoC controller (not a Raspberry Pi, or an unusual
 * kernel) the number is used as given, which is what legacy kernels with base 0 expect anyway.
 */
export async function sysfsGpioNumber(pin: number, sysfsRoot = '/'): Promise<number> {
  let chips: GpioChip[];
  try {
    chips = await listGpioChips(sysfsRoot);
  } catch (err) {
    throw describeFault(err, { kind: 'gpio', pin });
  }
  const chip = headerChip(chips);
  if (!chip) return pin;
  if (chip.ngpio !== undefined && pin >= chip.ngpio) {
    throw describeFault(Object.assign(new Error('pin beyond the controller'), { code: 'EINVAL' }), { kind: 'gpio', pin, line: chip.base + pin });
  }
  return chip.base + pin;
}
