// A real smart-HTTP git server for tests: `git http-backend` (CGI) behind a Node HTTP server on 127.0.0.1:0, with
// basic or bearer auth checked before the request reaches git.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface GitHttpServer {
  url: string;
  /** Creates an empty bare repository `name.git` and returns its clone URL. */
  createRepo(name: string): string;
  /** Authorization headers seen, for asserting what was sent. */
  seenAuth: string[];
  close(): Promise<void>;
}

export async function startGitHttpServer(
  root: string,
  auth: { bearer?: string; basic?: { user: string; password: string } },
): Promise<GitHttpServer> {
  mkdirSync(root, { recursive: true });
  const seenAuth: string[] = [];
  const authorized = (req: IncomingMessage) => {
    const h = req.headers.authorization ?? '';
    seenAuth.push(h);
    if (auth.bearer && h === `Bearer ${auth.bearer}`) return true;
    if (auth.basic && h === `Basic ${Buffer.from(`${auth.basic.user}:${auth.basic.password}`).toString('base64')}`)
      return true;
    return false;
  };
  const server: Server = createServer((req, res) => {
    if (!authorized(req)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
      res.end('Unauthorized');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
        REMOTE_USER: 'tester',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seenAuth,
    createRepo(name) {
      const dir = join(root, `${name}.git`);
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
      execFileSync('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
      return `${url}/${name}.git`;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
