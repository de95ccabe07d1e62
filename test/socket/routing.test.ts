import * as path from 'path';
import { Fixture, waitFor, type TestClient } from './wsClient';

let fx: Fixture;
beforeEach(() => { fx = new Fixture(); });
afterEach(async () => { await fx.cleanup(); });

const diffArgs = (file: string, tab: string) => ({
  name: 'openDiff',
  arguments: { old_file_path: file, new_file_path: file, new_file_contents: 'new\n', tab_name: tab },
});

/** A frame sent after `marker` proves everything sent before it has arrived (ws keeps order). */
async function drain(c: TestClient): Promise<void> {
  await c.request('ping');
}

describe('two servers side by side', () => {
  test('notify() on A reaches only A\'s client', async () => {
    const A = await fx.server();
    const B = await fx.server();
    const a = await fx.client(A.server.port, A.server.authToken).open();
    const b = await fx.client(B.server.port, B.server.authToken).open();
    await a.handshake(1001);
    await b.handshake(1002);
    await waitFor(() => A.server.connected && B.server.connected);

    const params = { text: '', filePath: '/x', fileUrl: 'file:///x', selection: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 }, isEmpty: true } };
    expect(A.server.notify('selection_changed', params)).toBe(1);
    await waitFor(() => a.notifications('selection_changed').length === 1);
    expect(a.notifications('selection_changed')[0].params).toEqual(params);
    await drain(b);
    expect(b.notifications('selection_changed')).toEqual([]);
  });

  test('a token of A does not open B', async () => {
    const A = await fx.server();
    const B = await fx.server();
    const c = fx.client(B.server.port, A.server.authToken);
    expect(await waitFor(() => c.unexpectedStatus)).toBe(401);
  });

  test('openDiff on A appears only in A\'s editor; closeAllDiffTabs on B leaves it alone', async () => {
    const A = await fx.server();
    const B = await fx.server();
    const a = await fx.client(A.server.port, A.server.authToken).open();
    const b = await fx.client(B.server.port, B.server.authToken).open();
    await a.handshake();
    await b.handshake();
    const file = path.join(A.root, 'f.txt');
    const id = a.send('tools/call', diffArgs(file, 'tab-A'));
    await waitFor(() => A.editor.diffs.length === 1, 3000, 'diff in A');
    expect(B.editor.diffs).toEqual([]);
    const closeAll = await b.request('tools/call', { name: 'closeAllDiffTabs', arguments: {} });
    expect(closeAll.result.content[0].text).toBe('CLOSED_0_DIFF_TABS');
    expect(A.editor.diffs[0].closed).toBe(false);
    A.editor.diffs[0].accept('edited\n');
    const r = await a.reply(id);
    expect(r.result.content.map((c: { text: string }) => c.text)).toEqual(['FILE_SAVED', 'edited\n']);
  });

  test('notify() only reaches initialized clients of the server', async () => {
    const A = await fx.server();
    const done = await fx.client(A.server.port, A.server.authToken).open();
    const fresh = await fx.client(A.server.port, A.server.authToken).open();
    await done.handshake();
    await waitFor(() => A.server.connected);
    expect(A.server.notify('x/y', {})).toBe(1);
    await waitFor(() => done.notifications('x/y').length === 1);
    await drain(fresh);
    expect(fresh.notifications('x/y')).toEqual([]);
  });
});

describe('atMention', () => {
  test('queued before any client, delivered exactly once after the handshake, not to a later client', async () => {
    const { server, root } = await fx.server();
    server.atMention({ filePath: path.join(root, 'src', 'a.ts'), lineStart: 4, lineEnd: 9 });
    server.atMention({ filePath: path.join(root, 'src') + '/' });
    expect(server.queuedMentions).toBe(2);

    const c1 = await fx.client(server.port, server.authToken).open();
    await drain(c1);
    // Not before the handshake.
    expect(c1.notifications('at_mentioned')).toEqual([]);
    expect(server.queuedMentions).toBe(2);
    await c1.handshake();
    await waitFor(() => c1.notifications('at_mentioned').length === 2, 3000, 'mentions');
    expect(server.queuedMentions).toBe(0);
    expect(c1.notifications('at_mentioned').map((m) => m.params)).toEqual([
      { filePath: 'src/a.ts', lineStart: 4, lineEnd: 9 },
      { filePath: 'src/' },
    ]);

    const c2 = await fx.client(server.port, server.authToken).open();
    await c2.handshake();
    await drain(c2);
    await drain(c1);
    expect(c2.notifications('at_mentioned')).toEqual([]);
    expect(c1.notifications('at_mentioned')).toHaveLength(2);
  });

  test('while connected: sent at once; relative, directory and outside-root paths', async () => {
    const { server, root } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    await c.handshake();
    await waitFor(() => server.connected);
    const outside = path.join(path.dirname(root), 'elsewhere', 'z.ts');
    const siblingPrefix = `${root}-sibling/q.ts`; // shares the root as a string prefix, but is outside
    server.atMention({ filePath: path.join(root, 'deep', 'dir', 'f.ts'), lineStart: 0, lineEnd: 0 });
    server.atMention({ filePath: path.join(root, 'deep', 'dir') + '/' });
    server.atMention({ filePath: root + '/' });
    server.atMention({ filePath: outside });
    server.atMention({ filePath: path.dirname(outside) + '/' });
    server.atMention({ filePath: siblingPrefix });
    server.atMention({ filePath: 'rel/file.ts', lineStart: 2 });
    expect(server.queuedMentions).toBe(0);
    await waitFor(() => c.notifications('at_mentioned').length === 7, 3000, 'mentions');
    expect(c.notifications('at_mentioned').map((m) => m.params)).toEqual([
      { filePath: 'deep/dir/f.ts', lineStart: 0, lineEnd: 0 },
      { filePath: 'deep/dir/' },
      { filePath: './' },
      { filePath: outside },
      { filePath: path.dirname(outside) + '/' },
      { filePath: siblingPrefix },
      { filePath: 'rel/file.ts', lineStart: 2 },
    ]);
  });

  test('mentions queued on A are not delivered to B', async () => {
    const A = await fx.server();
    const B = await fx.server();
    A.server.atMention({ filePath: path.join(A.root, 'a.ts') });
    const b = await fx.client(B.server.port, B.server.authToken).open();
    await b.handshake();
    await drain(b);
    expect(b.notifications('at_mentioned')).toEqual([]);
    expect(A.server.queuedMentions).toBe(1);
  });
});

describe('disconnect with a pending openDiff', () => {
  test('the FakeDiff is closed (rejected); other clients\' diffs survive', async () => {
    const { server, editor, root } = await fx.server();
    const closed: unknown[] = [];
    server.on('client-closed', (i) => closed.push(i));
    const a = await fx.client(server.port, server.authToken).open();
    const b = await fx.client(server.port, server.authToken).open();
    await a.handshake(1);
    await b.handshake(2);
    a.send('tools/call', diffArgs(path.join(root, 'a.txt'), 'tab-a'));
    const bid = b.send('tools/call', diffArgs(path.join(root, 'b.txt'), 'tab-b'));
    await waitFor(() => editor.diffs.length === 2, 3000, 'two diffs');
    const da = editor.diffs.find((d) => d.req.tabName === 'tab-a')!;
    const db = editor.diffs.find((d) => d.req.tabName === 'tab-b')!;
    a.terminate();
    await waitFor(() => da.closed, 3000, 'diff a closed');
    expect(da.settled).toEqual({ kind: 'rejected', reason: 'closed' });
    await waitFor(() => closed.length === 1);
    expect(db.closed).toBe(false);
    expect(server.diffs.size).toBe(1);
    db.reject();
    const r = await b.reply(bid);
    expect(r.result.content.map((c: { text: string }) => c.text)).toEqual(['DIFF_REJECTED', 'tab-b']);
  });

  test('close_tab over the wire answers the pending openDiff with DIFF_REJECTED', async () => {
    const { server, editor, root } = await fx.server();
    const c = await fx.client(server.port, server.authToken).open();
    await c.handshake();
    const id = c.send('tools/call', diffArgs(path.join(root, 'a.txt'), 'tab-x'));
    await waitFor(() => editor.diffs.length === 1);
    const close = await c.request('tools/call', { name: 'close_tab', arguments: { tab_name: 'tab-x' } });
    expect(close.result.content[0].text).toBe('TAB_CLOSED');
    const r = await c.reply(id);
    expect(r.result.content.map((x: { text: string }) => x.text)).toEqual(['DIFF_REJECTED', 'tab-x']);
  });
});
