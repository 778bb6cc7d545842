// Properties of the access-rule parsers: random text and random JSON never crash them. Either a checker comes back
// (and answers every question with a boolean and a reason) or an AclSyntaxError that names the line.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDynamicSecurity } from '../../src/lib/acl/dynamic-security';
import { parseMosquittoAcl } from '../../src/lib/acl/mosquitto-acl';
import { AclSyntaxError, type AccessChecker, type Identity } from '../../src/lib/acl/types';
import { assertNoPollution, count, hostileKey, hostileString, hostileValue, report } from './arbitraries';

const RUNS = 400;

const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('topic', 'pattern', 'user', 'read', 'write', 'readwrite', 'deny', 'sensors/#', 'a/+/b', '%c/%u/#', '#', '+', 'a#', 'x+', '$SYS/#', 'alice', '') },
  { weight: 2, arbitrary: fc.constantFrom(' ', '  ', '\t', '\r', '# comment') },
  { weight: 1, arbitrary: hostileString.filter((s) => s.length < 200) },
);
const aclLine = fc.array(token, { maxLength: 5 }).map((t) => t.join(' '));
const aclText = fc.oneof(
  { weight: 4, arbitrary: fc.array(aclLine, { maxLength: 15 }).map((l) => l.join('\n')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

const identity: fc.Arbitrary<Identity> = fc.record(
  { username: fc.oneof(fc.constantFrom('alice', 'bob', ''), hostileKey), clientId: fc.oneof(fc.constantFrom('c1', 'dev/1', '+'), hostileKey) },
  { requiredKeys: ['clientId'] },
);
const topic = fc.oneof(fc.constantFrom('sensors/a', 'alice/c1/x', '$SYS/x', 'a/b/b', '$CONTROL/dynamic-security/v1'), hostileString.filter((s) => s.length < 300));

function exercise(checker: AccessChecker, who: Identity, t: string): void {
  for (const access of ['read', 'write'] as const) {
    const r = checker.check(who, t, access);
    assert.equal(typeof r.allowed, 'boolean');
    assert.ok(typeof r.reason === 'string' && r.reason.length > 0);
  }
  const s = checker.checkSubscribe(who, t);
  assert.equal(typeof s.allowed, 'boolean');
  assert.ok(['all', 'some', 'none'].includes(s.delivery));
}

function lineCount(text: string): number {
  return text.split('\n').length;
}

// Pieces of a dynamic-security document, valid and not.
const acltype = fc.constantFrom('publishClientSend', 'publishClientReceive', 'subscribeLiteral', 'subscribePattern', 'unsubscribeLiteral', 'unsubscribePattern', 'bogus', '');
const aclEntry = fc.record(
  { acltype: fc.oneof(acltype, hostileValue), topic: fc.oneof(fc.constantFrom('a/#', 'x/+/y', '#', 'a#'), hostileValue), allow: fc.oneof(fc.boolean(), hostileValue), priority: fc.oneof(fc.integer(), hostileValue) },
  { requiredKeys: [] },
);
const roleRef = fc.record({ rolename: fc.oneof(fc.constantFrom('r1', 'r2'), hostileValue), priority: fc.oneof(fc.integer(), hostileValue) }, { requiredKeys: [] });
const dynsecDoc = fc.record(
  {
    defaultACLAccess: fc.oneof(fc.record({ publishClientSend: fc.boolean(), publishClientReceive: fc.boolean(), subscribe: fc.boolean(), unsubscribe: fc.boolean() }, { requiredKeys: [] }), hostileValue),
    roles: fc.oneof(fc.array(fc.record({ rolename: fc.oneof(fc.constantFrom('r1', 'r2'), hostileValue), acls: fc.oneof(fc.array(aclEntry, { maxLength: 4 }), hostileValue) }, { requiredKeys: [] }), { maxLength: 3 }), hostileValue),
    clients: fc.oneof(fc.array(fc.record({ username: fc.oneof(fc.constantFrom('alice', 'bob'), hostileValue), clientid: fc.oneof(fc.constant('c1'), hostileValue), roles: fc.oneof(fc.array(roleRef, { maxLength: 2 }), hostileValue), disabled: fc.oneof(fc.boolean(), hostileValue) }, { requiredKeys: [] }), { maxLength: 3 }), hostileValue),
    groups: fc.oneof(fc.array(fc.record({ groupname: fc.oneof(fc.constant('g'), hostileValue), roles: fc.array(roleRef, { maxLength: 2 }), clients: fc.array(fc.record({ username: fc.oneof(fc.constant('alice'), hostileValue), priority: fc.oneof(fc.integer(), hostileValue) }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] }), { maxLength: 2 }), hostileValue),
    anonymousGroup: fc.oneof(fc.constant('g'), hostileValue),
  },
  { requiredKeys: [] },
);

describe('fuzz: ACL parsers', () => {
  after(() => report('acl-parsers'));

  test('parseMosquittoAcl: a checker that always answers, or an AclSyntaxError naming a line of the text', () => {
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(aclText, identity, topic, (text, who, t) => {
        count('parseMosquittoAcl');
        let checker: AccessChecker;
        try {
          checker = parseMosquittoAcl(text);
        } catch (err) {
          assert.ok(err instanceof AclSyntaxError, `not an AclSyntaxError: ${String(err)}`);
          assert.ok(Number.isInteger(err.line) && (err.line as number) >= 1 && (err.line as number) <= lineCount(text), `line ${err.line} of ${lineCount(text)}`);
          assert.match(err.message, new RegExp(`line ${err.line}\\b`));
          refused++;
          return true;
        }
        parsed++;
        exercise(checker, who, t);
        return true;
      }),
      { numRuns: RUNS },
    );
    assert.ok(parsed > 20 && refused > 20, `both outcomes exercised: ${parsed} parsed, ${refused} refused`);
    assertNoPollution();
  });

  test('parseDynamicSecurity: random documents and text give a checker or an AclSyntaxError, never anything else', () => {
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: dynsecDoc }, { weight: 1, arbitrary: hostileValue }), fc.boolean(), identity, topic, (doc, asText, who, t) => {
        count('parseDynamicSecurity');
        let input: string | object;
        if (asText) {
          let text: string | undefined;
          try {
            text = JSON.stringify(doc);
          } catch {
            text = undefined;
          }
          input = text ?? '{';
        } else {
          // Any object, BigInts and cycles included: what is not JSON data must be an AclSyntaxError too.
          input = typeof doc === 'object' && doc !== null ? doc : { value: doc };
        }
        let checker: AccessChecker;
        try {
          checker = parseDynamicSecurity(input);
        } catch (err) {
          assert.ok(err instanceof AclSyntaxError, `not an AclSyntaxError: ${err instanceof Error ? err.stack : String(err)}`);
          assert.ok(err.message.length > 0);
          refused++;
          return true;
        }
        parsed++;
        exercise(checker, who, t);
        return true;
      }),
      { numRuns: RUNS },
    );
    assert.ok(parsed > 10 && refused > 10, `both outcomes exercised: ${parsed} parsed, ${refused} refused`);
    assertNoPollution();
  });

  test('parseDynamicSecurity: truncated and mangled JSON text is refused with an AclSyntaxError', () => {
    const valid = JSON.stringify({ defaultACLAccess: { publishClientSend: false }, roles: [{ rolename: 'r1', acls: [{ acltype: 'publishClientSend', topic: 'a/#', allow: true }] }], clients: [{ username: 'alice', roles: [{ rolename: 'r1' }] }] });
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.string({ unit: 'binary', maxLength: 3 }), (cut, junk) => {
        count('dynsec mangled text');
        const text = valid.slice(0, cut) + junk;
        try {
          parseDynamicSecurity(text);
        } catch (err) {
          assert.ok(err instanceof AclSyntaxError, String(err));
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});
