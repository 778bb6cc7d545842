// Turns the many ways a connection fails into a stable code and a short sentence a user can act on.
// Never include option values here: a reason is shown in status text and logs, where secrets must not appear.

export interface FailureReason {
  /** Stable identifier, used to log each distinct cause once. */
  code: string;
  /** Plain words, short enough for a node status. */
  text: string;
  /** The same sentence for message catalogues; absent when the text is the error's own words. */
  words?: ReasonWords;
}

/**
 * Catalogue keys, relative to "failure.": `key` is the sentence ("code.<CODE>", "refused", "disconnected");
 * `reason` names an entry of "reasons." for its __reason__, and `hint` one of "hints." appended to that reason.
 */
export interface ReasonWords {
  key: string;
  reason?: string;
  hint?: 'credentials' | 'anonymous';
}

/** "bad user name or password" → "badUserNameOrPassword": a catalogue key for a reason's words. */
export function reasonKey(words: string): string {
  return words
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1)))
    .join('');
}

const CONNACK_V3: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export const REASON_CODES_V5: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client id not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x92: 'packet identifier not found',
  0x93: 'receive maximum exceeded',
  0x94: 'topic alias invalid',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9a: 'retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9e: 'shared subscriptions not supported',
  0x9f: 'connection rate exceeded',
  0xa0: 'maximum connect time',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

/**
 * `withCredentials` tells whether a user name was sent: Mosquitto 2 answers a wrong password with
 * "not authorized" (3.1.1 code 5, v5 0x87) rather than "bad user name or password", so say what it most likely means.
 */
export function connackReason(code: number, protocolVersion: 4 | 5, withCredentials?: boolean): FailureReason {
  const words = protocolVersion === 5 ? REASON_CODES_V5[code] : CONNACK_V3[code];
  const notAuthorized = protocolVersion === 5 ? code === 0x87 : code === 5;
  const hint = notAuthorized && withCredentials !== undefined ? (withCredentials ? 'credentials' : 'anonymous') : undefined;
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  const reason: FailureReason = {
    code: `CONNACK_${protocolVersion === 5 ? hex : code}`,
    text: `refused: ${words === undefined ? `reason ${protocolVersion === 5 ? hex : code}` : `${words}${hint ? ` ${HINTS[hint]}` : ''}`}`,
  };
  if (words !== undefined) reason.words = { key: 'refused', reason: reasonKey(words), ...(hint ? { hint } : {}) };
  return reason;
}

const HINTS = { credentials: '(bad user name or password?)', anonymous: '(anonymous access refused?)' } as const;

/** A DISCONNECT the broker sent with a failure reason code (v5). */
export function disconnectReason(rc: number): FailureReason {
  const words = REASON_CODES_V5[rc];
  const reason: FailureReason = { code: `DISCONNECT_0x${rc.toString(16)}`, text: `broker disconnected: ${words ?? rc}` };
  if (words !== undefined) reason.words = { key: 'disconnected', reason: reasonKey(words) };
  return reason;
}

/** Every catalogue key under "failure." a reason can name, for the catalogue tests. */
export function failureWordKeys(): string[] {
  const codes = Object.keys(KNOWN).map((c) => `code.${c}`);
  const reasons = [...Object.values(CONNACK_V3), ...Object.values(REASON_CODES_V5)].map((w) => `reasons.${reasonKey(w)}`);
  return [...new Set([...codes, 'refused', 'disconnected', ...reasons, ...Object.keys(HINTS).map((h) => `hints.${h}`)])];
}

const TLS_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: server certificate not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'TLS: unknown CA (issuer not trusted)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: unknown CA (issuer not trusted)',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: unknown CA (self-signed CA in chain not trusted)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed server certificate',
  CERT_HAS_EXPIRED: 'TLS: server certificate expired',
  CERT_NOT_YET_VALID: 'TLS: server certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: host name does not match certificate',
  CERT_REVOKED: 'TLS: server certificate revoked',
  CERT_SIGNATURE_FAILURE: 'TLS: certificate signature invalid',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS: server does not speak TLS on this port',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'TLS: protocol version not accepted',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'TLS: protocol version not accepted',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'TLS: handshake failure',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'TLS: broker requires a client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'TLS: broker rejected the client certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'TLS: broker does not trust the client certificate',
  ERR_SSL_BAD_DECRYPT: 'TLS: wrong passphrase for the private key',
  ERR_OSSL_BAD_DECRYPT: 'TLS: wrong passphrase for the private key',
};

const NET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listening)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by broker',
  EPIPE: 'connection closed by broker',
};

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
}

/** Decodes an error emitted by MQTT.js, net or tls. */
export function describeError(err: unknown, protocolVersion: 4 | 5, withCredentials?: boolean): FailureReason {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.code === 'number' && message.startsWith('Connection refused')) {
    return connackReason(e.code, protocolVersion, withCredentials);
  }
  if (typeof e.code === 'string') {
    if (Object.hasOwn(KNOWN, e.code)) return known(e.code);
    if (e.code.startsWith('ERR_SSL_') || e.code.startsWith('ERR_TLS_') || e.code.startsWith('ERR_OSSL_')) {
      return { code: e.code, text: `TLS: ${tlsAlertWords(e.code)}` };
    }
  }
  if (/connack timeout|keepalive timeout/i.test(message)) {
    return known('TIMEOUT');
  }
  const openssl = opensslReason(message);
  if (openssl) return openssl;
  return { code: typeof e.code === 'string' ? e.code : 'ERROR', text: firstLine(message) };
}

// An alert that arrives while writing comes as EPROTO with OpenSSL's text, not as an ERR_SSL_ code.
const OPENSSL_TEXTS: Array<[RegExp, keyof typeof TLS_CODES]> = [
  [/alert protocol version|unsupported protocol|no protocols available/i, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'],
  [/wrong version number/i, 'ERR_SSL_WRONG_VERSION_NUMBER'],
  [/handshake failure/i, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
  [/certificate required/i, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
  [/alert bad certificate/i, 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'],
  [/alert unknown ca/i, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
  [/bad decrypt/i, 'ERR_SSL_BAD_DECRYPT'],
];

function opensslReason(message: string): FailureReason | undefined {
  for (const [re, code] of OPENSSL_TEXTS) if (re.test(message)) return known(code);
  // "...:SSL routines:<function>:<reason>:<source file>..." → the reason alone.
  const m = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return m ? { code: 'EPROTO', text: `TLS: ${m[1].trim().slice(0, 80)}` } : undefined;
}

/** Every cause with fixed words: its catalogue key is "code.<code>". */
const KNOWN: Record<string, string> = {
  ...TLS_CODES,
  ...NET_CODES,
  TIMEOUT: 'broker did not answer in time',
  CLOSED_BY_BROKER: 'connection closed by broker',
};

function known(code: string): FailureReason {
  return { code, text: KNOWN[code], words: { key: `code.${code}` } };
}

export const CLOSED_BY_BROKER: FailureReason = Object.freeze(known('CLOSED_BY_BROKER'));

function tlsAlertWords(code: string): string {
  return code
    .replace(/^ERR_(SSL|TLS|OSSL)_((SSLV3|TLSV1|TLSV13)_ALERT_)?/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}
