import { SUPPORTED_PROTOCOL_VERSIONS, SERVER_INFO } from '../../src/ide/mcpSession';
import { classify, errorFrame, notificationFrame, resultFrame } from '../../src/ide/jsonrpc';
import { ALL_TOOLS } from '../../src/ide/tools';
import { flushMany, makeHarness, type Frame } from './sessionHarness';
import { prng } from '../helpers/prng';

describe('JSON-RPC framing', () => {
  test('parse error -> -32700 with id null', async () => {
    const h = makeHarness();
    h.session.handle('{not json');
    h.session.handle('');
    await flushMany(2);
    expect(h.sent).toHaveLength(2);
    for (const f of h.sent) {
      expect(f).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.any(String) } });
    }
  });

  test.each([
    ['number', '42', null],
    ['string', '"hello"', null],
    ['null', 'null', null],
    ['true', 'true', null],
    ['array', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', null],
    ['empty array', '[]', null],
    ['missing jsonrpc', '{"id":3,"method":"ping"}', 3],
    ['wrong jsonrpc', '{"jsonrpc":"1.0","id":4,"method":"ping"}', 4],
    ['numeric jsonrpc', '{"jsonrpc":2,"id":"x","method":"ping"}', 'x'],
    ['non-string method', '{"jsonrpc":"2.0","id":5,"method":7}', 5],
    ['missing method', '{"jsonrpc":"2.0","id":6}', 6],
    ['object id', '{"jsonrpc":"2.0","id":{},"method":"ping"}', null],
    ['boolean id', '{"jsonrpc":"2.0","id":true,"method":"ping"}', null],
    ['null id request', '{"jsonrpc":"2.0","id":null,"method":"ping"}', null],
    ['no id, no method', '{"jsonrpc":"2.0"}', null],
  ])('%s -> -32600', async (_name, text, id) => {
    const h = makeHarness();
    h.session.handle(text);
    await flushMany(2);
    expect(h.sent).toEqual([{ jsonrpc: '2.0', id, error: { code: -32600, message: expect.any(String) } }]);
  });

  test('responses (result or error, no method) are ignored', async () => {
    const h = makeHarness();
    h.session.handle('{"jsonrpc":"2.0","id":1,"result":{}}');
    h.session.handle('{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}');
    h.session.handle('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}');
    await flushMany(3);
    expect(h.sent).toEqual([]);
    expect(classify('{"jsonrpc":"2.0","id":1,"result":null}')).toEqual({ kind: 'response', id: 1 });
  });

  test('frame builders', () => {
    expect(JSON.parse(resultFrame(1, { a: 1 }))).toEqual({ jsonrpc: '2.0', id: 1, result: { a: 1 } });
    expect(JSON.parse(errorFrame(null, -1, 'm'))).toEqual({ jsonrpc: '2.0', id: null, error: { code: -1, message: 'm' } });
    expect(JSON.parse(errorFrame('x', -1, 'm', { d: 2 }))).toEqual({ jsonrpc: '2.0', id: 'x', error: { code: -1, message: 'm', data: { d: 2 } } });
    expect(JSON.parse(notificationFrame('n', { p: 1 }))).toEqual({ jsonrpc: '2.0', method: 'n', params: { p: 1 } });
  });

  test('string and number ids are echoed as given', async () => {
    const h = makeHarness();
    expect((await h.request('ping', undefined, 'abc')).id).toBe('abc');
    expect((await h.request('ping', undefined, 0)).id).toBe(0);
    expect((await h.request('ping', undefined, -7)).id).toBe(-7);
  });
});

describe('MCP methods', () => {
  test('unknown method -> -32601', async () => {
    const h = makeHarness();
    const f = await h.request('no/such/method', {});
    expect(f.error?.code).toBe(-32601);
    expect(f.result).toBeUndefined();
  });

  test('initialize echoes a supported protocolVersion', async () => {
    const h = makeHarness();
    for (const v of SUPPORTED_PROTOCOL_VERSIONS) {
      const f = await h.request('initialize', {
        protocolVersion: v, capabilities: { roots: {}, elicitation: {} }, clientInfo: { name: 'claude-code', version: '2.1.197' },
      });
      expect(f.result.protocolVersion).toBe(v);
      expect(f.result.capabilities.tools).toEqual({ listChanged: true });
      expect(f.result.serverInfo).toEqual(SERVER_INFO);
    }
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain('2025-11-25');
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain('2024-11-05');
  });

  test.each([
    ['unsupported version', { protocolVersion: '1999-01-01' }],
    ['non-string version', { protocolVersion: 20251125 }],
    ['no params', undefined],
    ['array params', [1, 2]],
    ['string params', 'x'],
  ])('initialize with %s falls back to the newest supported version', async (_n, params) => {
    const h = makeHarness();
    const f = await h.request('initialize', params);
    expect(f.error).toBeUndefined();
    expect(f.result.protocolVersion).toBe(SUPPORTED_PROTOCOL_VERSIONS[0]);
  });

  test('ping -> {}', async () => {
    const h = makeHarness();
    expect((await h.request('ping')).result).toEqual({});
  });

  test('resources/list -> {resources: []}', async () => {
    const h = makeHarness();
    expect((await h.request('resources/list', {})).result).toEqual({ resources: [] });
  });

  test('prompts/list -> {prompts: []}', async () => {
    const h = makeHarness();
    expect((await h.request('prompts/list', {})).result).toEqual({ prompts: [] });
  });

  test('tools/list: stable order, every listed tool has a schema, close_tab not listed', async () => {
    const h = makeHarness();
    const a = (await h.request('tools/list', {})).result.tools as Array<{ name: string; description: string; inputSchema: any }>;
    const b = (await h.request('tools/list')).result.tools;
    expect(b).toEqual(a);
    const names = a.map((t) => t.name);
    expect(names).toEqual([
      'openFile', 'openDiff', 'getCurrentSelection', 'getLatestSelection', 'getOpenEditors',
      'getWorkspaceFolders', 'getDiagnostics', 'checkDocumentDirty', 'saveDocument', 'closeAllDiffTabs',
    ]);
    expect(names).not.toContain('close_tab');
    expect(ALL_TOOLS.map((t) => t.name)).toContain('close_tab');
    for (const t of a) {
      expect(Object.keys(t).sort()).toEqual(['description', 'inputSchema', 'name']);
      expect(t.inputSchema.type).toBe('object');
      expect(typeof t.inputSchema.properties).toBe('object');
      expect(t.description.length).toBeGreaterThan(0);
      for (const r of t.inputSchema.required ?? []) expect(t.inputSchema.properties).toHaveProperty(r);
    }
    expect(a.find((t) => t.name === 'openDiff')!.inputSchema.required).toEqual(
      ['old_file_path', 'new_file_path', 'new_file_contents', 'tab_name'],
    );
  });

  test('close_tab is callable although unlisted', async () => {
    const h = makeHarness();
    const f = await h.call('close_tab', { tab_name: 'nothing open' });
    expect(f.result).toEqual({ content: [{ type: 'text', text: 'TAB_CLOSED' }] });
  });

  test.each([
    ['no params', undefined],
    ['null params', null],
    ['array params', [{ name: 'getOpenEditors' }]],
    ['string params', 'getOpenEditors'],
    ['missing name', { arguments: {} }],
    ['numeric name', { name: 5, arguments: {} }],
    ['unknown tool', { name: 'rm_rf', arguments: {} }],
    ['array arguments', { name: 'getOpenEditors', arguments: [] }],
    ['string arguments', { name: 'getOpenEditors', arguments: 'x' }],
    ['numeric arguments', { name: 'getOpenEditors', arguments: 3 }],
  ])('tools/call with %s -> -32602', async (_n, params) => {
    const h = makeHarness();
    const f = await h.request('tools/call', params);
    expect(f.error?.code).toBe(-32602);
    expect(f.result).toBeUndefined();
  });

  test('tools/call with no arguments (or null) is treated as {}', async () => {
    const h = makeHarness();
    expect((await h.request('tools/call', { name: 'getOpenEditors' })).result).toBeDefined();
    expect((await h.request('tools/call', { name: 'getOpenEditors', arguments: null })).result).toBeDefined();
  });

  test('tools/call ignores _meta', async () => {
    const h = makeHarness();
    const f = await h.request('tools/call', {
      name: 'getOpenEditors', arguments: {}, _meta: { 'claudecode/toolUseId': 'toolu_1', progressToken: 3 },
    });
    expect(f.result).toEqual({ content: [{ type: 'text', text: '{"tabs":[]}' }] });
  });

  test('a tool that throws a plain Error -> -32603 and the session keeps working', async () => {
    const h = makeHarness();
    h.editor.getOpenEditors = () => { throw new Error('editor exploded'); };
    const f = await h.call('getOpenEditors', {});
    expect(f.error).toEqual({ code: -32603, message: 'editor exploded' });
    h.editor.getCurrentSelection = (() => Promise.reject(new Error('async boom'))) as any;
    const g = await h.call('getCurrentSelection', {});
    expect(g.error).toEqual({ code: -32603, message: 'async boom' });
    h.editor.getLatestSelection = () => { throw 'a string'; };
    const s = await h.call('getLatestSelection', {});
    expect(s.error?.code).toBe(-32603);
    expect((await h.request('ping')).result).toEqual({});
    expect((await h.call('getWorkspaceFolders', {})).result).toBeDefined();
  });

  test('notifications get no reply', async () => {
    const h = makeHarness();
    h.notify('notifications/initialized');
    h.notify('ide_connected', { pid: 4242 });
    h.notify('notifications/cancelled', { requestId: 99 });
    h.notify('some/unknown/notification', { x: 1 });
    h.notify('tools/list');
    await flushMany(3);
    expect(h.sent).toEqual([]);
  });

  test('notifications/initialized calls onInitialized', async () => {
    const h = makeHarness();
    expect(h.initializedCount()).toBe(0);
    h.notify('notifications/initialized', {});
    expect(h.initializedCount()).toBe(1);
  });

  test('ide_connected with a valid pid reports it', () => {
    const h = makeHarness();
    h.notify('ide_connected', { pid: 12345 });
    expect(h.pids).toEqual([12345]);
  });

  test.each([
    ['no params', undefined],
    ['null params', null],
    ['string pid', { pid: '12345' }],
    ['zero pid', { pid: 0 }],
    ['negative pid', { pid: -5 }],
    ['fractional pid', { pid: 1.5 }],
    ['NaN-ish pid', { pid: null }],
    ['array params', [12345]],
    ['string params', 'pid'],
  ])('ide_connected with %s is ignored', (_n, params) => {
    const h = makeHarness();
    h.notify('ide_connected', params);
    expect(h.pids).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  test('a request with a notification method name is still a request (-32601)', async () => {
    const h = makeHarness();
    const f = await h.request('notifications/initialized', {});
    expect(f.error?.code).toBe(-32601);
    expect(h.initializedCount()).toBe(0);
  });
});

describe('handle() never throws', () => {

  function randomValue(r: () => number, depth: number): unknown {
    const k = Math.floor(r() * (depth > 3 ? 6 : 8));
    switch (k) {
      case 0: return null;
      case 1: return r() < 0.5;
      case 2: return [0, -1, 1.5, 1e308, -0, 2 ** 53, Math.floor(r() * 1e6)][Math.floor(r() * 7)];
      case 3: return ['', 'x', '2.0', 'tools/call', 'openDiff', '\u0000', '日本', '😀', '__proto__'][Math.floor(r() * 9)];
      case 4: return randomMethod(r);
      case 5: return undefined;
      case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        const keys = ['jsonrpc', 'id', 'method', 'params', 'name', 'arguments', 'result', 'error', 'pid', 'requestId',
          'protocolVersion', 'uri', 'filePath', 'tab_name', 'old_file_path', 'new_file_path', 'new_file_contents',
          '__proto__', 'constructor', 'startLine', 'makeFrontmost'];
        const n = Math.floor(r() * 6);
        for (let i = 0; i < n; i++) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
        return o;
      }
    }
  }

  function randomMethod(r: () => number): string {
    const m = ['initialize', 'ping', 'tools/list', 'tools/call', 'prompts/list', 'resources/list', 'ide_connected',
      'notifications/initialized', 'notifications/cancelled', 'x', ''];
    return m[Math.floor(r() * m.length)];
  }

  function randomMessage(r: () => number): string {
    const kind = Math.floor(r() * 5);
    if (kind === 0) {
      // Raw junk characters.
      const len = Math.floor(r() * 40);
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 0x3000));
      return s;
    }
    if (kind === 1) return JSON.stringify(randomValue(r, 0)) ?? 'undefined';
    // Almost-valid messages with random fields.
    const tools = ALL_TOOLS.map((t) => t.name);
    const msg: Record<string, unknown> = {
      jsonrpc: r() < 0.9 ? '2.0' : randomValue(r, 3),
      method: r() < 0.9 ? (r() < 0.5 ? 'tools/call' : randomMethod(r)) : randomValue(r, 3),
    };
    if (r() < 0.8) msg.id = r() < 0.8 ? Math.floor(r() * 1000) : randomValue(r, 3);
    msg.params = r() < 0.6
      ? { name: tools[Math.floor(r() * tools.length)], arguments: randomValue(r, 1) }
      : randomValue(r, 1);
    return JSON.stringify(msg);
  }

  test('random strings, random JSON values and near-valid messages', async () => {
    const h = makeHarness();
    h.editor.autoDiff = 'reject';
    const r = prng(12345);
    for (let i = 0; i < 3000; i++) {
      const m = randomMessage(r);
      expect(() => h.session.handle(m)).not.toThrow();
    }
    await flushMany(10);
    // Every frame sent is valid JSON-RPC 2.0 and every error has a standard code.
    for (const f of h.sent as Frame[]) {
      expect(f.jsonrpc).toBe('2.0');
      if (f.error) expect([-32700, -32600, -32601, -32602, -32603]).toContain(f.error.code);
    }
    // Still alive afterwards.
    expect((await h.request('ping', undefined, 'after-junk')).result).toEqual({});
  });

  test('deeply nested objects and arrays', async () => {
    const h = makeHarness();
    // Built as text: far deeper than JSON.stringify could produce.
    const deep = '{"a":'.repeat(20000) + '1' + '}'.repeat(20000);
    const deepArr = '['.repeat(100000);
    const inputs = [
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"openFile","arguments":{"filePath":${deep}}}}`,
      `{"jsonrpc":"2.0","id":2,"method":"initialize","params":${deep}}`,
      `{"jsonrpc":"2.0","method":"ide_connected","params":{"pid":${deep}}}`,
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":${deep}}`,
      deepArr,
      '{"a":'.repeat(200000) + '1' + '}'.repeat(200000),
    ];
    for (const m of inputs) expect(() => h.session.handle(m)).not.toThrow();
    await flushMany(5);
    expect(h.replyTo(1)?.error?.code).toBe(-32602);
    expect(h.replyTo(2)?.result?.protocolVersion).toBe(SUPPORTED_PROTOCOL_VERSIONS[0]);
    expect(h.replyTo(3)?.error?.code).toBe(-32602);
    expect(h.pids).toEqual([]);
    expect((await h.request('ping', undefined, 'after-deep')).result).toEqual({});
  });

  test('prototype-pollution shaped input does not reach tools', async () => {
    const h = makeHarness();
    h.session.handle('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"__proto__","arguments":{}}}');
    h.session.handle('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"constructor","arguments":{}}}');
    h.session.handle('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"toString","arguments":{}}}');
    await flushMany(3);
    for (const id of [1, 2, 3]) expect(h.replyTo(id)?.error?.code).toBe(-32602);
    expect(({} as any).polluted).toBeUndefined();
  });
});
