// The identity Mosquitto uses for a client: its user name and client id, or with mutual TLS and
// `use_identity_as_username true`, the Common Name of the client certificate instead of the user name.
import { X509Certificate } from 'node:crypto';
import type { Identity } from './types';

/** Unquotes a value Node prints in a certificate subject (quoted JSON-style when it holds special characters). */
function unquote(value: string): string {
  if (value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not JSON-quoted: keep the text as printed
    }
  }
  return value;
}

/** The first Common Name in the certificate's subject (what Mosquitto takes). Throws when there is none. */
export function certificateCommonName(pem: string | Buffer): string {
  const cert = new X509Certificate(pem);
  for (const line of cert.subject.split('\n')) {
    // Multi-valued RDNs are joined with '+' on one line.
    for (const part of line.split('+')) {
      if (part.startsWith('CN=')) return unquote(part.slice(3));
    }
  }
  throw new Error('the client certificate has no Common Name (CN): Mosquitto refuses it with use_identity_as_username');
}

export interface ConnectionIdentityInput {
  clientId: string;
  /** The configured MQTT user name; empty or undefined means none. */
  username?: string;
  /** PEM client certificate, when the connection uses mutual TLS. */
  certificate?: string | Buffer;
  /** The broker listener has `use_identity_as_username true`: the certificate's CN replaces the user name. */
  useIdentityAsUsername?: boolean;
}

/** The identity the broker's ACL sees for a connection. */
export function connectionIdentity(input: ConnectionIdentityInput): Identity {
  if (input.useIdentityAsUsername) {
    if (!input.certificate) throw new Error('use_identity_as_username needs a client certificate');
    return { username: certificateCommonName(input.certificate), clientId: input.clientId };
  }
  const username = input.username === undefined || input.username === '' ? undefined : input.username;
  return { username, clientId: input.clientId };
}
