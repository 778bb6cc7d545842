import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFault } from '../../src/lib/hardware/describe-fault';
import { HardwareError } from '../../src/lib/hardware/hardware-error';

const errno = (code: string, extra: object = {}): Error => Object.assign(new Error(`${code}: raw`), { code, ...extra });
const i2c = { kind: 'i2c', bus: 1, address: 0x76 } as const;
const gpio = { kind: 'gpio', pin: 17, line: 529 } as const;

test('EREMOTEIO (and errno 121 without a code) is "no device at 0x76 on bus 1"', () => {
  assert.match(describeFault(errno('EREMOTEIO'), i2c).message, /^no device at 0x76 on bus 1/);
  const bare = Object.assign(new Error('Remote I/O error'), { errno: 121 });
  assert.equal(describeFault(bare, i2c).key, 'noDevice');
});

test('ENOENT on I2C says the bus is missing and how to enable it', () => {
  const e = describeFault(errno('ENOENT'), i2c);
  assert.equal(e.key, 'noBus');
  assert.match(e.message, /I2C bus 1 not found \(\/dev\/i2c-1\): enable I2C/);
});

test('EACCES/EPERM name the group to join: i2c for buses, gpio for pins', () => {
  assert.match(describeFault(errno('EACCES'), i2c).message, /add the Node-RED user to the i2c group/);
  assert.match(describeFault(errno('EPERM'), gpio).message, /no permission for GPIO 17: add the Node-RED user to the gpio group/);
  assert.equal(describeFault(errno('EACCES'), gpio).key, 'noPermission');
});

test('EBUSY on a pin says another driver owns it; EINVAL names the kernel number', () => {
  assert.match(describeFault(errno('EBUSY'), gpio).message, /^GPIO 17 is busy/);
  assert.match(describeFault(errno('EINVAL'), gpio).message, /^GPIO 17 \(sysfs 529\) was rejected/);
});

test('EIO is an I/O error with a wiring hint; anything else keeps its own text', () => {
  assert.match(describeFault(errno('EIO'), i2c).message, /I\/O error \(EIO\), check wiring/);
  const other = describeFault(new Error('strange'), i2c);
  assert.equal(other.key, 'unknown');
  assert.match(other.message, /strange/);
});

test('HardwareErrors pass through unchanged', () => {
  const e = new HardwareError('crc', 'ECRC', 'x');
  assert.equal(describeFault(e, i2c), e);
});
