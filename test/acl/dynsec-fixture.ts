// Builds dynamic-security JSON that Mosquitto 2.0.11's plugin loads: clients need a PBKDF2-SHA512 password hash
// (64 bytes, base64), a 12-byte base64 salt and the iteration count, exactly what the plugin writes itself.
import crypto from 'node:crypto';

export function hashedPassword(password: string): { password: string; salt: string; iterations: number } {
  const salt = crypto.randomBytes(12);
  const iterations = 101;
  const hash = crypto.pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return { password: hash.toString('base64'), salt: salt.toString('base64'), iterations };
}
