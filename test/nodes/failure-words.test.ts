// Connection failure reasons in the user's language: every reason the connection can give has catalogue words,
// the en-US words say exactly what the reason's own text says, and zh-CN users get Chinese.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLOSED_BY_BROKER,
  connackReason,
  describeError,
  disconnectReason,
  failureWordKeys,
  REASON_CODES_V5,
  type FailureReason,
} from '../../src/lib/mqtt/failure-reasons';
import { reasonText } from '../../src/nodes/shared/connection-status';
import { lookup, messages, type Catalogue } from '../../src/nodes/shared/messages';
import { catalogueFile } from '../helpers/catalogues';
import type { NodeAPI } from '../../src/nodes/shared/node-red';

const load = (lang: string): Catalogue => catalogueFile('secure-mqtt-broker', lang);
// Like node-red-node-test-helper: RED._ answers with the key, so the catalogue given to messages() decides.
const RED = { _: (key: string) => key } as unknown as NodeAPI;
const en = messages(RED, load('en-US'));
const zh = messages(RED, load('zh-CN'));

function everyReason(): FailureReason[] {
  const out: FailureReason[] = [CLOSED_BY_BROKER];
  for (const v of [4, 5] as const) {
    const codes = v === 5 ? Object.keys(REASON_CODES_V5).map(Number) : [1, 2, 3, 4, 5];
    for (const c of codes) for (const cred of [true, false, undefined]) out.push(connackReason(c, v, cred));
  }
  for (const rc of Object.keys(REASON_CODES_V5).map(Number)) out.push(disconnectReason(rc));
  // Error codes from net and tls; TIMEOUT comes from MQTT.js's words, CLOSED_BY_BROKER is the constant above.
  const errorCodes = failureWordKeys().filter((k) => k.startsWith('code.') && !['code.TIMEOUT', 'code.CLOSED_BY_BROKER'].includes(k));
  for (const key of errorCodes) out.push(describeError({ code: key.slice(5), message: 'x' }, 5));
  out.push(describeError(new Error('connack timeout'), 4));
  return out;
}

test('every catalogue key a failure reason can name is in the broker node catalogue', () => {
  const cat = load('en-US');
  for (const key of failureWordKeys()) assert.equal(typeof lookup(cat, `secure-mqtt-broker.failure.${key}`), 'string', key);
});

test('in en-US a failure reason reads exactly as its own text; in zh-CN it is translated', () => {
  const reasons = everyReason();
  assert.ok(reasons.length > 150, `${reasons.length} reasons`);
  for (const r of reasons) {
    assert.ok(r.words, `${r.code} has catalogue words`);
    assert.equal(reasonText(r, en), r.text, r.code);
    const local = reasonText(r, zh);
    assert.doesNotMatch(local, /secure-mqtt-broker\.|__\w+__/, `${r.code}: ${local}`);
    assert.match(local, /[\u4e00-\u9fff]/, `${r.code} in Chinese: ${local}`);
  }
  assert.equal(reasonText(connackReason(5, 4, true), zh), '被拒绝：未授权 (用户名或密码错误？)');
});

test('a reason quoting the error itself stays as it is', () => {
  const r = describeError(new Error('something odd happened'), 4);
  assert.equal(r.words, undefined);
  assert.equal(reasonText(r, zh), 'something odd happened');
});
