// Public API of the ACL engine: Mosquitto acl_file and dynamic-security semantics, no Node-RED imports.
export { parseMosquittoAcl, MosquittoAclFile, describeAclRule } from './mosquitto-acl';
export type { AclFileRule, AclFileAccess } from './mosquitto-acl';
export { parseDynamicSecurity, DynamicSecurityConfig, subscribePatternCovers } from './dynamic-security';
export type { DynsecAcl, DynsecAclType, DefaultAclAccess } from './dynamic-security';
export { RuleSource } from './rule-source';
export type { RuleSourceConfig, RuleSourceOptions, RuleSourceEvents } from './rule-source';
export { certificateCommonName, connectionIdentity } from './certificate-identity';
export type { ConnectionIdentityInput } from './certificate-identity';
export { filterCovers, filtersIntersect } from './filter-relations';
export { AclSyntaxError } from './types';
export type { Access, AccessChecker, AccessResult, Identity, SubscribeResult } from './types';
