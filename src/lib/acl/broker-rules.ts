// Checks Mosquitto 2.0 makes before any ACL is consulted (src/security.c, acl__check_dollar), shared by both engines.
import { checkPublishTopic, filterMatches } from '../mqtt/topic-rules';
import type { Access, AccessResult } from './types';

/** A denial decided before the rules are read, or undefined when the rules decide. */
export function brokerPrecheck(topic: string, access: Access): AccessResult | undefined {
  const problem = checkPublishTopic(topic);
  if (problem) return { allowed: false, reason: `invalid topic: ${problem.message}` };
  if (topic.charCodeAt(0) !== 0x24) return undefined;
  // Mosquitto compares prefixes, not levels: "$SYSTEM/x" and "$shared/x" are caught too.
  if (topic.startsWith('$SYS')) {
    if (access === 'write' && !filterMatches('$SYS/broker/connection/+/state', topic)) {
      return { allowed: false, reason: 'broker denies publishing to $SYS' };
    }
    return undefined;
  }
  if (topic.startsWith('$share')) {
    return {
      allowed: false,
      reason: access === 'write' ? 'broker denies publishing to $share' : 'broker never delivers $share topics',
    };
  }
  return undefined;
}
