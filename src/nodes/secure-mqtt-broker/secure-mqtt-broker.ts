// Config node: owns one MQTT connection for every node that uses it and fans its status out to them.
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { deriveSettings, type BrokerConfigFields } from '../../lib/mqtt/broker-config';
import { connectionIdentity } from '../../lib/acl/certificate-identity';
import { DynamicSecurityConfig } from '../../lib/acl/dynamic-security';
import { RuleSource } from '../../lib/acl/rule-source';
import type { AccessChecker } from '../../lib/acl/types';
import { MqttConnection, type StateChange } from '../../lib/mqtt/connection';
import { isTlsTransport, parseTransport, stableClientId } from '../../lib/mqtt/settings';
import { checkPublishTopic } from '../../lib/mqtt/topic-rules';
import { isNodeDeathTopic } from '../../lib/formats/sparkplug';
import { requestRebirth } from '../shared/sparkplug-rebirth';
import { connectionStatus, reasonText } from '../shared/connection-status';
import { messages } from '../shared/messages';
import enUS from './locales/en-US/secure-mqtt-broker.json';
import type { BrokerNode, BrokerUser } from '../shared/broker-node';
import type { NodeAPI, NodeDef, NodeStatus } from '../shared/node-red';

/** A rules file full of skipped entries must not flood the log. */
const MAX_RULE_WARNINGS = 10;

interface BrokerDef extends NodeDef, BrokerConfigFields {
  tls?: string;
  aclSource?: string;
  aclText?: string;
  aclPath?: string;
  aclIdentity?: string;
}

/** What the tls-config core node offers (node-red/packages/node_modules/@node-red/nodes/core/network/05-tls.js). */
interface TlsConfigNode {
  valid: boolean;
  verifyservercert: boolean;
  addTLSOptions(opts: TlsOptions): TlsOptions;
}

function isTlsConfigNode(n: object | null): n is TlsConfigNode {
  return !!n && typeof (n as Partial<TlsConfigNode>).addTLSOptions === 'function';
}

export = function register(RED: NodeAPI): void {
  const t = messages(RED, enUS);

  function SecureMqttBroker(this: BrokerNode, def: BrokerDef): void {
    RED.nodes.createNode(this, def);
    const users = new Set<BrokerUser>();
    const creds = this.credentials ?? {};
    const clientId = (def.clientId ?? '').trim() || stableClientId(this.id, os.hostname(), RED.settings.userDir ?? '');
    let tlsUnverified = false;
    let tlsProblem: string | undefined;
    let tlsOptions: TlsOptions | undefined;

    if (isTlsTransport(parseTransport(def.transport))) {
      const tlsNode = def.tls ? RED.nodes.getNode(def.tls) : null;
      if (def.tls && !isTlsConfigNode(tlsNode)) tlsProblem = 'TLS config node not found';
      else if (isTlsConfigNode(tlsNode) && !tlsNode.valid) tlsProblem = 'TLS config invalid (see its error)';
      else {
        // Without a TLS config the system CAs verify the server: TLS is never silently unverified.
        tlsOptions = isTlsConfigNode(tlsNode) ? tlsNode.addTLSOptions({}) : { rejectUnauthorized: true };
        tlsUnverified = tlsOptions.rejectUnauthorized === false;
      }
    }

    const { settings, problems } = deriveSettings(def, creds, clientId, tlsOptions);
    if (tlsProblem) problems.push(tlsProblem);
    // A kept session outlives the process: what it holds is remembered next to the spool, for the next start.
    if (!settings.clean) settings.sessionDir = path.join(RED.settings.userDir ?? process.cwd(), 'secure-telemetry-sessions');
    this.endpoint = `${settings.transport}://${settings.host}:${settings.port}`;
    const rules = loadRules(def, problems);
    try {
      this.identity = connectionIdentity({
        clientId,
        username: settings.username,
        certificate: tlsOptions?.cert as string | Buffer | undefined,
        useIdentityAsUsername: def.aclIdentity === 'certificate' && rules !== undefined,
      });
    } catch (err) {
      problems.push(`access rules identity: ${(err as Error).message}`);
      this.identity = { clientId };
    }
    this.accessChecker = () => (rules?.checker ? rules : undefined);
    // What the broker skips in its rules, the engine skips too; the user should still hear of it.
    const warnSkipped = (checker: AccessChecker | undefined): void => {
      for (const w of checker?.warnings.slice(0, MAX_RULE_WARNINGS) ?? []) this.warn(t('secure-mqtt-broker.log.rulesWarning', { message: w }));
      const more = (checker?.warnings.length ?? 0) - MAX_RULE_WARNINGS;
      if (more > 0) this.warn(t('secure-mqtt-broker.log.rulesMoreWarnings', { count: more }));
    };
    warnSkipped(rules?.checker);
    // Inline rules are stored in the flow file and in every export: password hashes do not belong there.
    const inline = rules?.checker;
    if (def.aclSource === 'dynsec-inline' && inline instanceof DynamicSecurityConfig && inline.holdsPasswordHashes) {
      this.warn(t('secure-mqtt-broker.log.rulesHoldPasswords'));
    }
    rules?.on('reloaded', (checker) => {
      this.log(t('secure-mqtt-broker.log.rulesReloaded', { count: checker.ruleCount }));
      warnSkipped(checker);
    });
    rules?.on('error', (err) => this.warn(t('secure-mqtt-broker.log.rulesNotReloaded', { message: err.message })));
    let status: NodeStatus = { fill: 'grey', shape: 'ring', text: t('secure-mqtt-broker.status.notConnected') };
    const fanOut = (s: NodeStatus): void => {
      status = s;
      for (const u of users) u.status(s);
    };

    // A connection lost while up (no DISCONNECT: the broker has published the NDEATH Will) and made again is a new
    // session: a Sparkplug edge node must be born again. A Will swap ends the old connection cleanly and goes through
    // 'connecting', and a failed attempt after it is no lost session either: counting it made every swap that met a
    // refused reconnect ask for another birth, hence another swap, for ever.
    let previous: StateChange['state'] = 'idle';
    let lost = false;
    const sparkplugSession = (change: StateChange): void => {
      if (change.state === 'disconnected' && previous === 'connected') lost = true;
      previous = change.state;
      if (change.state !== 'connected' || !lost) return;
      lost = false;
      const will = this.connection?.will;
      if (will && isNodeDeathTopic(will.topic)) {
        this.log(t('secure-mqtt-broker.log.sparkplugRebirth', { topic: will.topic }));
        requestRebirth(will.topic);
      }
    };

    if (problems.length > 0) {
      this.connection = undefined;
      this.error(`${this.endpoint}: ${problems.join('; ')}`);
      status = { fill: 'red', shape: 'ring', text: problems[0].slice(0, 40) };
    } else {
      const connection = new MqttConnection(settings);
      this.connection = connection;
      if (tlsUnverified) {
        this.warn(t('secure-mqtt-broker.log.tlsOff', { endpoint: this.endpoint }));
      }
      // MQTT 5 keeps a session only for its Session Expiry Interval, and none given means 0: users who cleared
      // "clean session" expect the MQTT 3.1.1 meaning.
      if (settings.protocolVersion === 5 && !settings.clean && !settings.sessionExpiry) {
        this.warn(t('secure-mqtt-broker.log.noSessionKept', { endpoint: this.endpoint }));
      }
      connection.on('state', (change: StateChange) => {
        fanOut(connectionStatus(change, tlsUnverified, t));
        sparkplugSession(change);
      });
      connection.on('failure', (reason) => this.warn(`${this.endpoint}: ${reasonText(reason, t)}`));
      connection.on('subscribeFailed', (_filter, err) => this.warn(`${this.endpoint}: ${err.message}`));
    }

    this.register = (user: BrokerUser): void => {
      users.add(user);
      user.status(status);
      if (users.size === 1) this.connection?.start();
    };
    this.deregister = (user: BrokerUser): void => {
      users.delete(user);
    };
    this.currentStatus = () => status;

    this.on('close', (_removed: boolean, done: () => void) => {
      rules?.close();
      const connection = this.connection;
      if (!connection) {
        done();
        return;
      }
      connection.close(2000).then(done, () => done());
    });
  }

  function loadRules(def: BrokerDef, problems: string[]): RuleSource | undefined {
    try {
      switch (def.aclSource) {
        case 'acl-inline':
          return new RuleSource({ type: 'acl-inline', text: def.aclText ?? '' });
        case 'dynsec-inline':
          return new RuleSource({ type: 'dynsec-inline', json: def.aclText ?? '' });
        case 'acl-file':
          return new RuleSource({ type: 'acl-file', path: (def.aclPath ?? '').trim() });
        case 'dynsec-file':
          return new RuleSource({ type: 'dynsec-file', path: (def.aclPath ?? '').trim() });
        default:
          return undefined;
      }
    } catch (err) {
      problems.push(`access rules: ${(err as Error).message}`);
      return undefined;
    }
  }

  // The editor asks whether a topic is allowed for a deployed connection's identity.
  RED.httpAdmin.get('/secure-telemetry/acl-check', RED.auth.needsPermission('secure-mqtt-broker.read'), (req, res) => {
    const id = typeof req.query.broker === 'string' ? req.query.broker : '';
    const topic = req.query.topic;
    const access = req.query.access === 'read' ? 'read' : 'write';
    const node = RED.nodes.getNode(id) as BrokerNode | null;
    if (!node || typeof node.accessChecker !== 'function') {
      res.status(404).json({ error: 'connection not deployed' });
      return;
    }
    // The topic first: an invalid one is worth saying with or without rules.
    const bad = checkPublishTopic(topic);
    if (bad) {
      res.status(400).json({ error: bad.message });
      return;
    }
    const checker = node.accessChecker();
    if (!checker) {
      res.json({ rules: false });
      return;
    }
    const decision = checker.check(node.identity, topic as string, access);
    res.json({ rules: true, allowed: decision.allowed, reason: decision.reason, identity: node.identity });
  });

  RED.nodes.registerType('secure-mqtt-broker', SecureMqttBroker as (this: never, def: never) => void, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
