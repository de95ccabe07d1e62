/** The fake Messages API on its own (fast; no CLI needed). */
import { FakeMessagesApi, say, useTool } from './fakeMessagesApi';

interface SseEvent { event: string; data: Record<string, any> }

function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    const event = /^event: (.*)$/m.exec(block)![1];
    const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]);
    return { event, data };
  });
}

const tools = [{ name: 'Read' }, { name: 'Edit' }];

describe('FakeMessagesApi', () => {
  let api: FakeMessagesApi;
  afterEach(async () => { await api?.stop(); });

  test('replays the script as SSE, turn chosen by the assistant messages so far, and records tool results', async () => {
    api = await FakeMessagesApi.start({
      script: [useTool('Edit', { file_path: '/x', old_string: 'a', new_string: 'b' }, 'Editing.'), say('done')],
    });
    const post = (messages: unknown[]): Promise<Response> => fetch(`${api.baseUrl}/v1/messages?beta=true`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, max_tokens: 100, tools, messages }),
    });

    const r0 = await post([{ role: 'user', content: 'go' }]);
    expect(r0.headers.get('content-type')).toMatch(/text\/event-stream/);
    const ev0 = parseSse(await r0.text());
    expect(ev0.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    expect(ev0[1].data.content_block).toEqual({ type: 'text', text: '' });
    expect(ev0[2].data.delta).toEqual({ type: 'text_delta', text: 'Editing.' });
    const toolStart = ev0[4].data.content_block;
    expect(toolStart).toMatchObject({ type: 'tool_use', name: 'Edit', input: {} });
    expect(ev0[5].data.delta.type).toBe('input_json_delta');
    expect(JSON.parse(ev0[5].data.delta.partial_json)).toEqual({ file_path: '/x', old_string: 'a', new_string: 'b' });
    expect(ev0[7].data.delta.stop_reason).toBe('tool_use');

    const r1 = await post([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: toolStart.id, name: 'Edit', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolStart.id, content: [{ type: 'text', text: 'ok!' }] }] },
    ]);
    const ev1 = parseSse(await r1.text());
    expect(ev1[2].data.delta).toEqual({ type: 'text_delta', text: 'done' });
    expect(ev1.find((e) => e.event === 'message_delta')!.data.delta.stop_reason).toBe('end_turn');
    expect(api.turnsServed).toEqual([0, 1]);
    expect(api.resultsFor('Edit')).toEqual([{ toolUseId: toolStart.id, toolName: 'Edit', isError: false, text: 'ok!' }]);
  });

  test('answers side requests: non-streaming messages, token counting, /api paths', async () => {
    api = await FakeMessagesApi.start({ script: [say('main only')] });
    const side = await fetch(`${api.baseUrl}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku', max_tokens: 50, system: 'Generate a short title', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const msg = await side.json() as { type: string; content: Array<{ type: string; text: string }>; stop_reason: string };
    expect(msg.type).toBe('message');
    expect(msg.content[0].type).toBe('text');
    expect(msg.content[0].text).not.toBe('main only');
    expect(msg.stop_reason).toBe('end_turn');

    const count = await fetch(`${api.baseUrl}/v1/messages/count_tokens?beta=true`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [] }),
    });
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect((await fetch(`${api.baseUrl}/api/hello`)).status).toBe(200);

    expect(api.requests.map((r) => [r.path, r.kind, r.model, r.stream])).toEqual([
      ['/v1/messages', 'side', 'claude-haiku', false],
      ['/v1/messages/count_tokens', 'side', 'm', false],
      ['/api/hello', 'side', undefined, false],
    ]);
    expect(api.mainRequests).toHaveLength(0);
  });
});
