import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { open } from 'node:fs/promises';
import { recordExportDownload, verifyDownload, type DownloadRefusal } from '../../domain/exports/download-links.js';
import type { HttpDeps } from '../deps.js';
import { sendJsonError } from '../http-errors.js';

const REFUSALS: Record<DownloadRefusal | 'not_configured', { status: number; message: string }> = {
  bad_signature: { status: 403, message: 'This download link is not valid. Run the export again for a new link.' },
  expired: { status: 410, message: 'This download link has expired. Run the export again for a new link.' },
  deleted: { status: 410, message: 'This file is no longer available. Run the export again for a new link.' },
  not_found: { status: 404, message: 'There is no such download.' },
  not_configured: { status: 503, message: 'Downloads are not configured (APP_SECRET is not set).' },
};

/**
 * `Content-Disposition: attachment` with both forms RFC 6266 describes: `filename` for old
 * clients (ASCII only, without quotes, backslashes or `%`, which some decode), and `filename*`
 * (RFC 8187, UTF-8, percent-encoded) that every current browser prefers.
 */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%/]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * GET|HEAD /downloads/:id?expires=…&sig=…: an export too large for Discord, behind a signed link
 * that expires. A bad or missing signature is 403, an expired link or removed file 410, an
 * unknown id 404; bodies are short and never say more than that.
 */
export const downloadRoutes: FastifyPluginAsync<{ deps: HttpDeps }> = (app, { deps }) => {
  app.route<{ Params: { id: string }; Querystring: Record<string, unknown> }>({
    // Declared for HEAD too: Fastify's automatic HEAD would read the whole file to throw it away.
    method: ['GET', 'HEAD'],
    url: '/downloads/:id',
    handler: async (request, reply) => {
      // Whatever the outcome, nothing about a download link may be cached or sniffed.
      reply.header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      const appSecret = deps.config.appSecret;
      if (!appSecret) return refuse(reply, 'not_configured');
      const { expires, sig } = request.query;
      const check = await verifyDownload(deps.db, deps.clock, {
        id: request.params.id,
        // A repeated parameter arrives as an array and is refused like a missing one.
        expires: typeof expires === 'string' ? expires : undefined,
        sig: typeof sig === 'string' ? sig : undefined,
        appSecret,
      });
      if (!check.ok) return refuse(reply, check.reason);
      const { file } = check;

      // Opened before answering, so the cleanup job deleting it now cannot break a started download.
      const handle = await open(file.path, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (!handle) return refuse(reply, 'deleted');
      let size: number;
      try {
        size = (await handle.stat()).size;
      } catch (error) {
        await handle.close();
        throw error;
      }
      reply
        .status(200)
        .type(file.contentType)
        .header('content-disposition', attachmentDisposition(file.fileName))
        .header('content-length', String(size));
      if (request.method === 'HEAD') {
        await handle.close();
        return reply.send();
      }
      try {
        await recordExportDownload(deps.db, deps.clock, file);
      } catch (error) {
        await handle.close();
        throw error;
      }
      request.log.info({ download: file.id, bytes: size }, 'export downloaded');
      return reply.send(handle.createReadStream());
    },
  });
  return Promise.resolve();
};

function refuse(reply: FastifyReply, reason: DownloadRefusal | 'not_configured'): FastifyReply {
  const { status, message } = REFUSALS[reason];
  return sendJsonError(reply, status, message);
}
