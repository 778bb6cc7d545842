import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { headerChip, listGpioChips, sysfsGpioNumber } from '../../src/lib/hardware/gpio-numbering';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { BOARDS, fakeSysfs } from './fake-sysfs';

describe('BCM pin → sysfs GPIO number', () => {
  const cases: Array<[string, number, number]> = [
    ['pi4', 17, 529],
    ['pi4', 0, 512],
    ['pi5', 17, 588],
    ['pi5', 27, 598],
    ['pi5k61', 17, 416],
    ['pi5k61dir4', 4, 403],
    ['legacy', 17, 17],
    ['other', 17, 17],
  ];
  for (const [board, pin, expected] of cases) {
    test(`${board}: BCM ${pin} is ${expected}`, async () => {
      const fake = fakeSysfs(BOARDS[board]);
      try {
        assert.equal(await sysfsGpioNumber(pin, fake.root), expected);
      } finally {
        fake.remove();
      }
    });
  }

  test('the header controller is chosen by label, not by the lowest base', async () => {
    const fake = fakeSysfs(BOARDS.pi5);
    try {
      const chips = await listGpioChips(fake.root);
      assert.equal(chips.length, 5);
      assert.deepEqual(headerChip(chips), { name: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 });
    } finally {
      fake.remove();
    }
  });

  test('a pin beyond the controller is rejected before touching the kernel', async () => {
    const fake = fakeSysfs(BOARDS.pi5);
    try {
      await assert.rejects(sysfsGpioNumber(54, fake.root), (err: unknown) => err instanceof HardwareError && err.key === 'invalidPin' && /GPIO 54 \(sysfs 625\)/.test(err.message));
    } finally {
      fake.remove();
    }
  });

  test('no /sys/class/gpio: a plain "GPIO sysfs not found"', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sysfs-empty-'));
    try {
      await assert.rejects(sysfsGpioNumber(17, root), (err: unknown) => err instanceof HardwareError && err.key === 'noGpioSysfs');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
