import * as http from 'http';

/** POST one hook event to an instance's /hook as claude's http hooks do; resolves with the status code. */
export function postHook(port: number, token: string, body: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify({ session_id: 'sess-1', transcript_path: '', cwd: '/', ...body });
    const req = http.request({ host: '127.0.0.1', port, path: '/hook', method: 'POST', headers: {
      'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(data),
    } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(data);
  });
}
