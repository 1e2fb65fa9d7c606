// A tiny static file server on 127.0.0.1 for the browser smoke
// (test/runtimes/chromium_runner.mjs): serves files of the repository under a few
// allowed prefixes, with the MIME types browsers insist on (`application/wasm` for
// streaming compilation, a JavaScript type for module scripts), nothing cached.
// Listens on a port the OS picks, so parallel runs never collide.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, posix } from "node:path";

const MIME_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * Starts serving `root` on 127.0.0.1:<free port>.
 *
 * @param {{ root: string, allow: string[], isolated?: boolean }} options `allow`: URL
 *   path prefixes that may be served (e.g. "/dist/"); anything else, and any file type
 *   not in MIME_TYPES, is a 404. `isolated`: every response carries COOP/COEP/CORP
 *   headers, so pages are cross-origin isolated (SharedArrayBuffer, for the ingress).
 * @returns {Promise<{ url: string, requests: string[], close(): Promise<void> }>}
 *   `url` has no trailing slash; `requests` lists "STATUS /path" for every request.
 * @example
 * ```js
 * const server = await startStaticServer({ root, allow: ["/dist/", "/wasm/"] });
 * await fetch(`${server.url}/wasm/zigloop.wasm`);
 * await server.close();
 * ```
 */
export function startStaticServer({ root, allow, isolated = false }) {
  const requests = [];
  const isolation = isolated
    ? {
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        "cross-origin-resource-policy": "same-origin",
      }
    : {};
  const server = createServer(async (request, response) => {
    const respond = (status, headers = {}) => {
      requests.push(`${status} ${request.url}`);
      response.writeHead(status, { "cache-control": "no-store", ...isolation, ...headers });
    };
    let path;
    try {
      path = posix.normalize(decodeURIComponent(new URL(request.url, "http://host").pathname));
    } catch {
      respond(400);
      return response.end();
    }
    const type = MIME_TYPES[extname(path)];
    if (
      (request.method !== "GET" && request.method !== "HEAD") ||
      type === undefined ||
      path.includes("\0") ||
      !allow.some((prefix) => path.startsWith(prefix))
    ) {
      respond(404);
      return response.end();
    }
    const file = join(root, ...path.split("/"));
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error("not a file");
      respond(200, { "content-type": type, "content-length": info.size });
      if (request.method === "HEAD") return response.end();
      createReadStream(file).pipe(response);
    } catch {
      respond(404);
      response.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
