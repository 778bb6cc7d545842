import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

interface PublicApi {
  parseMosquittoAcl(text: string): { check(id: { username?: string; clientId: string }, topic: string, access: 'read' | 'write'): { allowed: boolean; reason: string } };
  parseDynamicSecurity(json: string | object): { check(id: { username?: string; clientId: string }, topic: string, access: 'read' | 'write'): { allowed: boolean; reason: string } };
  checkPublishTopic(t: unknown): { code: string; message: string } | undefined;
  checkSubscriptionFilter(f: unknown): { code: string; message: string } | undefined;
}

// require('<package>') exactly as a deployment script would, through package.json "main".
const api = require(path.resolve(__dirname, '..', '..', '..')) as PublicApi;

test('the main entry lints an acl_file and answers checks with the deciding rule', () => {
  const acl = api.parseMosquittoAcl('user alice\ntopic write sensors/#\npattern read commands/%c\n');
  assert.deepEqual(acl.check({ username: 'alice', clientId: 'pi-1' }, 'sensors/t', 'write'), { allowed: true, reason: 'line 2: user alice: topic write sensors/#' });
  assert.equal(acl.check({ username: 'alice', clientId: 'pi-1' }, 'commands/pi-1', 'read').allowed, true);
  assert.equal(acl.check({ username: 'alice', clientId: 'pi-1' }, 'commands/pi-2', 'read').allowed, false);
  assert.throws(() => api.parseMosquittoAcl('user a\ntopic wrtie x\n'), /line 2/);
});

test('the main entry reads dynamic-security JSON', () => {
  const ds = api.parseDynamicSecurity({
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
    clients: [{ username: 'dev', roles: [{ rolename: 'sensors' }] }],
    roles: [{ rolename: 'sensors', acls: [{ acltype: 'publishClientSend', topic: 'sensors/#', allow: true }] }],
    groups: [],
  });
  assert.equal(ds.check({ username: 'dev', clientId: 'x' }, 'sensors/a', 'write').allowed, true);
  assert.equal(ds.check({ username: 'dev', clientId: 'x' }, 'other', 'write').allowed, false);
});

test('the main entry exports the topic rules', () => {
  assert.equal(api.checkPublishTopic('a/b'), undefined);
  assert.equal(api.checkPublishTopic('a/#')?.code, 'INVALID_TOPIC');
  assert.equal(api.checkSubscriptionFilter('$share/g/a/#'), undefined);
});
