// Forwards the kernel's API (runs, results, engines, samples, copilot) so the browser talks to one origin. Bodies are
// streamed both ways and nothing is buffered, so Server-Sent Events arrive as the kernel writes them.
import http from 'node:http';
import type { Request, Response } from 'express';
import { sendError } from './errors.ts';

export const KERNEL_PREFIXES = ['/api/runs', '/api/results', '/api/engines', '/api/samples', '/api/copilot'];

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function kernelProxy(kernelUrl: string) {
  const target = new URL(kernelUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (req: Request, res: Response): void => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    headers.host = target.host;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const upstream = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.originalUrl,
        headers,
        agent,
      },
      (up) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
        if (String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          out['cache-control'] = 'no-cache';
          out['x-accel-buffering'] = 'no';
        }
        res.writeHead(up.statusCode ?? 502, out);
        res.flushHeaders();
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) sendError(res, 'engine_unavailable', 'The kernel is not reachable');
      else res.destroy();
    });
    // The browser went away (closed an event stream): stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}
