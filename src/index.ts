// The package's main entry: the pure, Node-RED-free parts that are useful on their own, for example to lint an
// ACL file in a deployment pipeline. Node-RED loads the nodes through package.json's "node-red" section instead.
export {
  parseMosquittoAcl,
  parseDynamicSecurity,
  AclSyntaxError,
  RuleSource,
  certificateCommonName,
  connectionIdentity,
} from './lib/acl';
export type { Access, AccessChecker, AccessResult, Identity, SubscribeResult, RuleSourceConfig } from './lib/acl';
export { checkPublishTopic, checkSubscriptionFilter, filterMatches, parseSharedFilter } from './lib/mqtt/topic-rules';
export type { TopicProblem, SharedFilter } from './lib/mqtt/topic-rules';
