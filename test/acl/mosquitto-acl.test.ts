// acl_file semantics, one rule per test, each with a hand-written file (measured against Mosquitto 2.0.11; the
// differential test checks the same engine against the broker on random files).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseMosquittoAcl } from '../../src/lib/acl/mosquitto-acl';
import { AclSyntaxError, type Access, type Identity } from '../../src/lib/acl/types';

const anon = (clientId = 'c1'): Identity => ({ clientId });
const user = (username: string, clientId = 'c1'): Identity => ({ username, clientId });

function allowed(acl: string, who: Identity, topic: string, access: Access): boolean {
  return parseMosquittoAcl(acl).check(who, topic, access).allowed;
}

describe('acl_file: file syntax', () => {
  test('a comment needs # in the first column; blank and space-only lines are ignored', () => {
    const acl = '# comment\n\n   \ntopic read a\n';
    assert.equal(allowed(acl, anon(), 'a', 'read'), true);
    assert.throws(() => parseMosquittoAcl('  # indented\n'), /acl line 1: not an acl_file line/);
  });

  test('the access word is optional and defaults to readwrite', () => {
    const acl = 'topic a/b\n';
    assert.equal(allowed(acl, anon(), 'a/b', 'read'), true);
    assert.equal(allowed(acl, anon(), 'a/b', 'write'), true);
  });

  test('"topic read" alone is the topic "read" with readwrite (as Mosquitto reads it)', () => {
    const acl = 'topic read\n';
    assert.equal(allowed(acl, anon(), 'read', 'write'), true);
  });

  test('a filter with a space needs the access word; extra spaces around the filter are trimmed', () => {
    assert.equal(allowed('topic read  a b  \n', anon(), 'a b', 'read'), true);
    assert.throws(() => parseMosquittoAcl('topic a b\n'), (e: unknown) => e instanceof AclSyntaxError && e.line === 1 && /unknown access "a"/.test(e.message));
  });

  test('leading spaces before the keyword, CRLF line ends and trailing blanks are accepted', () => {
    assert.equal(allowed('  topic read x \r\nuser bob \r\n topic write y\r\n', user('bob'), 'y', 'write'), true);
  });

  test('malformed lines throw errors that name the line', () => {
    const cases: Array<[string, RegExp]> = [
      ['topic read a\n\n\ntopic wrtie a\n', /acl line 4: unknown access "wrtie"/],
      ['topic READ a\n', /acl line 1: unknown access "READ"/],
      ['topic read a/#/b\n', /acl line 1: invalid topic filter "a\/#\/b"/],
      ['pattern read %c#\n', /acl line 1: invalid topic filter/],
      ['topic read a+\n', /acl line 1: invalid topic filter/],
      ['topic\n', /acl line 1: empty topic/],
      ['pattern   \n', /acl line 1: empty topic/],
      ['user\n', /acl line 1: missing user name/],
      ['user    \n', /acl line 1: missing user name/],
      ['foo bar\n', /acl line 1: not an acl_file line/],
      ['TOPIC read a\n', /acl line 1: not an acl_file line/],
      ['topic\tread\ta\n', /acl line 1: not an acl_file line/],
      ['user\tbob\n', /acl line 1: not an acl_file line/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseMosquittoAcl(text), re, JSON.stringify(text));
  });

  test('a pattern without %c or %u is accepted with a warning', () => {
    const acl = parseMosquittoAcl('pattern read fixed/topic\n');
    assert.equal(acl.warnings.length, 1);
    assert.match(acl.warnings[0], /line 1/);
  });
});

describe('acl_file: whose lines apply', () => {
  test('topic lines before any user line are for clients without a user name', () => {
    const acl = 'topic read public/#\nuser alice\ntopic read private/#\n';
    assert.equal(allowed(acl, anon(), 'public/x', 'read'), true);
    assert.equal(allowed(acl, anon(), 'private/x', 'read'), false);
    assert.equal(allowed(acl, user('alice'), 'public/x', 'read'), false);
  });

  test('a user block matches the MQTT user name, not the client id', () => {
    const acl = 'user alice\ntopic write a\n';
    assert.equal(allowed(acl, user('alice', 'anything'), 'a', 'write'), true);
    assert.equal(allowed(acl, user('bob', 'alice'), 'a', 'write'), false);
    assert.equal(allowed(acl, anon('alice'), 'a', 'write'), false);
  });

  test('two blocks for the same user are merged', () => {
    const acl = 'user alice\ntopic write a\nuser bob\ntopic write b\nuser alice\ntopic write c\n';
    assert.equal(allowed(acl, user('alice'), 'a', 'write'), true);
    assert.equal(allowed(acl, user('alice'), 'c', 'write'), true);
    assert.equal(allowed(acl, user('alice'), 'b', 'write'), false);
  });

  test('a user name may contain spaces (the rest of the line, trimmed)', () => {
    assert.equal(allowed('user  bob smith \ntopic read a\n', user('bob smith'), 'a', 'read'), true);
  });

  test('patterns apply to every client wherever they stand; %c and %u are substituted', () => {
    const acl = 'user alice\ntopic read x\npattern write devices/%c/#\npattern read users/%u\n';
    assert.equal(allowed(acl, anon('dev7'), 'devices/dev7/temp', 'write'), true);
    assert.equal(allowed(acl, user('bob', 'dev8'), 'devices/dev8', 'write'), true);
    assert.equal(allowed(acl, user('alice', 'dev9'), 'devices/dev9/x', 'write'), true);
    assert.equal(allowed(acl, user('bob', 'dev8'), 'devices/dev7/temp', 'write'), false);
    assert.equal(allowed(acl, user('bob'), 'users/bob', 'read'), true);
  });

  test('%u patterns are skipped for clients without a user name', () => {
    const acl = 'pattern read %u/%c\n';
    assert.equal(allowed(acl, anon('c1'), '%u/c1', 'read'), false);
    assert.equal(allowed(acl, user('u', 'c1'), 'u/c1', 'read'), true);
  });

  test('substitution also works inside a level (Mosquitto 2.0.11 does not require a whole level)', () => {
    const acl = 'pattern write dev-%c/x\n';
    assert.equal(allowed(acl, anon('7'), 'dev-7/x', 'write'), true);
  });

  test('a client id with "/" expands to several levels', () => {
    const acl = 'pattern write d/%c/x\n';
    assert.equal(allowed(acl, anon('a/b'), 'd/a/b/x', 'write'), true);
    assert.equal(allowed(acl, anon('a/b'), 'd/a/x', 'write'), false);
  });

  test('an authenticated user without a block gets only the patterns', () => {
    const acl = 'topic read #\npattern read own/%c\n';
    assert.equal(allowed(acl, user('nobody', 'c5'), 'other', 'read'), false);
    assert.equal(allowed(acl, user('nobody', 'c5'), 'own/c5', 'read'), true);
  });

  test('an empty file (or one with only comments) denies everything', () => {
    for (const text of ['', '# nothing\n']) {
      const acl = parseMosquittoAcl(text);
      const r = acl.check(anon(), 'a', 'write');
      assert.equal(r.allowed, false);
      assert.match(r.reason, /^no rule matched/);
      assert.equal(acl.check(user('x'), 'a', 'read').allowed, false);
    }
  });
});

describe('acl_file: evaluation order', () => {
  test('deny lines are checked first, wherever they stand', () => {
    const acl = 'user alice\ntopic readwrite secrets/#\ntopic deny secrets/keys\n';
    const r = parseMosquittoAcl(acl).check(user('alice'), 'secrets/keys', 'read');
    assert.deepEqual(r, { allowed: false, reason: 'line 3: user alice: topic deny secrets/keys' });
    assert.equal(allowed(acl, user('alice'), 'secrets/other', 'read'), true);
  });

  test('a line without the requested right does not stop the scan', () => {
    const acl = 'topic read a/#\ntopic write a/b\n';
    const r = parseMosquittoAcl(acl).check(anon(), 'a/b', 'write');
    assert.deepEqual(r, { allowed: true, reason: 'line 2: anonymous: topic write a/b' });
    assert.equal(allowed(acl, anon(), 'a/c', 'write'), false);
  });

  test('a grant in the own block wins over a pattern deny', () => {
    const acl = 'user alice\ntopic write a/#\npattern deny a/%c\n';
    assert.equal(allowed(acl, user('alice', 'x'), 'a/x', 'write'), true);
    assert.equal(allowed(acl, user('bob', 'x'), 'a/x', 'write'), false);
  });

  test('pattern deny lines are checked before pattern grants', () => {
    const acl = 'pattern readwrite d/%c/#\npattern deny d/%c/secret\n';
    assert.equal(allowed(acl, anon('c1'), 'd/c1/secret', 'read'), false);
    assert.equal(allowed(acl, anon('c1'), 'd/c1/other', 'read'), true);
  });

  test('with patterns present, a user name or client id containing + or # is denied after its own block', () => {
    const acl = 'user a+b\ntopic write own\npattern write x/%c\n';
    assert.equal(allowed(acl, user('a+b', 'c'), 'own', 'write'), true);
    const r = parseMosquittoAcl(acl).check(user('a+b', 'c'), 'x/c', 'write');
    assert.equal(r.allowed, false);
    assert.match(r.reason, /user name "a\+b" contains \+ or #/);
    assert.equal(allowed(acl, anon('c#1'), 'x/c', 'write'), false);
    // Without patterns there is no such check.
    assert.equal(allowed('topic write t\n', anon('c#1'), 't', 'write'), true);
  });

  test('the reason names the deciding rule, or says nothing matched', () => {
    const acl = parseMosquittoAcl('topic read a\n\npattern write sensors/%c/#\n');
    assert.equal(acl.check(anon('s1'), 'sensors/s1/t', 'write').reason, 'line 3: pattern write sensors/%c/#');
    assert.equal(acl.check(anon('s1'), 'zzz', 'write').reason, 'no rule matched');
  });
});

describe('acl_file: matching', () => {
  test('"a/#" also matches "a"; "+" matches an empty level', () => {
    assert.equal(allowed('topic read a/#\n', anon(), 'a', 'read'), true);
    assert.equal(allowed('topic read a/+\n', anon(), 'a/', 'read'), true);
    assert.equal(allowed('topic read +/+\n', anon(), '/', 'read'), true);
  });

  test('a filter not starting with $ never matches a $ topic', () => {
    const acl = 'topic readwrite #\ntopic read +/x\n';
    assert.equal(allowed(acl, anon(), '$SYS/broker/uptime', 'read'), false);
    assert.equal(allowed(acl, anon(), '$foo/x', 'read'), false);
    assert.equal(allowed('topic read $SYS/#\n', anon(), '$SYS/broker/uptime', 'read'), true);
  });

  test('the broker denies publishing to $SYS (except bridge state) and $share before any rule', () => {
    const acl = parseMosquittoAcl('topic readwrite $SYS/#\ntopic readwrite $share/#\ntopic readwrite $SYSTEM/#\n');
    assert.deepEqual(acl.check(anon(), '$SYS/x', 'write'), { allowed: false, reason: 'broker denies publishing to $SYS' });
    assert.equal(acl.check(anon(), '$SYSTEM/x', 'write').allowed, false, 'prefix compare, as Mosquitto');
    assert.equal(acl.check(anon(), '$SYS/broker/connection/b1/state', 'write').allowed, true);
    assert.equal(acl.check(anon(), '$share/g/a', 'write').allowed, false);
    assert.equal(acl.check(anon(), '$SYS/x', 'read').allowed, true);
  });

  test('invalid topics are refused with the topic rule', () => {
    const acl = parseMosquittoAcl('topic readwrite #\n');
    assert.match(acl.check(anon(), 'a/+', 'write').reason, /^invalid topic: .*wildcard/);
    assert.match(acl.check(anon(), 'a\u0001', 'write').reason, /U\+0001/);
  });
});

describe('acl_file: subscriptions', () => {
  test('SUBSCRIBE is always granted; delivery says what the read rules let through', () => {
    const acl = parseMosquittoAcl('user alice\ntopic read sensors/#\ntopic deny sensors/secret\npattern read own/%c/#\n');
    const all = acl.checkSubscribe(user('alice', 'c1'), 'own/c1/#');
    assert.equal(all.allowed, true);
    assert.equal(all.delivery, 'all');
    assert.match(all.deliveryReason, /line 4: pattern read own\/%c\/#/);
    assert.equal(acl.checkSubscribe(user('alice'), 'sensors/#').delivery, 'some');
    assert.equal(acl.checkSubscribe(user('alice'), 'sensors/temp').delivery, 'all');
    const none = acl.checkSubscribe(user('alice'), 'sensors/secret');
    assert.equal(none.delivery, 'none');
    assert.match(none.deliveryReason, /line 3/);
    assert.equal(acl.checkSubscribe(user('bob'), 'other/#').delivery, 'none');
    assert.equal(acl.checkSubscribe(user('alice'), '$share/g/sensors/temp').delivery, 'all');
    assert.equal(acl.checkSubscribe(user('alice'), 'a/#/b').allowed, false);
  });
});
