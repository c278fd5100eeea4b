// One request passed on to an upstream HTTP server as it came (method, path, headers), its
// answer streamed back. The body is the caller's to pipe into the returned request (as
// it came, or altered on the way).
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

export function forward(req: IncomingMessage, res: ServerResponse, target: URL): ClientRequest {
  return httpRequest(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
}
