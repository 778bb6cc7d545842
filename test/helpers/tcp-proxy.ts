// A TCP relay between a client and a broker, so a test can cut or freeze the network path without touching either.
import net from 'node:net';
import { freePort } from './ports';

export interface TcpProxy {
  port: number;
  /** Destroys every open connection (both sides see a reset, no MQTT DISCONNECT). */
  cutAll(): void;
  /** Stops forwarding bytes in both directions until resume(). */
  pause(): void;
  resume(): void;
  /** Drops the next `count` connections as they arrive, as a broker refusing them would. */
  refuseNext(count: number): void;
  connections(): number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let paused = false;
  let refuse = 0;
  const server = net.createServer((client) => {
    if (refuse > 0) {
      refuse--;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (paused) {
      client.pause();
      upstream.pause();
    }
    const destroyBoth = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A side that closed after its last bytes (a DISCONNECT, say): the other side is ended, not destroyed, so those
    // bytes still get through; destroyed a moment later in any case.
    const endBoth = (): void => {
      pairs.delete(pair);
      client.end();
      upstream.end();
      setTimeout(destroyBoth, 500).unref();
    };
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    client.on('close', endBoth);
    upstream.on('close', endBoth);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cutAll: () => {
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.resetAndDestroy();
      }
      pairs.clear();
    },
    pause: () => {
      paused = true;
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    resume: () => {
      paused = false;
      for (const [a, b] of pairs) {
        a.resume();
        b.resume();
      }
    },
    refuseNext: (count) => {
      refuse = count;
    },
    connections: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
