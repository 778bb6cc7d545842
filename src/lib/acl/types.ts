// Types shared by the ACL engines (Mosquitto acl_file and dynamic-security). No Node-RED imports.

/** Who is asking: the MQTT user name (undefined when the client sends none) and the client id. */
export interface Identity {
  /** MQTT user name. `undefined` = anonymous; an empty string is a (strange but real) user name. */
  username?: string;
  clientId: string;
}

/** 'write' = the client publishes to the topic; 'read' = the broker delivers a message on the topic to the client. */
export type Access = 'read' | 'write';

export interface AccessResult {
  allowed: boolean;
  /** Names the deciding rule (with its line for acl_file), or says why nothing decided. */
  reason: string;
}

/**
 * What a subscription can bring. `allowed` is the broker's answer to the SUBSCRIBE itself;
 * `delivery` is what the read rules let through for topics the filter matches:
 * 'all' (every matching topic is readable), 'none' (no matching topic is readable), 'some' (it depends on the topic).
 */
export interface SubscribeResult extends AccessResult {
  delivery: 'all' | 'some' | 'none';
  /** Explains `delivery` (the rule that grants or blocks reading, or why it depends). */
  deliveryReason: string;
}

export interface AccessChecker {
  /** Mosquitto's decision for one concrete topic (no wildcards). */
  check(identity: Identity, topic: string, access: Access): AccessResult;
  /** The SUBSCRIBE decision for a filter, plus what the read rules let through it. */
  checkSubscribe(identity: Identity, filter: string): SubscribeResult;
  /** 'acl_file' or 'dynamic-security'. */
  readonly kind: 'acl_file' | 'dynamic-security';
  /** Number of rules loaded (acl_file lines with topic/pattern, or dynsec ACL entries). */
  readonly ruleCount: number;
  /** Entries the broker accepts but ignores or that are probably mistakes (the engine decides as the broker does). */
  readonly warnings: readonly string[];
}

/** Thrown for a file Mosquitto would refuse to load; `line` is 1-based (acl_file) or undefined (JSON). */
export class AclSyntaxError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(message);
    this.name = 'AclSyntaxError';
    this.line = line;
  }
}
