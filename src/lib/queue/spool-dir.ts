// Where a publish node keeps its spool: a folder named after the node under <userDir>/secure-telemetry-spool.
import { createHash } from 'node:crypto';
import path from 'node:path';

const PLAIN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Node-RED's own ids (`a1b2c3d4.e5f6a7`) name the folder as they are, so a spool written by an earlier version is
 * found again. Any other id (an imported flow keeps its ids, and one like `../../etc` would reach outside the user
 * directory) is named by its hash instead.
 */
export function spoolDirFor(userDir: string, nodeId: string): string {
  const root = path.join(userDir, 'secure-telemetry-spool');
  const name = PLAIN_ID.test(nodeId) ? nodeId : `id-${createHash('sha256').update(nodeId, 'utf8').digest('hex').slice(0, 32)}`;
  return path.join(root, name);
}
