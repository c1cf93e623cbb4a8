/** A free TCP port on `address`: asked of the kernel, then released for a server to take (or, in a test of a refused connection, for nobody). */
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(address = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, address);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
