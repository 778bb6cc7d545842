// The benchmark's flows: for each link, QoS and burst size, an inject triggers a function node that sends the burst
// to Node-RED's core `mqtt out` or to this pack's publish node, as a flow would.
export type Link = 'tcp' | 'tls';
export type Kind = 'core' | 'secure';

export const LINKS: Link[] = ['tcp', 'tls'];
export const QOS: Array<0 | 1> = [0, 1];
export const BURSTS = [5000, 50000];

/** The out node's id ends in the burst size: complete-probe reads it from there. */
export function caseId(kind: Kind, link: Link, qos: number, burst: number): string {
  return `${kind}-${link}-${qos}-${burst}`;
}

export function benchFlows(port: number, tlsPort: number, caFile: string): object[] {
  const flows: object[] = [
    { id: 'tab', type: 'tab', label: 'bench' },
    // Both nodes verify the broker's certificate against the same CA, as users run them.
    { id: 'tls', type: 'tls-config', cert: '', key: '', ca: caFile, servername: '', verifyservercert: true, alpnprotocol: '' },
    { id: 'core-tcp', type: 'mqtt-broker', broker: '127.0.0.1', port: String(port), clientid: 'bench-core-tcp', protocolVersion: '4', keepalive: '60', cleansession: true, autoConnect: true },
    { id: 'core-tls', type: 'mqtt-broker', broker: 'localhost', port: String(tlsPort), usetls: true, tls: 'tls', clientid: 'bench-core-tls', protocolVersion: '4', keepalive: '60', cleansession: true, autoConnect: true },
    { id: 'secure-tcp', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(port), clientId: 'bench-secure-tcp', protocolVersion: '4' },
    { id: 'secure-tls', type: 'secure-mqtt-broker', host: 'localhost', port: String(tlsPort), transport: 'mqtts', tls: 'tls', clientId: 'bench-secure-tls', protocolVersion: '4' },
  ];
  for (const link of LINKS) {
    for (const qos of QOS) {
      for (const burst of BURSTS) {
        for (const kind of ['core', 'secure'] as Kind[]) {
          const id = caseId(kind, link, qos, burst);
          const out =
            kind === 'core'
              ? { type: 'mqtt out', broker: `core-${link}`, topic: `bench/${id}`, qos: String(qos), retain: 'false', wires: [] }
              : { type: 'secure-mqtt-out', broker: `secure-${link}`, topic: `bench/${id}`, qos: String(qos), retain: 'false', wires: [[], []] };
          flows.push(
            { id: `trigger-${id}`, type: 'inject', z: 'tab', props: [], repeat: '', once: false, wires: [[`gen-${id}`]] },
            {
              id: `gen-${id}`,
              type: 'function',
              z: 'tab',
              func: `for (let i = 0; i < ${burst}; i++) node.send({ payload: { temperature: 21.5, humidity: 40.1 } }, false);\nreturn null;`,
              outputs: 1,
              wires: [[`out-${id}`]],
            },
            { id: `out-${id}`, z: 'tab', ...out },
          );
        }
      }
    }
  }
  return flows;
}
