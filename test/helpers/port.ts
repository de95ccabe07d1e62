import * as net from 'net';
import { waitFor } from './waitFor';

/** Whether something accepts a TCP connection on 127.0.0.1:port now. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Until the port refuses connections: a server's listener closes a loop turn after its lock goes. */
export async function portClosed(port: number, timeoutMs = 5_000): Promise<void> {
  await waitFor(async () => !(await portOpen(port)), `port ${port} closed`, timeoutMs);
}
