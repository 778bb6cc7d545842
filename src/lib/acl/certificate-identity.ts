// The identity Mosquitto uses for a client: its user name and client id, or with mutual TLS and
// `use_identity_as_username true`, the Common Name of the client certificate instead of the user name.
import { X509Certificate } from 'node:crypto';
// Node 20: toLegacyObject() loads part of tls; when tls itself was not loaded yet, that half-loads it and
// tls.createSecureContext stays undefined for the whole process. Loading tls first avoids it.
import 'node:tls';
import type { Identity } from './types';

/**
 * The first Common Name in the certificate's subject, in certificate order (what Mosquitto takes). The legacy
 * object gives the decoded value: the printed subject escapes `,` `+` `"` and splits multi-valued RDNs, which a
 * text parser gets wrong. Throws when there is none.
 */
export function certificateCommonName(pem: string | Buffer): string {
  const cn: unknown = new X509Certificate(pem).toLegacyObject().subject.CN;
  const first: unknown = Array.isArray(cn) ? (cn as unknown[])[0] : cn;
  if (typeof first === 'string') return first;
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
