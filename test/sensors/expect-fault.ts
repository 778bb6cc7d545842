// Asserts that a reading fails with a HardwareError (and so produced no value).
import assert from 'node:assert/strict';
import { HardwareError } from '../../src/lib/hardware/hardware-error';

export async function expectFault(p: Promise<unknown>): Promise<HardwareError> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    assert.ok(err instanceof HardwareError, `not a HardwareError: ${String(err)}`);
    return err;
  }
  return assert.fail(`expected a failure, got the value ${JSON.stringify(value)}`);
}
