// dynamic-security semantics, one rule per test (the differential test checks the same engine against the plugin).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMosquittoAcl } from '../../src/lib/acl/mosquitto-acl';
import { parseDynamicSecurity, subscribePatternCovers } from '../../src/lib/acl/dynamic-security';
import { AclSyntaxError, type Identity } from '../../src/lib/acl/types';

const alice: Identity = { username: 'alice', clientId: 'c1' };
const anonymous: Identity = { clientId: 'c2' };

function acl(acltype: string, topic: string, allow: boolean, priority?: number): object {
  return priority === undefined ? { acltype, topic, allow } : { acltype, topic, allow, priority };
}

function config(extra: Record<string, unknown>): Record<string, unknown> {
  return { defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: false }, ...extra };
}

describe('dynamic-security: decision order', () => {
  test('the client roles are checked by priority, highest first; equal priorities by role name', () => {
    const roles = [
      { rolename: 'b-allow', acls: [acl('publishClientSend', 'a/#', true)] },
      { rolename: 'a-deny', acls: [acl('publishClientSend', 'a/#', false)] },
    ];
    const tie = parseDynamicSecurity(config({ roles, clients: [{ username: 'alice', roles: [{ rolename: 'b-allow' }, { rolename: 'a-deny' }] }] }));
    assert.deepEqual(tie.check(alice, 'a/x', 'write'), { allowed: false, reason: 'role a-deny: publishClientSend a/# deny' });
    const prio = parseDynamicSecurity(
      config({ roles, clients: [{ username: 'alice', roles: [{ rolename: 'b-allow', priority: 2 }, { rolename: 'a-deny', priority: 1 }] }] }),
    );
    assert.deepEqual(prio.check(alice, 'a/x', 'write'), { allowed: true, reason: 'role b-allow: publishClientSend a/# allow' });
  });

  test('inside a role the ACLs are checked by priority; equal priorities keep their order; the first match decides', () => {
    const cfg = (acls: object[]): ReturnType<typeof parseDynamicSecurity> =>
      parseDynamicSecurity(config({ roles: [{ rolename: 'r', acls }], clients: [{ username: 'alice', roles: [{ rolename: 'r' }] }] }));
    assert.equal(cfg([acl('publishClientSend', 'a/#', true), acl('publishClientSend', 'a/b', false)]).check(alice, 'a/b', 'write').allowed, true);
    assert.equal(cfg([acl('publishClientSend', 'a/#', true), acl('publishClientSend', 'a/b', false, 5)]).check(alice, 'a/b', 'write').allowed, false);
  });

  test('the client roles come before its groups; groups by priority; membership is listed in groups[].clients', () => {
    const cfg = parseDynamicSecurity(
      config({
        roles: [
          { rolename: 'deny', acls: [acl('publishClientSend', 'x', false)] },
          { rolename: 'allow', acls: [acl('publishClientSend', 'x', true), acl('publishClientSend', 'y', true)] },
          { rolename: 'own', acls: [acl('publishClientSend', 'y', false)] },
        ],
        groups: [
          { groupname: 'g-low', roles: [{ rolename: 'deny' }], clients: [{ username: 'alice', priority: 1 }] },
          { groupname: 'g-high', roles: [{ rolename: 'allow' }], clients: [{ username: 'alice', priority: 9 }] },
        ],
        clients: [{ username: 'alice', roles: [{ rolename: 'own' }] }],
      }),
    );
    assert.deepEqual(cfg.check(alice, 'x', 'write'), { allowed: true, reason: 'role allow (via group g-high): publishClientSend x allow' });
    assert.equal(cfg.check(alice, 'y', 'write').allowed, false, 'own role first');
  });

  test('a "groups" list inside a client is ignored, as Mosquitto ignores it (with a warning)', () => {
    const cfg = parseDynamicSecurity(
      config({
        roles: [{ rolename: 'allow', acls: [acl('publishClientSend', 'x', true)] }],
        groups: [{ groupname: 'g', roles: [{ rolename: 'allow' }] }],
        clients: [{ username: 'alice', groups: [{ groupname: 'g' }] }],
      }),
    );
    assert.equal(cfg.check(alice, 'x', 'write').allowed, false);
    assert.match(cfg.warnings[0], /clients\[0\]\.groups is ignored/);
  });

  test('no match: defaultACLAccess decides (missing keys are false), but never for $CONTROL', () => {
    const cfg = parseDynamicSecurity({ defaultACLAccess: { publishClientSend: true }, clients: [{ username: 'alice' }] });
    assert.deepEqual(cfg.check(alice, 'a', 'write'), { allowed: true, reason: 'no ACL matched: defaultACLAccess.publishClientSend = true' });
    assert.equal(cfg.check(alice, 'a', 'read').reason, 'no ACL matched: defaultACLAccess.publishClientReceive = false');
    assert.equal(cfg.check(alice, '$CONTROL/dynamic-security/v1', 'write').allowed, false);
  });

  test('clients without a user name use the anonymousGroup; unknown user names are refused', () => {
    const cfg = parseDynamicSecurity(
      config({
        roles: [{ rolename: 'pub', acls: [acl('publishClientReceive', 'public/#', true)] }],
        groups: [{ groupname: 'anon', roles: [{ rolename: 'pub' }] }],
        anonymousGroup: 'anon',
        clients: [],
      }),
    );
    assert.equal(cfg.check(anonymous, 'public/a', 'read').allowed, true);
    assert.match(cfg.check({ username: 'mallory', clientId: 'x' }, 'public/a', 'read').reason, /no dynamic-security client "mallory"/);
  });

  test('disabled clients and clients bound to another client id cannot connect', () => {
    const cfg = parseDynamicSecurity(config({ clients: [{ username: 'alice', disabled: true }, { username: 'bob', clientid: 'bob-1' }] }));
    assert.match(cfg.check(alice, 'a', 'write').reason, /disabled/);
    assert.match(cfg.check({ username: 'bob', clientId: 'other' }, 'a', 'write').reason, /client id "bob-1"/);
  });

  test('the broker denies publishing to $SYS before the plugin is asked', () => {
    const cfg = parseDynamicSecurity({ defaultACLAccess: { publishClientSend: true }, clients: [] });
    assert.equal(cfg.check(anonymous, '$SYS/x', 'write').reason, 'broker denies publishing to $SYS');
  });
});

describe('dynamic-security: subscriptions', () => {
  test('subscribeLiteral compares the filter string; within a role it is checked before subscribePattern', () => {
    const cfg = parseDynamicSecurity(
      config({
        roles: [{ rolename: 'r', acls: [acl('subscribePattern', 'a/#', true, 10), acl('subscribeLiteral', 'a/+', false)] }],
        clients: [{ username: 'alice', roles: [{ rolename: 'r' }] }],
      }),
    );
    assert.deepEqual(
      { allowed: cfg.checkSubscribe(alice, 'a/+').allowed, reason: cfg.checkSubscribe(alice, 'a/+').reason },
      { allowed: false, reason: 'role r: subscribeLiteral a/+ deny' },
    );
    assert.equal(cfg.checkSubscribe(alice, 'a/b').allowed, true);
    assert.equal(cfg.checkSubscribe(alice, 'b').allowed, false);
  });

  test('subscribePattern grants the filters it covers', () => {
    assert.equal(subscribePatternCovers('#', '$SYS/#'), true);
    assert.equal(subscribePatternCovers('a/#', 'a'), true);
    assert.equal(subscribePatternCovers('a/#', 'a/+/c'), true);
    assert.equal(subscribePatternCovers('a/+', 'a/#'), false);
    assert.equal(subscribePatternCovers('a/+', 'a/b/c'), false);
    assert.equal(subscribePatternCovers('+/+', 'x/+'), true);
    assert.equal(subscribePatternCovers('/#', '+'), false);
  });

  test('delivery follows publishClientReceive and its default', () => {
    const cfg = parseDynamicSecurity({
      defaultACLAccess: { subscribe: true, publishClientReceive: true },
      roles: [{ rolename: 'r', acls: [acl('publishClientReceive', 'secret/#', false)] }],
      clients: [{ username: 'alice', roles: [{ rolename: 'r' }] }],
    });
    assert.equal(cfg.checkSubscribe(alice, 'secret/#').delivery, 'none');
    assert.equal(cfg.checkSubscribe(alice, 'public/#').delivery, 'all');
    assert.equal(cfg.checkSubscribe(alice, '#').delivery, 'some');
  });
});

describe('dynamic-security: malformed configurations', () => {
  test("Mosquitto's password_file given by mistake: the error names the line but quotes no hash (acl_file or dynamic-security)", () => {
    const passwd = 'alice:$7$101$c2FsdHNhbHQ=$SECRETHASHdeadbeef==\n';
    for (const parse of [() => parseMosquittoAcl(passwd), () => parseDynamicSecurity(passwd)]) {
      assert.throws(parse, (e: unknown) => e instanceof AclSyntaxError && /line 1/.test(e.message) && !/SECRETHASH|\$7\$/.test(e.message));
    }
  });

  test('invalid JSON names the line', () => {
    assert.throws(() => parseDynamicSecurity('{\n"clients": [\n}\n'), (e: unknown) => e instanceof AclSyntaxError && /line 3/.test(e.message));
  });

  test('an object that is not JSON data (a BigInt, a cycle) is a syntax error, not a TypeError', () => {
    const cyclic: Record<string, unknown> = { clients: [] };
    cyclic.self = cyclic;
    for (const input of [{ clients: [], n: BigInt(1) }, cyclic]) {
      assert.throws(() => parseDynamicSecurity(input), (e: unknown) => e instanceof AclSyntaxError && /not JSON data/.test(e.message));
    }
  });

  test('a list that is not an array, or a top level that is not an object, is refused, naming the path', () => {
    assert.throws(() => parseDynamicSecurity({ clients: {} }), /clients: must be an array/);
    assert.throws(() => parseDynamicSecurity({ roles: 'r' }), /roles: must be an array/);
    assert.throws(() => parseDynamicSecurity('[]'), /must be a JSON object/);
  });

  test('entries Mosquitto skips are skipped with a warning naming the path, and the rest stays in force', () => {
    const cfg = parseDynamicSecurity({
      defaultACLAccess: { publishClientSend: 'no' },
      roles: [
        {
          rolename: 'r',
          acls: [
            { acltype: 'publish', topic: 'a' },
            { acltype: 'publishClientSend', topic: 'a/#/b', allow: true },
            { acltype: 'publishClientSend', allow: true },
            { acltype: 'publishClientSend', topic: 'y', allow: 'yes' },
            { acltype: 'publishClientSend', topic: 'z', allow: true, priority: 1.7 },
            { acltype: 'publishClientSend', topic: 'w', allow: true },
          ],
        },
        { acls: [] },
      ],
      groups: [{ roles: [] }],
      clients: [{ username: 'a', roles: [{ rolename: 'nope' }, { rolename: 'r' }] }, { roles: [] }, 5],
    });
    const a = { username: 'a', clientId: 'c' };
    assert.equal(cfg.check(a, 'w', 'write').allowed, true);
    assert.equal(cfg.check(a, 'z', 'write').allowed, true);
    assert.match(cfg.check(a, 'y', 'write').reason, /role r: publishClientSend y deny/);
    assert.equal(cfg.check(a, 'a/x/b', 'write').allowed, false);
    assert.equal(cfg.ruleCount, 3);
    const expected = [
      /defaultACLAccess\.publishClientSend is not true or false: Mosquitto uses false/,
      /roles\[0\]\.acls\[0\] has an unknown acltype "publish"/,
      /roles\[0\]\.acls\[1\] has an invalid topic filter "a\/#\/b"/,
      /roles\[0\]\.acls\[2\] has no topic/,
      /roles\[0\]\.acls\[3\]\.allow is not true or false/,
      /roles\[0\]\.acls\[4\]\.priority 1\.7 is not an integer: Mosquitto uses 1/,
      /roles\[1\] has no rolename/,
      /groups\[0\] has no groupname/,
      /clients\[0\]\.roles\[0\] names unknown role "nope"/,
      /clients\[1\] has no username/,
      /clients\[2\] is not an object/,
    ];
    assert.equal(cfg.warnings.length, expected.length, cfg.warnings.join('\n'));
    expected.forEach((re, i) => assert.match(cfg.warnings[i], re));
  });
});
