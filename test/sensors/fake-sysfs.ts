// Fake /sys trees of real boards, as their gpiochip directories look (label, base, ngpio).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Directory name defaults to gpiochip<base>, as the kernel names them. */
export type ChipSpec = [label: string, base: number, ngpio: number, dir?: string];

export const BOARDS: Record<string, ChipSpec[]> = {
  // Raspberry Pi 4, kernel 6.6: SoC controller at 512, the firmware expander after it.
  pi4: [['pinctrl-bcm2711', 512, 58], ['raspberrypi-exp-gpio', 570, 8]],
  // Raspberry Pi 5, kernel 6.6: the header is on RP1 at 571; the SoC's own controllers come first.
  pi5: [['gpio-brcmstb@107d508500', 512, 32], ['gpio-brcmstb@107d508520', 544, 4], ['gpio-brcmstb@107d517c00', 548, 17], ['gpio-brcmstb@107d517c20', 565, 6], ['pinctrl-rp1', 571, 54]],
  // Raspberry Pi 5, kernel 6.1: RP1 (/dev/gpiochip4) had base 399.
  pi5k61: [['gpio-brcmstb@107d508500', 453, 32], ['gpio-brcmstb@107d508520', 485, 4], ['gpio-brcmstb@107d517c00', 489, 17], ['gpio-brcmstb@107d517c20', 506, 6], ['pinctrl-rp1', 399, 54]],
  // The same, for a tree where RP1's directory carries its chardev number (gpiochip4) rather than its base.
  pi5k61dir4: [['gpio-brcmstb@107d508500', 453, 32, 'gpiochip0'], ['pinctrl-rp1', 399, 54, 'gpiochip4']],
  // Raspberry Pi 3 on a legacy kernel: base 0, BCM numbers work as they are.
  legacy: [['pinctrl-bcm2835', 0, 54], ['raspberrypi-exp-gpio', 504, 8]],
  // Some other board: no Raspberry Pi controller.
  other: [['gpio-mockup-A', 0, 32]],
};

export function fakeSysfs(chips: ChipSpec[]): { root: string; remove(): void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sysfs-'));
  const gpio = path.join(root, 'sys', 'class', 'gpio');
  mkdirSync(gpio, { recursive: true });
  writeFileSync(path.join(gpio, 'export'), '');
  writeFileSync(path.join(gpio, 'unexport'), '');
  for (const [label, base, ngpio, name] of chips) {
    const dir = path.join(gpio, name ?? `gpiochip${base}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'label'), `${label}\n`);
    writeFileSync(path.join(dir, 'base'), `${base}\n`);
    writeFileSync(path.join(dir, 'ngpio'), `${ngpio}\n`);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
