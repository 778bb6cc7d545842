import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dallasCrc8, sensirionCrc8 } from '../../src/lib/sensors/crc8';

test('Sensirion CRC-8 of 0xBEEF is 0x92 (SHT3x/SHT4x datasheet example)', () => {
  assert.equal(sensirionCrc8([0xbe, 0xef]), 0x92);
});

test('Dallas CRC-8 of the w1-therm example scratchpad is 0xe1, and 0 over bytes plus CRC', () => {
  const sp = [0x4b, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x05, 0x10];
  assert.equal(dallasCrc8(sp), 0xe1);
  assert.equal(dallasCrc8([...sp, 0xe1]), 0);
});

test('a single flipped bit changes both CRCs', () => {
  assert.notEqual(sensirionCrc8([0xbe, 0xee]), 0x92);
  assert.notEqual(dallasCrc8([0x4a, 0x01, 0x4b, 0x46, 0x7f, 0xff, 0x05, 0x10]), 0xe1);
});
