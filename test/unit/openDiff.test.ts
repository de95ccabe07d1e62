import * as path from 'path';
import { DiffRegistry } from '../../src/ide/diffRegistry';
import { FakeDiff, FakeEditor } from '../helpers/fakeEditor';
import { flushMany, makeHarness, texts, WORKSPACE } from './sessionHarness';

const FILE = path.join(WORKSPACE, 'hello.txt');
const TAB = '✻ [Claude Code] hello.txt (1734f1) ⧉';
const args = (tab = TAB, contents = 'hello\nworld\n') => ({
  old_file_path: FILE, new_file_path: FILE, new_file_contents: contents, tab_name: tab,
});

async function openPending(h: ReturnType<typeof makeHarness>, tab = TAB, contents?: string) {
  const id = h.send('tools/call', { name: 'openDiff', arguments: args(tab, contents) });
  await flushMany(3);
  const diff = h.editor.diffs[h.editor.diffs.length - 1];
  expect(diff.req.tabName).toBe(tab);
  return { id, diff };
}

describe('openDiff blocks until decided', () => {
  test('the request reaches the editor with the right fields', async () => {
    const h = makeHarness();
    const { diff } = await openPending(h, TAB, 'abc');
    expect(diff.req).toEqual({ tabName: TAB, oldFilePath: FILE, newFilePath: FILE, newContents: 'abc' });
    diff.reject();
  });

  test('no reply while pending; accept -> FILE_SAVED + contents', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    await flushMany(10);
    expect(h.replyTo(id)).toBeUndefined();
    expect(h.sent).toEqual([]);
    // Other requests are served meanwhile.
    expect((await h.request('ping')).result).toEqual({});
    expect(h.replyTo(id)).toBeUndefined();
    diff.accept();
    expect(texts(await h.waitReply(id))).toEqual(['FILE_SAVED', 'hello\nworld\n']);
    expect(h.diffs.size).toBe(0);
  });

  test('accept with user edits -> FILE_SAVED + the edited contents', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    diff.accept('hello\nedited by user\n');
    expect((await h.waitReply(id)).result).toEqual({
      content: [{ type: 'text', text: 'FILE_SAVED' }, { type: 'text', text: 'hello\nedited by user\n' }],
    });
  });

  test('accept empty contents -> FILE_SAVED + ""', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    diff.accept('');
    expect(texts(await h.waitReply(id))).toEqual(['FILE_SAVED', '']);
  });

  test('reject -> DIFF_REJECTED + tab_name', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    diff.reject();
    expect((await h.waitReply(id)).result).toEqual({
      content: [{ type: 'text', text: 'DIFF_REJECTED' }, { type: 'text', text: TAB }],
    });
    expect(h.diffs.size).toBe(0);
  });

  test('autoDiff accept answers at once', async () => {
    const h = makeHarness();
    h.editor.autoDiff = 'accept';
    expect(texts(await h.call('openDiff', args()))).toEqual(['FILE_SAVED', 'hello\nworld\n']);
    expect(h.diffs.size).toBe(0);
  });

  test('close_tab on a pending diff rejects it; close_tab answers TAB_CLOSED', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    const closeReply = await h.call('close_tab', { tab_name: TAB });
    expect(texts(closeReply)).toEqual(['TAB_CLOSED']);
    expect(diff.closed).toBe(true);
    expect(texts(await h.waitReply(id))).toEqual(['DIFF_REJECTED', TAB]);
    // The CLI often calls close_tab twice.
    expect(texts(await h.call('close_tab', { tab_name: TAB }))).toEqual(['TAB_CLOSED']);
    expect(h.sent.filter((f) => f.id === id)).toHaveLength(1);
  });

  test('close_tab after an accepted diff does not change the (already sent) answer', async () => {
    const h = makeHarness();
    const { id, diff } = await openPending(h);
    diff.accept();
    await h.waitReply(id);
    await h.call('close_tab', { tab_name: TAB });
    expect(h.sent.filter((f) => f.id === id)).toHaveLength(1);
    expect(texts(h.replyTo(id)!)[0]).toBe('FILE_SAVED');
  });

  test('notifications/cancelled for the request closes its diff', async () => {
    const h = makeHarness();
    const a = await openPending(h, 'tab A');
    const b = await openPending(h, 'tab B');
    h.notify('notifications/cancelled', { requestId: a.id, reason: 'user interrupted' });
    expect(a.diff.closed).toBe(true);
    expect(b.diff.closed).toBe(false);
    expect(texts(await h.waitReply(a.id))).toEqual(['DIFF_REJECTED', 'tab A']);
    expect(h.replyTo(b.id)).toBeUndefined();
    // A cancel for an unknown request or with a bad id touches nothing.
    h.notify('notifications/cancelled', { requestId: 'nope' });
    h.notify('notifications/cancelled', { requestId: { x: 1 } });
    h.notify('notifications/cancelled', {});
    h.notify('notifications/cancelled');
    expect(b.diff.closed).toBe(false);
    b.diff.reject();
    await h.waitReply(b.id);
  });

  test('notifications/cancelled with a string request id', async () => {
    const h = makeHarness();
    const id = h.send('tools/call', { name: 'openDiff', arguments: args() }, 'req-xyz');
    await flushMany(3);
    h.notify('notifications/cancelled', { requestId: 'req-xyz' });
    expect(texts(await h.waitReply(id))).toEqual(['DIFF_REJECTED', TAB]);
  });

  test('notifications/cancelled from another client does not close this client\'s diff', async () => {
    const diffs = new DiffRegistry();
    const editor = new FakeEditor();
    const c1 = makeHarness({ clientId: 1, diffs, editor });
    const c2 = makeHarness({ clientId: 2, diffs, editor });
    const id = c1.send('tools/call', { name: 'openDiff', arguments: args() }, 77);
    await flushMany(3);
    c2.notify('notifications/cancelled', { requestId: 77 });
    expect(editor.diffs[0].closed).toBe(false);
    c1.notify('notifications/cancelled', { requestId: 77 });
    expect(texts(await c1.waitReply(id))).toEqual(['DIFF_REJECTED', TAB]);
  });

  test('a second openDiff with the same tab_name rejects the first', async () => {
    const h = makeHarness();
    const first = await openPending(h, TAB, 'v1');
    const second = await openPending(h, TAB, 'v2');
    expect(first.diff).not.toBe(second.diff);
    expect(first.diff.closed).toBe(true);
    expect(texts(await h.waitReply(first.id))).toEqual(['DIFF_REJECTED', TAB]);
    expect(second.diff.closed).toBe(false);
    expect(h.replyTo(second.id)).toBeUndefined();
    // The registry still holds the second one (the first's cleanup must not drop it).
    expect(h.diffs.has(TAB)).toBe(true);
    expect(texts(await h.call('closeAllDiffTabs', {}))).toEqual(['CLOSED_1_DIFF_TABS']);
    expect(texts(await h.waitReply(second.id))).toEqual(['DIFF_REJECTED', TAB]);
  });

  test('an editor that throws in openDiff -> -32603, nothing registered', async () => {
    const h = makeHarness();
    h.editor.openDiff = () => { throw new Error('no window'); };
    const f = await h.call('openDiff', args());
    expect(f.error).toEqual({ code: -32603, message: 'no window' });
    expect(h.diffs.size).toBe(0);
  });

  test('closeForClient rejects pending diffs of that client only', async () => {
    const diffs = new DiffRegistry();
    const editor = new FakeEditor();
    const c1 = makeHarness({ clientId: 1, diffs, editor });
    const c2 = makeHarness({ clientId: 2, diffs, editor });
    const a = c1.send('tools/call', { name: 'openDiff', arguments: args('c1 a') });
    const b = c1.send('tools/call', { name: 'openDiff', arguments: args('c1 b') });
    const c = c2.send('tools/call', { name: 'openDiff', arguments: args('c2 c') });
    await flushMany(3);
    expect(diffs.size).toBe(3);
    expect(diffs.closeForClient(1)).toBe(2);
    expect(texts(await c1.waitReply(a))).toEqual(['DIFF_REJECTED', 'c1 a']);
    expect(texts(await c1.waitReply(b))).toEqual(['DIFF_REJECTED', 'c1 b']);
    const byTab = (t: string) => editor.diffs.find((d) => d.req.tabName === t)!;
    expect(byTab('c2 c').closed).toBe(false);
    expect(c2.replyTo(c)).toBeUndefined();
    expect(diffs.size).toBe(1);
    expect(diffs.closeForClient(1)).toBe(0);
    byTab('c2 c').accept();
    expect(texts(await c2.waitReply(c))[0]).toBe('FILE_SAVED');
  });
});

describe('DiffRegistry', () => {
  const req = (t: string) => ({ tabName: t, oldFilePath: '/a', newFilePath: '/a', newContents: '' });

  test('add / has / close / size', () => {
    const r = new DiffRegistry();
    const d = new FakeDiff(req('x'));
    r.add('x', d, 1, 5);
    expect(r.has('x')).toBe(true);
    expect(r.size).toBe(1);
    expect(r.close('x')).toBe(true);
    expect(d.closed).toBe(true);
    expect(r.close('x')).toBe(false);
    expect(r.size).toBe(0);
  });

  test('forget only drops the entry when the handle matches, without closing', () => {
    const r = new DiffRegistry();
    const d1 = new FakeDiff(req('x'));
    const d2 = new FakeDiff(req('x'));
    r.add('x', d1, 1);
    r.add('x', d2, 1); // replaces, closing d1
    expect(d1.closed).toBe(true);
    r.forget('x', d1);
    expect(r.has('x')).toBe(true);
    r.forget('x', d2);
    expect(r.has('x')).toBe(false);
    expect(d2.closed).toBe(false);
  });

  test('closeForRequest matches client and request id', () => {
    const r = new DiffRegistry();
    const d1 = new FakeDiff(req('a'));
    const d2 = new FakeDiff(req('b'));
    r.add('a', d1, 1, 10);
    r.add('b', d2, 2, 10);
    expect(r.closeForRequest(1, '10')).toBe(false);
    expect(r.closeForRequest(3, 10)).toBe(false);
    expect(r.closeForRequest(2, 10)).toBe(true);
    expect(d2.closed).toBe(true);
    expect(d1.closed).toBe(false);
  });

  test('closeAll returns the count and empties the registry', () => {
    const r = new DiffRegistry();
    const ds = ['a', 'b', 'c'].map((t) => new FakeDiff(req(t)));
    ds.forEach((d, i) => r.add(d.req.tabName, d, i));
    expect(r.closeAll()).toBe(3);
    expect(ds.every((d) => d.closed)).toBe(true);
    expect(r.closeAll()).toBe(0);
  });
});
