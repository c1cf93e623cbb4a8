/**
 * The machine's ceiling for the benchmark: a bare Node.js server that does only the work a
 * registry cannot avoid for each scenario, and nothing else (no validation, no auth, no
 * logging, no limits). Whatever perch spends beyond this, it spends on being a registry.
 *
 *   blob upload   take the bytes (POST+PUT, or POST+PATCH...+PUT), hash them while they
 *                 stream to a temp file, rename the file to its digest
 *   blob pull     stream the file
 *   manifest PUT  hash the body, write it to a temp file and rename it to its digest, then
 *                 write the tag's pointer file (digest and media type) the same way
 *   manifest GET  read the tag's pointer, then the manifest file
 *
 * Data layout under ROOT: blobs/<hex>, manifests/<hex>, tags/<repo with / as %2F>/<tag>,
 * uploads/<id>. No fsync, like perch with storage.commit false.
 * Usage: node ceiling-server.js --port PORT --root DIR   (listens on 127.0.0.1)
 * Prints one line `listening <port>` when ready.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

interface Upload {
  path: string;
  out: WriteStream;
  hash: Hash;
  size: number;
}

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? process.argv[i + 1] : undefined;
  if (!value) throw new Error(`ceiling-server: --${name} is required (usage: --port PORT --root DIR)`);
  return value;
}

const root = arg('root');
const port = Number(arg('port'));
for (const dir of ['blobs', 'manifests', 'tags', 'uploads']) mkdirSync(join(root, dir), { recursive: true });
const uploads = new Map<string, Upload>();
// Big file buffers: fewer read/write calls per MiB (perch uses 256 KiB; the ceiling takes the best).
const FILE_BUFFER = 1024 * 1024;

/** Streams the request body into an upload without ending the file (chunks may follow). */
function append(req: IncomingMessage, upload: Upload): Promise<void> {
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      upload.hash.update(chunk);
      upload.size += chunk.length;
      if (!upload.out.write(chunk)) {
        req.pause();
        upload.out.once('drain', () => req.resume());
      }
    });
    req.on('end', resolve);
    req.on('error', reject);
  });
}

async function finish(upload: Upload): Promise<string> {
  await new Promise<void>((resolve, reject) => upload.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const digest = `sha256:${upload.hash.digest('hex')}`;
  await rename(upload.path, join(root, 'blobs', digest.slice(7)));
  return digest;
}

function newUpload(): [string, Upload] {
  const id = randomUUID();
  const path = join(root, 'uploads', id);
  return [id, { path, out: createWriteStream(path, { highWaterMark: FILE_BUFFER }), hash: createHash('sha256'), size: 0 }];
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, data?: Buffer): void {
  res.writeHead(status, { 'Content-Length': data ? data.length : 0, ...headers });
  res.end(data);
}

async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(root, 'uploads', randomUUID());
  await writeFile(tmp, data);
  await rename(tmp, path);
}

const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/;
const UPLOADS = /^\/v2\/(.+)\/blobs\/uploads\/$/;
const UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/([0-9a-f-]+)$/;
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  let m: RegExpExecArray | null;
  if (path === '/v2/' || path === '/v2') return send(res, 200, { 'Content-Type': 'application/json' }, Buffer.from('{}'));

  if (req.method === 'POST' && (m = UPLOADS.exec(path))) {
    const [id, upload] = newUpload();
    if (url.searchParams.has('digest')) {
      await append(req, upload);
      const digest = await finish(upload);
      return send(res, 201, { Location: `/v2/${m[1]}/blobs/${digest}`, 'Docker-Content-Digest': digest });
    }
    req.resume();
    uploads.set(id, upload);
    return send(res, 202, { Location: `/v2/${m[1]}/blobs/uploads/${id}`, Range: '0-0', 'Docker-Upload-UUID': id });
  }
  if ((req.method === 'PATCH' || req.method === 'PUT') && (m = UPLOAD.exec(path))) {
    const upload = uploads.get(m[2]);
    if (!upload) return send(res, 404);
    await append(req, upload);
    if (req.method === 'PATCH') {
      return send(res, 202, { Location: `/v2/${m[1]}/blobs/uploads/${m[2]}`, Range: `0-${Math.max(0, upload.size - 1)}` });
    }
    uploads.delete(m[2]);
    const digest = await finish(upload);
    return send(res, 201, { Location: `/v2/${m[1]}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && (m = BLOB.exec(path))) {
    const file = join(root, 'blobs', m[2].slice(7));
    const info = await stat(file).catch(() => undefined);
    if (!info) return send(res, 404);
    res.writeHead(200, { 'Content-Length': info.size, 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': m[2] });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file, { highWaterMark: FILE_BUFFER }).pipe(res);
    return;
  }
  if (req.method === 'PUT' && (m = MANIFEST.exec(path))) {
    const data = await body(req);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const type = req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json';
    await writeAtomic(join(root, 'manifests', digest.slice(7)), data);
    if (!m[2].startsWith('sha256:')) {
      const dir = join(root, 'tags', encodeURIComponent(m[1]));
      mkdirSync(dir, { recursive: true });
      await writeAtomic(join(dir, m[2]), `${digest} ${type}`);
    }
    return send(res, 201, { Location: `/v2/${m[1]}/manifests/${digest}`, 'Docker-Content-Digest': digest });
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && (m = MANIFEST.exec(path))) {
    let digest = m[2];
    let type = 'application/vnd.oci.image.manifest.v1+json';
    if (!digest.startsWith('sha256:')) {
      const pointer = await readFile(join(root, 'tags', encodeURIComponent(m[1]), m[2]), 'utf8').catch(() => undefined);
      if (!pointer) return send(res, 404);
      [digest, type] = pointer.split(' ');
    }
    const data = await readFile(join(root, 'manifests', digest.slice(7))).catch(() => undefined);
    if (!data) return send(res, 404);
    const headers = { 'Content-Type': type, 'Docker-Content-Digest': digest, 'Content-Length': data.length };
    return send(res, 200, headers, req.method === 'HEAD' ? undefined : data);
  }
  req.resume();
  send(res, 404);
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  handle(req, res).catch((err: Error) => {
    if (!res.headersSent) send(res, 500, {}, Buffer.from(err.message));
    else res.destroy(err);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
